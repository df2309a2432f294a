"""Where runs go and where corpora are looked for, resolved once at the edge.

Library code never reads the environment; the CLI and the Python API both call
`from_environment` with the process environment and pass the result down, so
``seqcli.train(corpus="timemachine")`` finds the same files as ``seqcli train`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Locations:
    runs: Path  # parent folder of run directories
    data: Path | None  # a local mirror of the corpus files, if any
    cache: Path  # where downloaded corpora are kept


def from_environment(environ: Mapping[str, str], *, runs: Path | str | None = None,
                     data: Path | str | None = None,
                     cache: Path | str | None = None) -> Locations:
    """Explicit values first, then SEQCLI_RUNS / SEQCLI_DATA / SEQCLI_CACHE, then defaults
    (./runs, no mirror, the XDG cache folder)."""
    runs = runs or environ.get("SEQCLI_RUNS") or "runs"
    data = data or environ.get("SEQCLI_DATA") or None
    return Locations(Path(runs), Path(data) if data else None,
                     Path(cache) if cache else default_cache(environ))


def default_cache(environ: Mapping[str, str]) -> Path:
    """$SEQCLI_CACHE, else $XDG_CACHE_HOME/seqcli, else ~/.cache/seqcli."""
    value = environ.get("SEQCLI_CACHE")
    if value:
        return Path(value)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "seqcli"
