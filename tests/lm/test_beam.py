"""Beam search: deterministic, --beam 1 is --greedy, never worse than greedy under the model."""

from dataclasses import replace

import pytest
import torch

from seqcli.config import SampleConfig
from seqcli.data.tokenizers import train_tokenizer
from seqcli.device import place
from seqcli.lm.beam import normalised
from seqcli.lm.decoding import mask_special
from seqcli.lm.generate import generate_samples
from seqcli.models.language_model import LanguageModel

FP32 = place("cpu", "fp32")  # scores compared with a teacher-forced pass in fp32
CORPUS = ["the time traveller said that the machine was gone, and we sat and listened."] * 4


def _model(kind: str, seed: int = 0):
    """Small and untrained, its logits sharpened so that paths really compete."""
    torch.manual_seed(seed)
    tok = train_tokenizer(kind, CORPUS, vocab_size=80)
    model = LanguageModel(tok.vocab_size, 16, 32, cell="lstm", num_layers=1).eval()
    with torch.no_grad():
        model.decoder.weight.mul_(8)
    return model, tok


@pytest.fixture(scope="module", params=["char", "word"])
def lm(request):
    return _model(request.param)


def model_score(model, tok, prime: str, new_ids: list[int]) -> float:
    """The mean log-probability of `new_ids` after `prime`, teacher-forced in one pass."""
    prime_ids = tok.encode(prime)
    x = torch.tensor([prime_ids + new_ids])
    with torch.no_grad():
        logits, _ = model(x)
    rows = mask_special(logits[0, len(prime_ids) - 1:-1])
    logp = torch.log_softmax(rows.double(), -1).gather(1, torch.tensor(new_ids)[:, None])
    return normalised(float(logp.sum()), len(new_ids))


def test_beam_one_is_greedy_exactly(lm):
    model, tok = lm
    greedy = SampleConfig(length=30, greedy=True)
    beam = SampleConfig(length=30, beam=1)
    for stop in ((), ("e",)):
        a = generate_samples(model, tok, "the", replace(greedy, stop=stop), place("cpu"))[0]
        b = generate_samples(model, tok, "the", replace(beam, stop=stop), place("cpu"))[0]
        assert (a.text, a.stopped, a.new_tokens) == (b.text, b.stopped, b.new_tokens)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wider_beams_score_at_least_greedy_under_the_model(seed):
    model, tok = _model("char", seed)
    greedy = generate_samples(model, tok, "the", SampleConfig(length=20, greedy=True),
                              FP32)[0]
    greedy_score = model_score(model, tok, "the", tok.encode(greedy.text[3:]))
    for width in (2, 4, 8):
        best = generate_samples(model, tok, "the", SampleConfig(length=20, beam=width),
                                FP32)[0]
        own = model_score(model, tok, "the", tok.encode(best.text[3:]))
        assert best.score == pytest.approx(own, abs=1e-5)  # the score it reports is the model's
        assert own >= greedy_score - 1e-6


def test_beams_are_deterministic_distinct_and_ranked(lm):
    model, tok = lm
    config = SampleConfig(length=15, beam=5, num_samples=5, seed=None)
    a = generate_samples(model, tok, "the", config, place("cpu"))
    assert a == generate_samples(model, tok, "the", replace(config, seed=3), place("cpu"))
    scores = [s.score for s in a]
    assert scores == sorted(scores, reverse=True) and len({s.text for s in a}) == 5
    assert all(s.new_tokens == 15 and s.stopped is None for s in a)


@pytest.mark.parametrize("seed", [0, 1])
def test_beams_stopped_by_a_stop_string_wait_while_others_go_on(seed):
    model, tok = _model("char", seed)
    config = SampleConfig(length=25, beam=4, num_samples=4)
    free = generate_samples(model, tok, "the", config, place("cpu"))
    stops = (free[0].text[6:8], free[-1].text[6:8])
    got = generate_samples(model, tok, "the", replace(config, stop=stops, keep_stop=True),
                           place("cpu"))
    assert any(s.stopped for s in got)
    for s in got:
        new = s.text[3:]
        if s.stopped is None:
            assert s.new_tokens == 25 and not any(stop in new for stop in stops)
        else:
            assert new.endswith(s.stopped) and s.new_tokens == len(new) < 25
            assert not any(stop in new[:-1] for stop in stops)
    assert [s.score for s in got] == sorted((s.score for s in got), reverse=True)


def test_the_search_ends_when_every_beam_has_stopped():
    model, tok = _model("char")
    every = tuple(tok.decode([i]) for i in range(2, tok.vocab_size))
    got = generate_samples(model, tok, "the", SampleConfig(length=50, beam=3, num_samples=3,
                                                           stop=every), place("cpu"))
    assert [(s.text, s.new_tokens) for s in got] == [("the", 1)] * 3
    assert all(s.stopped for s in got)


def test_beam_never_picks_padding_or_unknown():
    model, tok = _model("char")
    with torch.no_grad():
        model.decoder.bias[:2] += 100.0  # [PAD] and [UNK] would win every step
    for config in (SampleConfig(length=10, beam=3), SampleConfig(length=10, greedy=True)):
        text = generate_samples(model, tok, "the", config, place("cpu"))[0].text
        assert "\ufffd" not in text and len(text) == 13
