"""Scoring texts under a language model: surprisal per token, log-likelihood, perplexity."""

import math

import pytest
import torch

from seqcli.config import RunConfig
from seqcli.data.tokenizers import train_tokenizer
from seqcli.device import place
from seqcli.errors import UsageError
from seqcli.lm.score import length_batches, score_texts
from seqcli.models.builder import build_model

CPU = place("cpu", "fp32")


@pytest.fixture
def lm():
    torch.manual_seed(0)
    tok = train_tokenizer("char", ["the time traveller, he said.\n"])
    return build_model(RunConfig(), tok.vocab_size).eval(), tok


def test_every_token_is_scored_from_the_start_token(lm):
    model, tok = lm
    text = "the time"
    score = score_texts(model, tok, [text], CPU)[0]
    assert score.tokens == list(text) and len(score.surprisal) == len(text)
    # By hand: the start token (a newline) then the text, one token at a time.
    ids = [tok.encode("\n")[0]] + tok.encode(text)
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids[:-1]]))
    logp = torch.log_softmax(logits[0], -1)
    expected = [-logp[t, ids[t + 1]].item() for t in range(len(text))]
    assert score.surprisal == pytest.approx(expected, abs=1e-5)
    assert score.log_likelihood == pytest.approx(-sum(expected), abs=1e-4)
    assert score.perplexity == pytest.approx(math.exp(sum(expected) / len(text)), rel=1e-5)
    assert score.bits_per_token == pytest.approx(sum(expected) / len(text) / math.log(2))
    assert set(score.to_dict()) == {"text", "tokens", "surprisal", "log_likelihood",
                                    "perplexity", "bits_per_token"}


def test_a_text_scores_the_same_alone_and_among_longer_ones(lm):
    model, tok = lm
    texts = ["he", "the time traveller, he said.", "said the"]
    together = score_texts(model, tok, texts, CPU)
    for text, score in zip(texts, together):
        alone = score_texts(model, tok, [text], CPU)[0]
        assert score.text == text
        assert score.surprisal == pytest.approx(alone.surprisal, abs=1e-5)


def test_lowercase_and_bad_input(lm):
    model, tok = lm
    upper = score_texts(model, tok, ["THE"], CPU, lowercase=True)[0]
    assert upper.surprisal == pytest.approx(score_texts(model, tok, ["the"], CPU)[0].surprisal)
    with pytest.raises(UsageError, match="score needs some text"):
        score_texts(model, tok, ["the", ""], CPU)
    with pytest.raises(UsageError, match="a text or a list of texts"):
        score_texts(model, tok, [3], CPU)


def test_length_batches_stay_within_the_budget():
    lengths = [5, 100, 7, 60, 6, 100]
    batches = length_batches(lengths, 200)
    assert sorted(i for b in batches for i in b) == list(range(6))
    for batch in batches:
        assert len(batch) * max(lengths[i] for i in batch) <= 200 or len(batch) == 1
