from dataclasses import replace

import pytest
import torch

from seqcli.config import RunConfig, SampleConfig
from seqcli.data.tokenizers import train_tokenizer
from seqcli.device import place
from seqcli.errors import UsageError
from seqcli.lm.decoding import IncrementalDecoder, TextStream
from seqcli.lm.generate import check_sample_config, generate_samples
from seqcli.models.builder import build_model


def sample(model, tok, prime, config, placement, on_text=None) -> str:
    """The text of one sample (the first of `config`)."""
    return generate_samples(model, tok, prime, config, placement, on_text)[0].text


@pytest.fixture
def lm():
    torch.manual_seed(0)
    tok = train_tokenizer("char", ["the time traveller, he said."])
    model = build_model(RunConfig(), tok.vocab_size).eval()
    return model, tok


def test_same_seed_same_text_and_prime_first(lm):
    model, tok = lm
    config = SampleConfig(length=40, temperature=1.0, seed=7)
    a = sample(model, tok, "time", config, place("cpu"))
    b = sample(model, tok, "time", config, place("cpu"))
    c = sample(model, tok, "time", replace(config, seed=8), place("cpu"))
    assert a == b and a != c
    assert a.startswith("time") and len(a) == 4 + 40


def test_streamed_text_equals_returned_text(lm):
    model, tok = lm
    pieces = []
    text = sample(model, tok, "he", SampleConfig(length=25, seed=1), place("cpu"),
                  on_text=pieces.append)
    assert "".join(pieces) == text


def test_carried_state_equals_rerunning_the_prefix(lm):
    """Feeding one token at a time with the state carried gives the full-sequence logits."""
    model, tok = lm
    ids = torch.tensor([tok.encode("the time traveller")])
    with torch.no_grad():
        full, _ = model(ids)
        state, steps = None, []
        for t in range(ids.size(1)):
            logits, state = model(ids[:, t:t + 1], state)
            steps.append(logits)
    assert torch.allclose(torch.cat(steps, 1), full, atol=1e-5)


@pytest.mark.parametrize("bad", [dict(length=0), dict(temperature=0.0), dict(temperature=-1.0),
                                 dict(top_k=0), dict(top_k=1000), dict(top_p=0.0),
                                 dict(top_p=1.5), dict(num_samples=0), dict(beam=0),
                                 dict(beam=65), dict(beam=2, top_k=3), dict(beam=2, top_p=0.9),
                                 dict(beam=2, greedy=True), dict(beam=2, temperature=0.5),
                                 dict(beam=2, temperature=0.8),  # the default value, given
                                 dict(beam=2, num_samples=3), dict(stop=("",)),
                                 dict(stop="x"), dict(keep_stop=True)])
def test_bad_sampling_settings_are_refused(bad):
    with pytest.raises(UsageError):
        check_sample_config(SampleConfig(**bad), vocab_size=50)


class CountingTokenizer:
    """Wraps a tokenizer and counts how many ids its decode is asked to read."""

    def __init__(self, inner):
        self.inner, self.decoded = inner, 0
        self.kind, self.vocab_size = inner.kind, inner.vocab_size

    def encode(self, text):
        return self.inner.encode(text)

    def decode(self, ids):
        self.decoded += len(ids)
        return self.inner.decode(ids)


@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_streaming_decodes_each_token_a_bounded_number_of_times(kind):
    """Streaming used to re-decode the whole output per token (quadratic in the length)."""
    torch.manual_seed(0)
    corpus = ["the time traveller said that the machine was gone, é à ü 日本語 ok."] * 4
    inner = train_tokenizer(kind, corpus, vocab_size=60)
    model = build_model(RunConfig(), inner.vocab_size).eval()
    tok, pieces = CountingTokenizer(inner), []
    length = 400
    text = sample(model, tok, "the", SampleConfig(length=length, temperature=1.5, seed=3),
                  place("cpu"), on_text=pieces.append)
    assert "".join(pieces) == text and text.startswith("the")
    assert tok.decoded < 8 * length  # the final full decode is `length`; streaming a few more


def test_a_multibyte_character_split_across_tokens_is_held_back():
    """Byte-level BPE may end a token inside a character: that token shows nothing until the
    character completes, and the streamed text still equals the returned one."""
    tok = train_tokenizer("bpe", ["日本語のテキスト"] * 3, vocab_size=258)  # bytes, few merges
    ids = tok.encode("日本語")
    assert len(ids) > 3  # characters span several tokens
    shown = []
    decoder, stream = IncrementalDecoder(tok), TextStream("", shown.append)
    for i in ids:
        stream.push(decoder.add(i))
        assert "\ufffd" not in "".join(shown)
    stream.finish(tok.decode(ids))
    assert "".join(shown) == "日本語"


def test_batched_samples_are_reproducible_and_differ_by_row(lm):
    model, tok = lm
    config = SampleConfig(length=30, temperature=1.0, num_samples=4, seed=5)
    a = generate_samples(model, tok, "the", config, place("cpu"))
    b = generate_samples(model, tok, "the", config, place("cpu"))
    assert a == b and len({s.text for s in a}) == 4
    assert all(s.text.startswith("the") and s.stopped is None and s.new_tokens == 30 for s in a)


def test_sample_i_of_n_is_the_single_sample_of_seed_plus_i(lm):
    """The contract: row i reads its own generator, seeded seed + i, whatever N is."""
    model, tok = lm
    config = SampleConfig(length=30, temperature=1.0, top_p=0.95, num_samples=4, seed=5)
    batch = [s.text for s in generate_samples(model, tok, "the", config, place("cpu"))]
    alone = [sample(model, tok, "the", replace(config, num_samples=1, seed=5 + i), place("cpu"))
             for i in range(4)]
    assert batch == alone
    two = generate_samples(model, tok, "the", replace(config, num_samples=2), place("cpu"))
    assert [s.text for s in two] == batch[:2]


class CountingModel(torch.nn.Module):
    """Records the batch size of every forward."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.batches = inner, []

    def forward(self, x, state=None):
        self.batches.append(tuple(x.shape))
        return self.inner(x, state)


def test_num_samples_is_one_batch_one_forward_per_token(lm):
    model, tok = lm
    counting = CountingModel(model)
    config = SampleConfig(length=10, num_samples=6, seed=1)
    generate_samples(counting, tok, "time", config, place("cpu"))
    assert counting.batches == [(1, 4)] + [(6, 1)] * 9  # the prime once, then all rows a step
