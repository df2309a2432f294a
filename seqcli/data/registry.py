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
import functools
import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from rich.console import Console

from seqcli.data.download import (ARCHIVE_TYPES, DEFAULT_TIMEOUT, DownloadError, download,
                                  extract_members, safe_join)
from seqcli.errors import ChecksumError, CorpusNotFoundError, DataError

TASKS = ("lm", "classify")
FORMATS = ("text", "paired", "tsv")  # plain text | one file per label | TSV with a header
SPLITS = ("train", "validation")
CACHE_SUBDIR = "corpora"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CorpusFile:
    """One file of a corpus, as laid out in a mirror folder or the cache."""

    path: str  # relative POSIX path, e.g. "sst2/train.tsv"
    sha256: str
    size: int  # bytes
    split: str = "train"  # "train" | "validation"
    label: str | None = None  # the label of every line ("paired" format)
    member: str | None = None  # its name inside the source archive, if any


@dataclass(frozen=True)
class CorpusSource:
    url: str
    archive: str = "none"  # "none" | "tar.gz" | "zip"
    md5: str | None = None  # published checksum of the archive, for reference only


@dataclass(frozen=True)
class Corpus:
    name: str
    task: str  # "lm" | "classify"
    format: str  # "text" | "paired" | "tsv"
    encoding: str
    description: str
    licence: str
    citation: str
    files: tuple[CorpusFile, ...]
    source: CorpusSource
    homepage: str | None = None
    text_column: str | None = None  # "tsv": column names
    label_column: str | None = None
    label_names: Mapping[str, str] = field(default_factory=dict, hash=False)  # raw -> name

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def labels(self) -> tuple[str, ...]:
        """Label names, sorted (empty for language-model corpora)."""
        names = set(self.label_names.values()) | {f.label for f in self.files if f.label}
        return tuple(sorted(names))

    def split_files(self, split: str) -> tuple[CorpusFile, ...]:
        return tuple(f for f in self.files if f.split == split)


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
    return list(_registry())


def get_corpus(name: str) -> Corpus:
    for corpus in _registry():
        if corpus.name == name:
            return corpus
    names = [c.name for c in _registry()]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise CorpusNotFoundError(f"unknown corpus {name!r}{hint}; known corpora: {', '.join(names)}")


def looks_like_path(text: str) -> bool:
    """True for strings with a folder separator or a dot-suffix (never a registry name)."""
    return ("/" in text or "\\" in text or PurePosixPath(text).suffix != ""
            or text in (".", "..", "~"))


def lookup(name_or_path: str) -> Corpus | Path:
    """A registry Corpus for a bare known name, else an existing Path; errors otherwise."""
    if any(c.name == name_or_path for c in _registry()):
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


# --- loading and checking registry.json ---------------------------------------------------


@functools.lru_cache(maxsize=1)
def _registry() -> tuple[Corpus, ...]:
    try:
        text = resources.files("seqcli.corpora").joinpath("registry.json").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as err:
        raise DataError(f"the corpus registry is missing from this installation ({err}); "
                        "reinstall seqcli") from None
    return parse_registry(json.loads(text))


def parse_registry(document: Mapping[str, Any]) -> tuple[Corpus, ...]:
    """Check a registry document (the parsed JSON) and turn it into Corpus objects."""
    if document.get("schema_version") != 1:
        raise DataError("corpus registry: unsupported schema_version (expected 1)")
    corpora = [_parse_corpus(entry) for entry in _need(document, "corpora", list, "registry")]
    names = [c.name for c in corpora]
    if len(set(names)) != len(names):
        raise DataError(f"corpus registry: duplicate names in {names}")
    return tuple(corpora)


def _parse_corpus(entry: Mapping[str, Any]) -> Corpus:
    if not isinstance(entry, Mapping):
        raise DataError("corpus registry: each corpus must be an object")
    name = _need(entry, "name", str, "corpus")
    where = f"corpus {name!r}"
    if not _NAME.match(name):
        raise DataError(f"corpus registry: {where}: names are lower-case letters, digits and '-'")
    task, fmt = _need(entry, "task", str, where), _need(entry, "format", str, where)
    if task not in TASKS or fmt not in FORMATS:
        raise DataError(f"corpus registry: {where}: task must be one of {TASKS}, "
                        f"format one of {FORMATS}")
    src = _need(entry, "source", dict, where)
    archive = src.get("archive", "none")
    if archive not in ARCHIVE_TYPES:
        raise DataError(f"corpus registry: {where}: archive must be one of {ARCHIVE_TYPES}")
    members = src.get("members", {})
    files = tuple(_parse_file(f, where, members.get(f.get("path")) if isinstance(f, dict) else None)
                  for f in _need(entry, "files", list, where))
    if not files or (archive == "none" and len(files) != 1):
        raise DataError(f"corpus registry: {where}: needs one file per plain URL, or an archive")
    if archive != "none" and any(f.member is None for f in files):
        raise DataError(f"corpus registry: {where}: source.members must name every file")
    if fmt == "paired" and any(f.label is None for f in files):
        raise DataError(f"corpus registry: {where}: every file of a paired corpus needs a label")
    columns = entry.get("columns", {})
    if fmt == "tsv" and not {"text", "label"} <= set(columns):
        raise DataError(f"corpus registry: {where}: a tsv corpus needs columns.text and "
                        "columns.label")
    return Corpus(
        name=name, task=task, format=fmt, encoding=entry.get("encoding", "utf-8"),
        description=_need(entry, "description", str, where),
        licence=_need(entry, "licence", str, where), citation=_need(entry, "citation", str, where),
        files=files, source=CorpusSource(_need(src, "url", str, where), archive, src.get("md5")),
        homepage=entry.get("homepage"), text_column=columns.get("text"),
        label_column=columns.get("label"),
        label_names=MappingProxyType(dict(entry.get("label_names", {}))),
    )


def _parse_file(entry: Any, where: str, member: str | None) -> CorpusFile:
    if not isinstance(entry, dict):
        raise DataError(f"corpus registry: {where}: each file must be an object")
    path = _need(entry, "path", str, where)
    sha, size = _need(entry, "sha256", str, where), _need(entry, "size", int, where)
    safe_join(Path("/registry"), path)  # relative, no '..'
    split = entry.get("split", "train")
    if not _SHA256.match(sha) or size < 0 or split not in SPLITS:
        raise DataError(f"corpus registry: {where}: file {path!r} needs a lower-case hex sha256, "
                        f"a size >= 0 and a split in {SPLITS}")
    return CorpusFile(path, sha, size, split, entry.get("label"), member)


def _need(entry: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DataError(f"corpus registry: {where}: {key!r} must be a {kind.__name__}")
    return value
