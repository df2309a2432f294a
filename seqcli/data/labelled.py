"""Labelled text for classification: (text, label) pairs from the layouts people actually have.

Supported inputs (chosen by `read_labelled` from the path):

- ``.csv`` / ``.tsv`` (or a ``.txt`` whose first line has a tab): one row per example. The
  text and label columns are declared (``text_column`` / ``label_column``: a header name, or a
  0-based index for files without a header) or found from a header with usual names
  (``text``/``sentence``/``review``..., ``label``/``sentiment``/``class``...). A two-column
  file without a header works too: the column with fewer distinct values is the label. Rows,
  quoting (none for TSV: GLUE files hold bare ``"``; RFC 4180 for CSV) and column lookup
  come from `seqcli.data.columns`, shared with the texts to classify.
- ``.jsonl`` / ``.ndjson``: one JSON object per line with a text and a label field.
- a folder with one sub-folder of ``.txt`` files per label (IMDB's ``aclImdb/train/pos|neg``;
  its unlabelled ``unsup`` folder is skipped);
- a folder of paired files, one file per label named by its suffix (``rt-polarity.pos`` and
  ``rt-polarity.neg``: every non-blank line is one example; README files are ignored).

Files are decoded as UTF-8, falling back to Windows-1252 when they are not valid UTF-8 (never
to latin-1 first: cp1252's curly quotes and dashes would become control characters), unless
an encoding is given. Labels are arbitrary strings. Anything malformed raises one `DataError`
line naming the file and line.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from seqcli.data.columns import (DELIMITERS, JSONL_SUFFIXES, LABEL_NAMES, TEXT_NAMES, Row,
                                 find_column, header_names, json_key, json_rows, json_string,
                                 table_rows)
from seqcli.data.text import read_text
from seqcli.errors import DataError

SKIPPED_FOLDERS = ("unsup",)  # IMDB's unlabelled reviews


@dataclass
class LabelledData:
    texts: list[str]
    labels: list[str]
    source: str  # file or folder, for messages

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int]) -> "LabelledData":
        return LabelledData([self.texts[i] for i in indices], [self.labels[i] for i in indices],
                            self.source)


def read_labelled(path: Path, *, text_column: str | None = None,
                  label_column: str | None = None, encoding: str | None = None) -> LabelledData:
    """Read any supported labelled file or folder (see the module docstring)."""
    path = Path(path)
    if path.is_dir():
        return read_folder(path, encoding=encoding)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return read_jsonl(path, text_column=text_column, label_column=label_column,
                          encoding=encoding)
    text = read_text(path, encoding=encoding)
    delimiter = DELIMITERS.get(suffix)
    if delimiter is None and "\t" in text.split("\n", 1)[0]:
        delimiter = "\t"
    if delimiter is not None:
        return parse_table(text, delimiter, path, text_column=text_column,
                           label_column=label_column)
    raise DataError(f"{path}: cannot tell the format of this labelled file; use .csv, .tsv "
                    f"or .jsonl, a folder with one sub-folder per label, or paired files")


def parse_table(text: str, delimiter: str, path: Path, *, text_column: str | None = None,
                label_column: str | None = None) -> LabelledData:
    """Rows of a CSV/TSV document -> LabelledData, with header detection.

    All rows are held: telling a header from data in a two-column file without usual names
    compares the first row with the values of the rest.
    """
    rows = list(table_rows(io.StringIO(text), delimiter, path))
    if not rows:
        raise DataError(f"{path}: has no rows")
    text_i, label_i, header = find_columns(rows, text_column, label_column, path)
    width = len(rows[0][1])
    texts, labels = [], []
    for line, fields in rows[1:] if header else rows:
        if len(fields) != width:
            raise DataError(f"{path}:{line}: ragged row: {len(fields)} fields where the "
                            f"{'header' if header else 'first row'} has {width}")
        texts.append(_need_text(fields[text_i], path, line))
        labels.append(_need_label(fields[label_i], path, line))
    return checked(LabelledData(texts, labels, str(path)))


def find_columns(rows: list[Row], text_column: str | None, label_column: str | None,
                 path: Path) -> tuple[int, int, bool]:
    """(text index, label index, first row is a header) for a table's rows."""
    first = header_names(rows[0][1])
    declared = [c for c in (text_column, label_column) if c is not None]
    # A first row naming both columns is a header; with two columns, naming one is enough (the
    # other is the label, or the text), so "text,sentiment_score" needs no declaration.
    has_text = any(n in first for n in TEXT_NAMES)
    has_label = any(n in first for n in LABEL_NAMES)
    named = any(c.lower() in first for c in declared) or not declared and (
        (has_text and has_label) or (len(first) == 2 and (has_text or has_label)))
    if named or declared:
        text_i = _column(first, text_column, TEXT_NAMES, path, "text", named)
        label_i = _column(first, label_column, LABEL_NAMES, path, "label", named)
        if text_i is None or label_i is None:  # one declared, the other is "the other one"
            if len(first) != 2:
                raise DataError(f"{path}: {len(first)} columns; pass both --text-column and "
                                f"--label-column")
            text_i = 1 - label_i if text_i is None else text_i
            label_i = 1 - text_i if label_i is None else label_i
        return text_i, label_i, named
    if len(first) != 2:
        raise DataError(f"{path}: cannot tell which of the {len(first)} columns holds the text "
                        f"and which the label; pass --text-column and --label-column")
    data = [fields for _, fields in rows[1:] if len(fields) == 2] or [rows[0][1]]
    distinct = [len({r[i] for r in data}) for i in (0, 1)]
    label_i = 0 if distinct[0] < distinct[1] else 1
    header = len(rows) > 1 and rows[0][1][label_i] not in {r[label_i] for r in data} \
        and distinct[label_i] < len(data)
    return 1 - label_i, label_i, header


