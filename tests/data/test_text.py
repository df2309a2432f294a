"""Robust text reading: encodings, BOMs, line endings, binary/empty/directory refusals, chunks."""

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqcli.data.text import (iter_text_chunks, looks_binary, open_text_stream, read_text,
                              read_text_with_encoding)
from seqcli.errors import DataError


def write(tmp_path, data: bytes, name="f.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_plain(tmp_path):
    path = write(tmp_path, "naïve café — ok\n".encode())
    assert read_text_with_encoding(path) == ("naïve café — ok\n", "utf-8")


def test_cp1252_fallback_not_latin1(tmp_path):
    path = write(tmp_path, b"\x93hi\x94 caf\xe9 \x85")
    text, encoding = read_text_with_encoding(path)
    assert text == "\u201chi\u201d caf\u00e9 \u2026"
    assert encoding == "cp1252"
    # the four bytes that latin-1 would turn into C1 controls
    four = write(tmp_path, b"a\x85 \x91b\x92 \x96 \x97\n", "four.txt")
    assert read_text(four) == "a\u2026 \u2018b\u2019 \u2013 \u2014\n"


def test_latin1_last_resort_for_bytes_cp1252_lacks(tmp_path):
    text, encoding = read_text_with_encoding(write(tmp_path, b"caf\xe9 \x81\n"))
    assert (text, encoding) == ("caf\u00e9 \x81\n", "latin-1")


def test_bom_stripped(tmp_path):
    assert read_text(write(tmp_path, codecs.BOM_UTF8 + b"hello\n")) == "hello\n"
    utf16 = write(tmp_path, "h\u00e9llo\r\nworld\n".encode("utf-16"), "u16.txt")
    assert read_text_with_encoding(utf16) == ("h\u00e9llo\nworld\n", "utf-16")
    explicit = write(tmp_path, codecs.BOM_UTF8 + b"x\n", "e.txt")
    assert read_text(explicit, encoding="utf-8") == "x\n"


def test_line_endings_normalised(tmp_path):
    assert read_text(write(tmp_path, b"a\r\nb\rc\n\r\n")) == "a\nb\nc\n\n"


def test_explicit_encoding(tmp_path):
    path = write(tmp_path, "caf\u00e9\n".encode("cp1252"))
    assert read_text(path, encoding="cp1252") == "caf\u00e9\n"
    with pytest.raises(DataError, match="cannot be decoded as utf-8"):
        read_text(path, encoding="utf-8")
    with pytest.raises(DataError, match="unknown encoding"):
        read_text(path, encoding="no-such-codec")


@pytest.mark.parametrize("data", [b"abc\x00def\n", bytes(range(1, 256)) * 40])
def test_binary_refused(tmp_path, data):
    with pytest.raises(DataError, match="looks binary"):
        read_text(write(tmp_path, data, "blob.bin"))
    with pytest.raises(DataError, match="looks binary"):
        next(iter_text_chunks(tmp_path / "blob.bin"))


def test_looks_binary_keeps_legacy_text():
    assert not looks_binary("caf\u00e9 na\u00efve \u2013 ok\n".encode("cp1252") * 50)
    assert not looks_binary(b"tab\tand escape \x1b[0m colours\n" * 50)


@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n  "])
def test_empty_refused(tmp_path, data):
    path = write(tmp_path, data)
    with pytest.raises(DataError, match="is empty"):
        read_text(path)
    with pytest.raises(DataError, match="is empty"):
        list(iter_text_chunks(path, chunk_chars=2))


def test_directory_and_missing_refused(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        read_text(tmp_path)
    with pytest.raises(DataError, match="no such file"):
        read_text(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="is a directory"):
        next(iter_text_chunks(tmp_path))


def test_max_bytes(tmp_path):
    path = write(tmp_path, b"x" * 100)
    assert read_text(path, max_bytes=100) == "x" * 100
    with pytest.raises(DataError, match="limit of 99 bytes"):
        read_text(path, max_bytes=99)


def test_errors_are_one_line_and_name_the_path(tmp_path):
    cases = [tmp_path, tmp_path / "missing.txt", write(tmp_path, b""), write(tmp_path, b"\x00", "b")]
    for path in cases:
        with pytest.raises(DataError) as info:
            read_text(path)
        assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_chunks_match_read_text_across_boundaries(tmp_path):
    text = "caf\u00e9 \u2014 line\r\nnext\rlast \U0001f600\n" * 50
    path = write(tmp_path, text.encode("utf-8"))
    for size in (1, 2, 3, 7, 64, 1 << 20):
        chunks = list(iter_text_chunks(path, chunk_chars=size))
        assert "".join(chunks) == read_text(path)
        assert all(chunks)


def test_stream_reports_encoding_chosen_from_first_chunk(tmp_path):
    path = write(tmp_path, b"\x93hi\x94\r\n" * 3000)
    stream = open_text_stream(path, chunk_chars=4096)
    assert stream.encoding == "cp1252"
    assert "".join(stream.chunks) == "\u201chi\u201d\n" * 3000
    late = write(tmp_path, b"a" * 10000 + b"\xff\xfe\n", "late.txt")  # UTF-8 start, then not
    with pytest.raises(DataError, match="chosen from the start"):
        list(iter_text_chunks(late, chunk_chars=8192))
    assert read_text_with_encoding(late)[1] == "cp1252"  # whole-file reading can still decide


def test_leading_whitespace_is_kept_in_stream(tmp_path):
    path = write(tmp_path, b"\n\n  \nhello\n")
    assert "".join(iter_text_chunks(path, chunk_chars=1)) == "\n\n  \nhello\n"


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1)
       .filter(lambda s: s.strip() and "\x00" not in s),
       size=st.integers(1, 50))
def test_chunks_property(tmp_path_factory, text, size):
    path = tmp_path_factory.mktemp("p") / "t.txt"
    data = text.encode("utf-8")
    path.write_bytes(data)
    try:
        whole = read_text(path)
    except DataError:  # e.g. control-heavy strings that look binary: both must agree
        with pytest.raises(DataError):
            list(iter_text_chunks(path, chunk_chars=size))
        return
    assert whole == text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    assert "".join(iter_text_chunks(path, chunk_chars=size)) == whole
