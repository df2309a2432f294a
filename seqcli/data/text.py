"""Read text files robustly, whole (`read_text`) or streamed in chunks (`iter_text_chunks`).

Decoding policy, the same for both:

1. An explicit `encoding` is used as given (a UTF-8 byte-order mark is still stripped).
2. A byte-order mark selects UTF-8, UTF-16 or UTF-32, and is removed.
3. NUL bytes in the first 8 KiB, or more than 5% of it in control bytes that text does not
   use (C0 other than tab, newlines, form feed and escape; DEL), make the file "look binary"
   and it is refused. Random binary data has about 10% of those; legacy single-byte text
   (cp1252, KOI8-R...) is undecodable as UTF-8 but has none, so it passes.
4. Otherwise UTF-8; failing that Windows-1252 (cp1252), not latin-1: text that is not UTF-8 is
   almost always cp1252 (rt-polarity is), and latin-1 would turn its bytes 0x85 0x91 0x96 0x97
   (… ‘ – —) into invisible C1 control characters. cp1252 leaves five bytes undefined
   (0x81 0x8D 0x8F 0x90 0x9D); a file holding one of those is read as latin-1, which maps
   every byte, as a last resort.

Line endings CRLF and CR become LF. Every failure is a single-line DataError naming the path.
`read_text` decides the encoding on the whole file; `iter_text_chunks` has to decide on its
first chunk, so a file whose first megabyte is UTF-8 but later part is not fails mid-stream.
"""

from __future__ import annotations

import codecs
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seqcli.errors import DataError

SAMPLE_BYTES = 8192
BINARY_RATIO = 0.05  # share of "never in text" bytes in the sample that means binary
_CONTROL_BYTES = bytes([*range(0x01, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
FALLBACKS = ("utf-8", "cp1252", "latin-1")
_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_text(path: Path, *, encoding: str | None = None, max_bytes: int | None = None) -> str:
    """The whole file as text with LF line endings (see the module docstring for decoding)."""
    return read_text_with_encoding(path, encoding=encoding, max_bytes=max_bytes)[0]


def read_text_with_encoding(path: Path, *, encoding: str | None = None,
                            max_bytes: int | None = None) -> tuple[str, str]:
    """Like `read_text`, also returning the encoding that was used (e.g. "utf-8", "cp1252")."""
    path = Path(path)
    size = check_file(path)
    if max_bytes is not None and size > max_bytes:
        raise DataError(f"{path}: is {size} bytes, more than the limit of {max_bytes} bytes")
    try:
        with open(path, "rb") as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise DataError(f"{path}: is more than the limit of {max_bytes} bytes")
    if not data:
        raise DataError(f"{path}: is empty")
    used = _choose_encoding(data, path, encoding, whole=True)
    try:
        text = data.decode(used)
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: cannot be decoded as {used} "
                        f"(byte 0x{data[err.start]:02x} at offset {err.start})") from None
    text = normalise_newlines(text.removeprefix("\ufeff"))  # a BOM left by an explicit codec
    if not text.strip():
        raise DataError(f"{path}: is empty (only whitespace)")
    return text, _display_name(used)


def iter_text_chunks(path: Path, chunk_chars: int = 1 << 20,
                     encoding: str | None = None) -> Iterator[str]:
    """Stream a large file as decoded text chunks of about `chunk_chars` characters.

    Same policy as `read_text`, with the encoding chosen on the first chunk; errors surface on
    the first `next()`.
    """
    yield from open_text_stream(path, chunk_chars=chunk_chars, encoding=encoding).chunks


@dataclass
class TextStream:
    """An opened text file: the encoding chosen from its start, and its decoded chunks."""

    encoding: str
    chunks: Iterator[str]


def open_text_stream(path: Path, *, chunk_chars: int = 1 << 20,
                     encoding: str | None = None) -> TextStream:
    """Open `path`, read its first chunk to choose the encoding, and return the chunk stream."""
    if chunk_chars < 1:
        raise ValueError(f"chunk_chars must be positive, got {chunk_chars}")
    path = Path(path)
    check_file(path)
    try:
        handle = open(path, "rb")
        first = handle.read(max(chunk_chars, SAMPLE_BYTES))
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not first:
        handle.close()
        raise DataError(f"{path}: is empty")
    try:
        used = _choose_encoding(first, path, encoding, whole=False)
    except DataError:
        handle.close()
        raise
    return TextStream(_display_name(used), _decode_chunks(handle, first, path, used, chunk_chars))


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def looks_binary(sample: bytes) -> bool:
    """True for NUL bytes, or when over 5% of `sample` is control bytes text does not use."""
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    bad = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return bad / len(sample) > BINARY_RATIO


def check_file(path: Path) -> int:
    """The size of a readable file; a missing path or a directory is a DataError."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{path}: is a directory, not a text file")
    return info.st_size


def _choose_encoding(data: bytes, path: Path, encoding: str | None, *, whole: bool) -> str:
    """The codec to decode `data` (the whole file, or its first chunk when not `whole`)."""
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise DataError(f"{path}: unknown encoding {encoding!r}") from None
        if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if not name.startswith(("utf-16", "utf-32")) and b"\x00" in data[:SAMPLE_BYTES]:
            raise DataError(f"{path}: looks binary (it contains NUL bytes)")
        return name
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if looks_binary(data[:SAMPLE_BYTES]):
        raise DataError(f"{path}: looks binary (NUL bytes or mostly undecodable); "
                        "if it is text, give its encoding explicitly")
    for name in FALLBACKS[:-1]:
        try:
            codecs.getincrementaldecoder(name)().decode(data, final=whole)
            return name
        except UnicodeDecodeError:
            continue
    return FALLBACKS[-1]


def _display_name(codec: str) -> str:
    return {"utf-8-sig": "utf-8 (BOM)", "iso8859-1": "latin-1"}.get(codec, codec)


def _decode_chunks(handle, first: bytes, path: Path, codec: str,
                   chunk_chars: int) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    data, offset, carry = first, 0, ""
    held, seen_text = "", False  # whitespace is held back until some text shows up
    with handle:
        while True:
            final = not data
            try:
                text = carry + decoder.decode(data, final=final)
            except UnicodeDecodeError as err:
                raise DataError(f"{path}: cannot be decoded as {_display_name(codec)} near byte "
                                f"{offset + err.start} (the encoding was chosen from the start "
                                "of the file)") from None
            offset += len(data)
            carry = ""
            if not final and text.endswith("\r"):  # a CRLF may straddle two chunks
                text, carry = text[:-1], "\r"
            text = normalise_newlines(text)
            if not seen_text:
                held = (held + text).removeprefix("\ufeff")
                if held.strip():
                    seen_text, text, held = True, held, ""
                else:
                    text = ""
            if text:
                yield text
            if final:
                break
            try:
                data = handle.read(chunk_chars)
            except OSError as err:
                raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not seen_text:
        raise DataError(f"{path}: is empty (only whitespace)")
