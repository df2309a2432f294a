"""What every command shares: consoles, the environment read once, output helpers and the
--force option (the one overwrite rule: seqcli.atomic.refuse_to_replace).

Library code never reads the environment; `locations()` does it here, at the CLI edge, through
the same function the Python API uses, and passes plain values in.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from seqcli.atomic import write_text
from seqcli.locations import Locations, from_environment


class _PipedConsole(Console):
    """rich exits 1 by itself on a closed pipe; leave it to the CLI's one error boundary,
    which ends quietly with 141 as for any other write (seqcli classify ... | head -1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


# Progress, tables and messages go to stderr so that stdout carries only results
# (generated text, JSON documents) that scripts can pipe.
err_console = _PipedConsole(stderr=True, highlight=False)
out_console = _PipedConsole(highlight=False, soft_wrap=True)


# Every command that writes a file the user names (--out) replaces an existing one only with it
Force = Annotated[bool, typer.Option("--force", help="Replace the files at --out if they exist.")]


class _State:
    debug = False  # --debug: tracebacks instead of one-line errors
    argv: list[str] = []  # the command line as given (`seqcli train --nproc` passes it on)


state = _State()


def locations() -> Locations:
    """Runs folder ($SEQCLI_RUNS or ./runs), corpus mirror ($SEQCLI_DATA) and cache."""
    return from_environment(os.environ)


def print_json(document: Any) -> None:
    """Write one JSON document to stdout (no rich markup, no wrapping)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.flush()


def emit(out: Path | None, *, document: Any = None, page: str | None = None) -> None:
    """A JSON document or an HTML page: to stdout, or written whole (atomically) to `out`."""
    if out is None:
        if page is None:
            print_json(document)
        else:
            sys.stdout.write(page)
        return
    write_text(out, page if page is not None else json.dumps(document, indent=2) + "\n")
    err_console.print(f"wrote {out}", highlight=False, markup=False)
