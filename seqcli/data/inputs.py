"""Texts to classify, streamed from files or stdin without holding a whole file in memory.

- a plain text file: every non-blank line is one text (its 1-based line number is kept);
- ``.csv`` / ``.tsv`` / ``.jsonl``: one text per row, from the declared text column or the
  usual names (``text``, ``sentence``, ``review``...); a one-column table needs no name;
- ``document=True``: each file (or all of stdin) is one text;
- ``-``: standard input, with the same line rules.

Files are decoded like every other input (UTF-8, falling back to Windows-1252). Tables and
JSONL go through `seqcli.data.columns`, the reader training data uses, so a file that trained
a classifier is read the same way here; rows are pulled one at a time from `iter_lines`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from seqcli.data.columns import (DELIMITERS, JSONL_SUFFIXES, TEXT_NAMES, find_column, header_names,
                                 json_key, json_rows, json_string, table_rows)
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
        elif suffix in DELIMITERS:
            yield from _from_table(source, path, DELIMITERS[suffix], text_column)
        elif suffix in JSONL_SUFFIXES:
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
    """One text per row; the column is settled on the first row, which may be a header."""
    column = None
    for line, fields in table_rows(iter_lines(path), delimiter, path):
        if column is None:
            column, is_header = _text_column(fields, text_column, path)
            if is_header:
                continue
        if column >= len(fields):
            raise DataError(f"{path}:{line}: ragged row: no column {column + 1}")
        if fields[column].strip():
            yield InputText(source, line, fields[column].strip())


def _text_column(first: list[str], declared: str | None, path: Path) -> tuple[int, bool]:
    """(index of the text column, whether `first` is a header row).

    Unlike training data there is no label to tell apart, so a one-column table needs no
    name, and a row is a header only when the text column was found by a name in it.
    """
    names = header_names(first)
    column, by_name = find_column(names, declared, TEXT_NAMES, path, "text")
    if column is not None:
        return column, by_name
    if len(names) == 1:
        return 0, False
    raise DataError(f"{path}: {len(names)} columns and none is named like a text column; "
                    f"pass --text-column NAME (or a 0-based index)")


def _from_jsonl(source: str, path: Path, text_column: str | None) -> Iterator[InputText]:
    """One text per object, from the key chosen on the first object."""
    key = None
    for line, record in json_rows(iter_lines(path), path):
        key = key or json_key(record, text_column, TEXT_NAMES, path, line, "text")
        text = json_string(record, key, path, line).strip()
        if text:
            yield InputText(source, line, text)
