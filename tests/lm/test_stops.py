"""Stop strings: found in the decoded text wherever token boundaries fall, cut, streamed safely."""

from dataclasses import replace

import pytest
import torch

from seqcli.config import RunConfig, SampleConfig
from seqcli.data.tokenizers import train_tokenizer
from seqcli.device import place
from seqcli.lm.generate import generate_samples
from seqcli.lm.stops import StopWatch, cut_at_stop, first_stop
from seqcli.models.builder import build_model

CORPUS = ["the time traveller said that the machine was gone.\n\nwe sat and listened.\n"] * 4


@pytest.fixture(scope="module", params=["char", "word", "bpe"])
def lm(request):
    """Untrained, but kept to readable text: tokens that decode to anything but printable
    ASCII (byte-level BPE's lone bytes) are made unlikely."""
    torch.manual_seed(0)
    tok = train_tokenizer(request.param, CORPUS, vocab_size=300)
    model = build_model(RunConfig(), tok.vocab_size).eval()
    with torch.no_grad():
        for i in range(tok.vocab_size):
            text = tok.decode([i])
            if not (text.isascii() and (text.isprintable() or text == "\n")):
                model.decoder.bias[i] -= 30.0
    return model, tok


def test_first_stop_is_the_occurrence_that_ends_first():
    assert first_stop("abcd", ("abcd", "c")) == (2, "c")  # "c" was complete one character earlier
    assert first_stop("xxab", ("b", "ab")) == (2, "ab")  # same end: the longer
    assert first_stop("abc", ("z",)) is None
    assert cut_at_stop("hello\n\nworld", ("\n\n",), False) == ("hello", "\n\n")
    assert cut_at_stop("hello\n\nworld", ("\n\n",), True) == ("hello\n\n", "\n\n")
    assert cut_at_stop("hello", (), False) == ("hello", None)


def test_watch_catches_stops_across_and_inside_pieces_in_a_bounded_window():
    watch = StopWatch(("\n\n", "ll"))
    assert watch.feed("he said\n") is None
    assert watch.feed("\nwe") == "\n\n"  # straddles two pieces
    watch = StopWatch(("\n\n", "ll"))
    assert watch.feed("the trave") is None and watch.feed("ller") == "ll"  # across
    assert StopWatch(("ave",)).feed("traveller") == "ave"  # inside one piece
    watch = StopWatch(("abcdef",))
    for piece in ["x" * 50, "y" * 3, "abc", "de", "f"]:
        found = watch.feed(piece)
        assert len(watch.tail) <= 5  # only longest - 1 characters are kept between steps
    assert found == "abcdef"


def _stop_within(new_text: str, crossing: bool) -> str:
    """A stop string from the middle of an unstopped sample's new text: around a space (two
    tokens for words, usually for BPE; always for characters), or two characters inside."""
    if crossing:
        spaces = [i for i in range(3, len(new_text) - 2) if new_text[i] == " "]
        if spaces:
            return new_text[spaces[0] - 2:spaces[0] + 2]
    return new_text[4:6]


@pytest.mark.parametrize("crossing", [True, False])
@pytest.mark.parametrize("keep", [False, True])
def test_generation_stops_at_a_stop_string_wherever_tokens_split_it(lm, crossing, keep):
    model, tok = lm
    config = SampleConfig(length=40, temperature=1.0, seed=2)
    full = generate_samples(model, tok, "the", config, place("cpu"))[0].text
    stop = _stop_within(full[3:], crossing)
    assert stop and stop in full[3:]
    got = generate_samples(model, tok, "the", replace(config, stop=(stop,), keep_stop=keep),
                           place("cpu"))[0]
    cut = full.index(stop, 3)
    assert got.stopped == stop
    assert got.text == full[:cut + len(stop) if keep else cut]
    assert got.new_tokens <= 40


def test_rows_stop_early_while_others_go_on(lm):
    """A stop found by row 0 and not by row 1: row 0 ends, row 1 runs to --length, and each
    row is still the sample its seed gives alone."""
    model, tok = lm
    config = SampleConfig(length=30, temperature=1.0, num_samples=3, seed=11)
    rows = [s.text[3:] for s in generate_samples(model, tok, "the", config, place("cpu"))]
    stop = next(rows[0][i:i + 3] for i in range(3, len(rows[0]) - 3)
                if rows[0][i:i + 3] not in rows[1])
    stopped = generate_samples(model, tok, "the", replace(config, stop=(stop,)), place("cpu"))
    assert stopped[0].stopped == stop
    assert stopped[0].text == "the" + rows[0][:rows[0].index(stop)]
    assert stopped[1].stopped is None and stopped[1].text == "the" + rows[1]
    for i, s in enumerate(stopped):
        alone = generate_samples(model, tok, "the", replace(config, num_samples=1, seed=11 + i,
                                                            stop=(stop,)), place("cpu"))
        assert alone == [s]


def test_streaming_never_shows_text_past_a_stop(lm):
    model, tok = lm
    config = SampleConfig(length=40, temperature=1.0, seed=2, num_samples=2)
    full = generate_samples(model, tok, "the", config, place("cpu"))[0].text
    stop = _stop_within(full[3:], True)
    shown: list[str] = []

    def on_text(piece):
        shown.append(piece)
        assert stop not in "".join(shown)[3:]

    got = generate_samples(model, tok, "the", replace(config, stop=(stop, "zzzz")),
                           place("cpu"), on_text=on_text)
    assert "".join(shown) == got[0].text and got[0].stopped == stop


class CountingModel(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.batches = inner, []

    def forward(self, x, state=None):
        self.batches.append(x.size(0))
        return self.inner(x, state)


def test_finished_rows_leave_the_batch_and_the_loop_ends_with_the_last(lm):
    model, tok = lm
    counting = CountingModel(model)
    config = SampleConfig(length=300, temperature=1.0, num_samples=4, seed=3, stop=(" ",))
    got = generate_samples(counting, tok, "the", config, place("cpu"))
    assert all(s.stopped == " " and " " not in s.text[3:] for s in got)
    sizes = counting.batches[1:]  # after the prime
    assert sizes == sorted(sizes, reverse=True) and len(sizes) == max(s.new_tokens for s in got) - 1