def _column(header: list[str], declared: str | None, known: tuple[str, ...], path: Path,
            what: str, named: bool) -> int | None:
    """A declared column, or a usual name only when the first row is a header (`named`)."""
    if declared is None and not named:
        return None
    return find_column(header, declared, known, path, what)[0]


def read_jsonl(path: Path, *, text_column: str | None = None, label_column: str | None = None,
               encoding: str | None = None) -> LabelledData:
    """One JSON object per line with a text field and a label field."""
    texts, labels = [], []
    text_key = label_key = None
    for line, record in json_rows(read_text(path, encoding=encoding).split("\n"), path):
        if text_key is None:
            text_key = json_key(record, text_column, TEXT_NAMES, path, line, "text")
            label_key = json_key(record, label_column, LABEL_NAMES, path, line, "label")
        texts.append(_need_text(json_string(record, text_key, path, line), path, line))
        labels.append(_need_label(_label_string(record.get(label_key)), path, line))
    return checked(LabelledData(texts, labels, str(path)))


def _label_string(value: object) -> str:
    """A JSON label as a class name: 1 -> "1", true -> "true"; null/objects -> "" (missing)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_folder(path: Path, *, encoding: str | None = None) -> LabelledData:
    """Folder-per-label of .txt documents, or paired files (one file per label)."""
    subdirs = sorted(d for d in path.iterdir() if d.is_dir() and not d.name.startswith(".")
                     and d.name not in SKIPPED_FOLDERS and any(d.glob("*.txt")))
    nested = [d.name for d in subdirs if any(d.glob("*/*.txt"))]
    if nested:  # e.g. aclImdb/ itself: train/ and test/ each hold pos/ and neg/
        raise DataError(f"{path}: holds folders of labelled folders ({', '.join(nested)}); "
                        f"pass one of them, e.g. {path / nested[-1]}")
    if subdirs:
        texts, labels = [], []
        for folder in subdirs:
            for file in sorted(folder.glob("*.txt")):
                texts.append(_need_text(read_text(file, encoding=encoding), file, 1))
                labels.append(folder.name)
        return checked(LabelledData(texts, labels, str(path)))
    files = [f for f in sorted(path.iterdir()) if f.is_file() and not f.name.startswith(".")
             and "readme" not in f.name.lower() and f.suffix.lower() != ".md"]
    stems = {f.stem for f in files}
    if len(files) >= 2 and len(stems) == 1 and all(f.suffix for f in files):
        return read_paired({f.suffix[1:]: f for f in files}, encoding=encoding)
    raise DataError(f"{path}: a labelled folder needs one sub-folder of .txt files per label "
                    f"(pos/, neg/, ...) or one file per label (name.pos, name.neg, ...)")


def read_paired(files: Mapping[str, Path], *, encoding: str | None = None) -> LabelledData:
    """label -> file; every non-blank line of a file is one example of its label."""
    texts, labels = [], []
    for label, file in files.items():
        for line in read_text(file, encoding=encoding).split("\n"):
            if line.strip():
                texts.append(line.strip())
                labels.append(label)
    return checked(LabelledData(texts, labels, ", ".join(str(f) for f in files.values())))


def _need_text(value: str, path: Path, line: int) -> str:
    value = value.strip()
    if not value:
        raise DataError(f"{path}:{line}: empty text")
    return value


def _need_label(value: str, path: Path, line: int) -> str:
    value = value.strip()
    if not value:
        raise DataError(f"{path}:{line}: missing label")
    return value


def checked(data: LabelledData) -> LabelledData:
    """Refuse data a classifier cannot learn from: no rows, or a single class."""
    if not data.texts:
        raise DataError(f"{data.source}: has no labelled examples")
    classes = set(data.labels)
    if len(classes) < 2:
        raise DataError(f"{data.source}: every example has the label {classes.pop()!r}; "
                        f"a classifier needs at least two classes")
    return data


def stratified_split(labels: Sequence[str], fraction: float,
                     seed: int) -> tuple[list[int], list[int]]:
    """(train, validation) indices holding out `fraction` of each class, seeded.

    Every class with two or more examples gives at least one to validation and keeps one.
    """
    by_class: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    generator = torch.Generator().manual_seed(seed)
    train, val = [], []
    for label in sorted(by_class):
        members = by_class[label]
        order = torch.randperm(len(members), generator=generator).tolist()
        take = min(len(members) - 1, max(1, round(len(members) * fraction)))
        val += [members[k] for k in order[:take]]
        train += [members[k] for k in order[take:]]
    return sorted(train), sorted(val)


def stratified_folds(labels: Sequence[str], k: int, seed: int) -> list[list[int]]:
    """`k` disjoint folds covering every index, each class dealt round-robin (for CV)."""
    generator = torch.Generator().manual_seed(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    by_class: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    dealt = 0
    for label in sorted(by_class):
        members = by_class[label]
        for j in torch.randperm(len(members), generator=generator).tolist():
            folds[dealt % k].append(members[j])
            dealt += 1
    return [sorted(f) for f in folds]
