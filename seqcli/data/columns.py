"""The columns of CSV, TSV and JSONL files: one reader for training data and for inputs.

`seqcli.data.labelled` (text and label, whole files) and `seqcli.data.inputs` (texts to
classify, streamed) read the same formats, so the rules live here once; a file that trains a
classifier is then read the same way when it is classified, with the same complaints:

- rows come from any iterable of lines and are handed on one at a time, so a caller can
  stream a file (`inputs`) or pass one it has already read whole (`labelled`);
- TSV is read without quote processing (GLUE files hold bare ``"``); CSV follows RFC 4180
  quoting, strictly, so an unclosed quote fails at its row instead of eating the rest of
  the file;
- blank rows are skipped but still counted, so a row's number is the line an editor shows
  (its first line, when a quoted field spans several);
- a column is declared as a header name (any case) or a 0-based index, or found by the
  usual names (`TEXT_NAMES`, `LABEL_NAMES`);
- every problem is a one-line `DataError` naming ``file:line``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from seqcli.errors import DataError

TEXT_NAMES = ("text", "sentence", "review", "content", "document", "body", "comment", "tweet")
LABEL_NAMES = ("label", "sentiment", "class", "category", "target", "polarity", "labels", "y")
DELIMITERS = {".csv": ",", ".tsv": "\t"}  # suffix -> delimiter of a table
JSONL_SUFFIXES = (".jsonl", ".ndjson")

Row = tuple[int, list[str]]  # (1-based first line of the row, its fields)


def table_rows(lines: Iterable[str], delimiter: str, path: Path) -> Iterator[Row]:
    """Every non-blank row of a CSV (``","``) or TSV (``"\\t"``) document, lazily.

    `lines` keep their ``"\\n"`` (a file, ``io.StringIO``, or a generator of lines); `path` is
    only for messages. A malformed row raises when it is reached, naming its first line.
    """
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(lines, delimiter=delimiter, quoting=quoting, strict=True)
    line = 1
    try:
        for fields in reader:
            start, line = line, reader.line_num + 1
            if any(f.strip() for f in fields):
                yield start, fields
    except csv.Error as err:
        raise DataError(f"{path}:{line}: malformed row ({csv_error_reason(err)})") from None


def csv_error_reason(err: Exception) -> str:
    """The csv module's complaint in words a user can act on."""
    reason = str(err)
    if "unexpected end of data" in reason:
        return "a quote opened here is never closed"
    if "field larger than field limit" in reason:
        return f"a field is longer than {csv.field_size_limit():,} characters"
    return reason


def header_names(fields: Sequence[str]) -> list[str]:
    """A first row's cells as the names columns are matched against: stripped, lower case."""
    return [f.strip().lower() for f in fields]


def find_column(names: Sequence[str], declared: str | None, known: Sequence[str], path: Path,
                what: str) -> tuple[int | None, bool]:
    """(index, matched a header name) of the `what` column of a table whose first row is `names`.

    A declared column is a header name before it is an index, so a header cell "0" wins over
    column 0; a declaration that fits neither is an error listing the first row. Undeclared,
    it is the first of the `known` names present, or None: what then is the reader's call.
    """
    if declared is None:
        found = [names.index(n) for n in known if n in names]
        return (found[0], True) if found else (None, False)
    if declared.lower() in names:
        return names.index(declared.lower()), True
    if declared.isdecimal() and int(declared) < len(names):  # isdigit() takes "²"; int() not
        return int(declared), False
    raise DataError(f"{path}: no {what} column {declared!r}; the first row has "
                    f"{', '.join(repr(n) for n in names)}")


def json_rows(lines: Iterable[str], path: Path) -> Iterator[tuple[int, dict]]:
    """(1-based line, object) for every non-blank line of a JSONL document, lazily."""
    for line, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{line}: invalid JSON ({err.msg})") from None
        except (RecursionError, ValueError) as err:  # nested too deep; an integer too long
            reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)[:120]
            raise DataError(f"{path}:{line}: invalid JSON ({reason})") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{line}: expected a JSON object, got {type(record).__name__}")
        yield line, record


def json_key(record: dict, declared: str | None, known: tuple[str, ...], path: Path,
             line: int, what: str) -> str:
    """The key holding the text (or label): declared, else the first usual name present.

    Called on the first object only: the rest of the file is read with the same key, so a
    later object lacking it is reported at its own line rather than silently re-guessed.
    """
    if declared is not None:
        if declared not in record:
            raise DataError(f"{path}:{line}: no {what} field {declared!r}")
        return declared
    lowered = {k.lower(): k for k in record}
    for name in known:
        if name in lowered:
            return lowered[name]
    raise DataError(f"{path}:{line}: no {what} field (looked for {', '.join(known[:4])}...); "
                    f"pass --{what}-column")


def json_string(record: dict, key: str, path: Path, line: int) -> str:
    """The string under `key`; a missing key or a non-string value (3, null) is an error."""
    value = record.get(key)
    if not isinstance(value, str):
        raise DataError(f"{path}:{line}: field {key!r} is missing or not a string")
    return value
