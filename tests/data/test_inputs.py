"""Texts to classify are streamed: the first text comes before the file is read to its end,
a bad row fails only when it is reached, and memory stays flat however long the file is."""

import os
import threading
import tracemalloc

import pytest

from seqcli.data.inputs import iter_inputs
from seqcli.errors import DataError

PADDING = "x" * 150  # long rows make a many-megabyte file out of few rows


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
@pytest.mark.parametrize("name, head, row", [
    ("growing.csv", "id,text\n", "{i},row {i}\n"),
    ("growing.tsv", "text\tid\n", "row {i}\t{i}\n"),
    ("growing.jsonl", "", '{{"text": "row {i}"}}\n'),
])
def test_the_first_text_arrives_while_the_file_is_still_being_written(tmp_path, name, head,
                                                                      row):
    # A named pipe has no end until its writer closes it. The writer sends a few megabytes
    # (more than the reader's first chunk), then holds the last row back until the first text
    # has arrived: a reader that wanted the whole file first would only get it on time-out.
    pipe = tmp_path / name
    os.mkfifo(pipe)
    first_text_seen = threading.Event()
    timed_out = []

    def writer():
        with open(pipe, "w", encoding="utf-8") as handle:
            handle.write(head + "".join(row.format(i=i) for i in range(200_000)))
            handle.flush()
            timed_out.append(not first_text_seen.wait(timeout=20))
            handle.write(row.format(i="last"))

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    texts = iter_inputs([str(pipe)])
    first = next(texts)
    first_text_seen.set()
    rest = list(texts)
    thread.join(timeout=20)
    assert timed_out == [False], "iter_inputs waited for the end of the file"
    assert (first.line, first.text) == (2 if head else 1, "row 0")
    assert len(rest) == 200_000 and rest[-1].text == "row last"


@pytest.mark.parametrize("name, head, row, broken, message", [
    ("late.csv", "text\n", "t{i}\n", '"never closed\n', r"late\.csv:10002: malformed row"),
    ("late.tsv", "n\ttext\n", "{i}\tt{i}\n", "alone\n", r"late\.tsv:10002: ragged row"),
    ("late.jsonl", "", '{{"text": "t{i}"}}\n', "{oops\n", r"late\.jsonl:10001: invalid JSON"),
])
def test_a_bad_row_fails_when_reached_after_the_texts_before_it(tmp_path, name, head, row,
                                                                broken, message):
    path = tmp_path / name
    path.write_text(head + "".join(row.format(i=i) for i in range(10_000)) + broken)
    texts = iter_inputs([str(path)])
    assert next(texts).text == "t0"
    seen = 1
    with pytest.raises(DataError, match=message):
        for _ in texts:
            seen += 1
    assert seen == 10_000


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_memory_stays_flat_while_a_large_file_is_streamed(tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    with open(path, "w", encoding="utf-8") as handle:
        if suffix == ".csv":
            handle.write("id,text\n")
        for i in range(150_000):
            handle.write(f'{i},"{PADDING} {i}"\n' if suffix == ".csv" else
                         f'{{"text": "{PADDING} {i}"}}\n')
    size = path.stat().st_size
    assert size > 20 * 2**20
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_inputs([str(path)]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 150_000
    assert peak < size / 2, f"peak {peak:,} bytes while streaming a {size:,}-byte file"
