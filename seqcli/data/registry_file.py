"""corpora/registry.json: its entries (`Corpus`, its files and source) and the checks that turn
the JSON into them, so a malformed registry fails at once with the entry and key it lacks."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from seqcli.choices import TASKS
from seqcli.data.download import ARCHIVE_TYPES, safe_join
from seqcli.errors import DataError

FORMATS = ("text", "paired", "tsv")  # plain text | one file per label | TSV with a header
SPLITS = ("train", "validation")
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


@functools.lru_cache(maxsize=1)
def registry() -> tuple[Corpus, ...]:
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
