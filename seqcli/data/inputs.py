"""Texts to classify, streamed from files or stdin without holding a whole file in memory.

- a plain text file: every non-blank line is one text (its 1-based line number is kept);
- ``.csv`` / ``.tsv`` / ``.jsonl``: one text per row, from the declared text column or the
  usual names (``text``, ``sentence``, ``review``...); a one-column table needs no name;
- ``document=True``: each file (or all of stdin) is one text;
- ``-``: standard input, with the same line rules.

Files are decoded like every other input (UTF-8, falling back to Windows-1252).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from seqcli.data.labelled import TEXT_NAMES, csv_error_reason, json_key
from seqcli.data.text import check_file, open_text_stream, read_text
from seqcli.errors import DataError

STDIN = "-"


@dataclass(frozen=True)
class InputText:
    source: str  # the file as given, or "-" for stdin
    line: int | None  # 1-based line (row) number; None when the whole file is one text
    text: str


def check_sources(sources: Iterable[str]) -> None:
    """Fail on a missing file before any work (or output) starts, not halfway through."""
    for source in sources:
        if source != STDIN:
            check_file(Path(source))


def iter_inputs(sources: Iterable[str], *, document: bool = False,
                text_column: str | None = None, stdin: TextIO | None = None) -> Iterator[InputText]:
    """Every text of every source, in order (see the module docstring)."""
    for source in sources:
        if source == STDIN:
            if stdin is None:
                raise DataError("'-' (standard input) is not available here")
            yield from _from_lines(source, stdin, document)
            continue
        path = Path(source)
        suffix = path.suffix.lower()
        if document:
            text = read_text(path).strip()
            if text:
                yield InputText(source, None, text)
        elif suffix in (".csv", ".tsv"):
            yield from _from_table(source, path, "," if suffix == ".csv" else "\t", text_column)
        elif suffix in (".jsonl", ".ndjson"):
            yield from _from_jsonl(source, path, text_column)
        else:
            yield from _from_lines(source, iter_lines(path), False)


def iter_lines(path: Path) -> Iterator[str]:
    """The lines of a file (with their "\\n"), decoded chunk by chunk."""
    pending = ""
    for chunk in open_text_stream(path).chunks:
        pending += chunk
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line + "\n"
    if pending:
        yield pending


def _from_lines(source: str, lines: Iterable[str], document: bool) -> Iterator[InputText]:
    if document:
        text = "".join(lines).strip()
        if text:
            yield InputText(source, None, text)
        return
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text:
            yield InputText(source, number, text)


def _from_table(source: str, path: Path, delimiter: str,
                text_column: str | None) -> Iterator[InputText]:
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(iter_lines(path), delimiter=delimiter, quoting=quoting,
                        strict=True)
    column, line = None, 1
    try:
        for fields in reader:
            start, line = line, reader.line_num + 1
            if not any(f.strip() for f in fields):
                continue
            if column is None:
                column, is_header = _text_column(fields, text_column, path)
                if is_header:
                    continue
            if column >= len(fields):
                raise DataError(f"{path}:{start}: ragged row: no column {column + 1}")
            if fields[column].strip():
                yield InputText(source, start, fields[column].strip())
    except csv.Error as err:
        raise DataError(f"{path}:{line}: malformed row ({csv_error_reason(err)})") from None


def _text_column(first: list[str], declared: str | None, path: Path) -> tuple[int, bool]:
    """(index of the text column, whether `first` is a header row)."""
    names = [f.strip().lower() for f in first]
    if declared is not None:
        if declared.lower() in names:
            return names.index(declared.lower()), True
        if declared.isdigit() and int(declared) < len(names):
            return int(declared), False
        raise DataError(f"{path}: no text column {declared!r}; the first row has "
                        f"{', '.join(repr(n) for n in names)}")
    for name in TEXT_NAMES:
        if name in names:
            return names.index(name), True
    if len(names) == 1:
        return 0, False
    raise DataError(f"{path}: {len(names)} columns and none is named like a text column; "
                    f"pass --text-column NAME (or a 0-based index)")


def _from_jsonl(source: str, path: Path, text_column: str | None) -> Iterator[InputText]:
    key = None
    for number, line in enumerate(iter_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{number}: invalid JSON ({err.msg})") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{number}: expected a JSON object")
        key = key or json_key(record, text_column, TEXT_NAMES, path, number, "text")
        value = record.get(key)
        if not isinstance(value, str):
            raise DataError(f"{path}:{number}: field {key!r} is missing or not a string")
        if value.strip():
            yield InputText(source, number, value.strip())
