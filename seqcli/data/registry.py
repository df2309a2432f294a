"""Named corpora (corpora/registry.json, installed as `seqcli.corpora`) and their resolution.

`resolve_corpus(name_or_path)` finds local files in this order:

1. a path the user gave (file or folder), used as is;
2. `data_dir/<path>` for each registry file: a mirror folder ($SEQCLI_DATA in the CLI) laid out
   like the registry paths (timemachine.txt, sst2/train.tsv, ...); trusted, but its size must
   match;
3. `cache_dir/corpora/<path>`, verified by SHA-256 when it was stored;
4. a download into that cache, verified by SHA-256 before it is moved into place.

A bare registry name means the registry entry even when a file of that name happens to exist in
the working folder (write `./NAME` to mean the file), so `--corpus sst2` cannot be hijacked by a
stray `sst2/` folder.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from rich.console import Console

from seqcli.data.download import (DEFAULT_TIMEOUT, DownloadError, download, extract_members,
                                  safe_join)
from seqcli.data.registry_file import Corpus, CorpusFile, registry
from seqcli.errors import ChecksumError, CorpusNotFoundError, DataError

CACHE_SUBDIR = "corpora"


@dataclass(frozen=True)
class ResolvedCorpus:
    """Local files for a corpus name, or a path the user gave (then `corpus` is None)."""

    corpus: Corpus | None
    paths: Mapping[str, Path]  # registry path (or the user path's name) -> local path
    origins: Mapping[str, str]  # same keys -> "path" | "mirror" | "cache" | "download"
    root: Path | None  # the user's path, or the one folder all files were found under

    def path(self, relative: str | None = None) -> Path:
        """The local path of registry file `relative`; without it, the only path."""
        if relative is None:
            if len(self.paths) != 1:
                raise ValueError(f"{len(self.paths)} files; name one of {sorted(self.paths)}")
            return next(iter(self.paths.values()))
        return self.paths[relative]

    def split_paths(self, split: str) -> list[Path]:
        if self.corpus is None:
            return list(self.paths.values()) if split == "train" else []
        return [self.paths[f.path] for f in self.corpus.split_files(split)]


def list_corpora() -> list[Corpus]:
    """Every registry entry, in registry order."""
    return list(registry())


def get_corpus(name: str) -> Corpus:
    for corpus in registry():
        if corpus.name == name:
            return corpus
    names = [c.name for c in registry()]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise CorpusNotFoundError(f"unknown corpus {name!r}{hint}; known corpora: {', '.join(names)}")


def looks_like_path(text: str) -> bool:
    """True for strings with a folder separator or a dot-suffix (never a registry name)."""
    return ("/" in text or "\\" in text or PurePosixPath(text).suffix != ""
            or text in (".", "..", "~"))


def lookup(name_or_path: str) -> Corpus | Path:
    """A registry Corpus for a bare known name, else an existing Path; errors otherwise."""
    if any(c.name == name_or_path for c in registry()):
        return get_corpus(name_or_path)
    path = Path(name_or_path).expanduser()
    if name_or_path and path.exists():
        return path
    if looks_like_path(name_or_path):
        raise DataError(f"{name_or_path}: no such file or directory")
    try:
        get_corpus(name_or_path)
    except CorpusNotFoundError as err:
        raise CorpusNotFoundError(f"no such file, and {err}") from None
    raise AssertionError("unreachable")  # pragma: no cover


def locate_file(file: CorpusFile, *, data_dir: Path | None,
                cache_dir: Path) -> tuple[Path, str] | None:
    """Where `file` is available locally without downloading: (path, "mirror"|"cache") or None."""
    if data_dir is not None:
        candidate = Path(data_dir) / file.path
        if candidate.is_file():
            size = candidate.stat().st_size
            if size != file.size:
                raise ChecksumError(f"{candidate}: is {size} bytes but the registry's {file.path} "
                                    f"is {file.size} bytes; the mirror holds a different file")
            return candidate, "mirror"
    cached = Path(cache_dir) / CACHE_SUBDIR / file.path
    if cached.is_file() and cached.stat().st_size == file.size:
        return cached, "cache"
    return None  # a cached file of the wrong size is stale: the next download replaces it


def resolve_corpus(name_or_path: str, *, data_dir: Path | None, cache_dir: Path,
                   allow_download: bool = True, console: Console | None = None,
                   timeout: float = DEFAULT_TIMEOUT, task: str | None = None) -> ResolvedCorpus:
    """Local files for a corpus name or path (see the module docstring for the order).

    With `task`, a registry corpus made for the other task is refused before anything is
    located or downloaded.
    """
    found = lookup(name_or_path)
    if isinstance(found, Path):
        key = found.name or str(found)
        return ResolvedCorpus(None, {key: found}, {key: "path"}, found)
    corpus = found
    if task is not None and corpus.task != task:
        raise DataError(_wrong_task(corpus, task))
    located = {f.path: locate_file(f, data_dir=data_dir, cache_dir=cache_dir) for f in corpus.files}
    missing = [p for p, hit in located.items() if hit is None]
    if missing and not allow_download:
        raise CorpusNotFoundError(unavailable_message(corpus, "downloads are off"))
    if missing:
        try:
            fetched = download_corpus(corpus, cache_dir=cache_dir, only=missing,
                                      console=console, timeout=timeout)
        except DownloadError as err:  # unreachable or broken off: say how else to get it
            raise CorpusNotFoundError(unavailable_message(corpus, str(err))) from None
        # Anything else (a checksum mismatch, an unsafe or corrupt archive) is reported as it
        # is: offering other ways to get the file would hide a tampered download.
        located.update({p: (fetched[p], "download") for p in missing})
    paths = {p: hit[0] for p, hit in located.items()}
    origins = {p: hit[1] for p, hit in located.items()}
    bases = {Path(data_dir) if o == "mirror" else Path(cache_dir) / CACHE_SUBDIR
             for o in origins.values()}
    root = bases.pop() if len(bases) == 1 else None
    return ResolvedCorpus(corpus, MappingProxyType(paths), MappingProxyType(origins), root)


def _wrong_task(corpus: Corpus, task: str) -> str:
    if task == "lm":
        return (f"corpus {corpus.name!r} is a labelled ({corpus.task}) corpus; "
                f"use it with --task classify")
    return (f"corpus {corpus.name!r} is plain text for language models, without labels; "
            f"a classifier needs labelled data (e.g. --corpus sst2, rt-polarity, "
            f"or a CSV/TSV/JSONL file or labelled folder)")


def download_corpus(corpus: Corpus, *, cache_dir: Path, only: list[str] | None = None,
                    console: Console | None = None,
                    timeout: float = DEFAULT_TIMEOUT) -> dict[str, Path]:
    """Download (and extract) `corpus` into `cache_dir/corpora`, verified; path -> local path."""
    base = Path(cache_dir) / CACHE_SUBDIR
    files = [f for f in corpus.files if only is None or f.path in only]
    source = corpus.source
    if source.archive == "none":
        (file,) = files
        target = safe_join(base, file.path)
        download(source.url, target, sha256=file.sha256, timeout=timeout, console=console,
                 description=corpus.name)
        return {file.path: target}
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base, prefix=".download-") as tmp:
        archive = Path(tmp) / f"{corpus.name}.{source.archive}"
        download(source.url, archive, timeout=timeout, console=console, description=corpus.name)
        extracted = extract_members(archive, source.archive, {f.member: f.path for f in files},
                                    base, sha256={f.member: f.sha256 for f in files},
                                    sizes={f.member: f.size for f in files})
    return {f.path: extracted[f.member] for f in files}


def unavailable_message(corpus: Corpus, reason: str) -> str:
    """The one-line 'not found' message naming the three ways to supply the files."""
    paths = " and ".join(f.path for f in corpus.files)
    return (f"corpus {corpus.name!r} is not available locally and was not downloaded ({reason}). "
            f"Supply it in one of three ways: pass a path to the file(s) instead of the name; "
            f"set SEQCLI_DATA to a folder holding {paths}; "
            f"or run `seqcli corpus fetch {corpus.name}` while online.")
