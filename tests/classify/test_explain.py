"""Integrated Gradients for classifiers: the sentiment word gets the largest score, the
scores add up to the change in the class score, and the gap shrinks with more steps."""

import random

import pytest
import torch

from seqcli import pipeline, runs
from seqcli.classify.encoding import encode_for_model
from seqcli.classify.explain import explain
from seqcli.config import default_config, with_overrides
from seqcli.errors import UsageError
from seqcli.locations import Locations
from seqcli.models.builder import build_model

POSITIVE, NEGATIVE = ["great", "wonderful", "lovely"], ["awful", "dull", "boring"]
FILLER = ["the", "film", "story", "was", "a", "plot", "quite", "really", "cast", "it"]


@pytest.fixture(scope="module")
def sentiment(tmp_path_factory):
    """A tiny BiLSTM trained on sentences whose label is carried by one word."""
    root = tmp_path_factory.mktemp("explain")
    rng = random.Random(0)
    rows = []
    for i in range(240):
        words = rng.sample(FILLER, 4)
        words.insert(rng.randrange(5), rng.choice(POSITIVE if i % 2 else NEGATIVE))
        rows.append(f"{' '.join(words)},{'positive' if i % 2 else 'negative'}")
    (root / "train.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    config = with_overrides(default_config("classify"), {
        ("data", "corpus"): str(root / "train.csv"), ("model", "hidden_size"): 16,
        ("model", "embedding_size"): 16, ("model", "subwords"): 0, ("model", "wide"): 0,
        ("data", "batch_size"): 16, ("train", "max_steps"): 120, ("train", "eval_every"): 60,
        ("train", "lr"): 0.01,
        ("train", "adversarial"): 0.0, ("train", "word_dropout"): 0.0, ("train", "ema"): 0.0})
    summary = pipeline.train(config, Locations(root / "runs", None, root / "cache"))
    assert summary["val_accuracy"] == 1.0
    return runs.load_run(summary["run_dir"], device="cpu", precision="fp32")


def test_the_sentiment_word_carries_the_largest_score(sentiment):
    texts = ["the film was great", "a really dull plot", "it was quite lovely story"]
    for text, word, label in zip(texts, ["great", "dull", "lovely"],
                                 ["positive", "negative", "positive"]):
        result = explain(sentiment, [text])[0]
        assert result.label == label == result.target
        best = max(result.tokens, key=lambda t: abs(t["score"]))
        assert best["token"] == word and best["score"] > 0
        assert text[best["start"]:best["end"]] == word


def test_scores_add_up_and_the_gap_shrinks_with_steps(sentiment):
    text = "the story was boring but the cast was lovely"
    gaps = [explain(sentiment, [text], steps=s)[0].delta for s in (2, 16, 128)]
    assert gaps[2] < gaps[0] and gaps[2] < 1e-2
    against = explain(sentiment, [text], label="positive", steps=128)[0]
    assert against.target == "positive"
    change = _class_score(sentiment, text, "positive") - _class_score(sentiment, text,
                                                                      "positive", baseline=True)
    assert abs(change) > 0.05  # something to explain
    assert sum(t["score"] for t in against.tokens) == pytest.approx(change, abs=2e-3)


def _class_score(run, text, label, baseline=False):
    """f(x)[label] from the model itself, or f(baseline)[label]: the padding embedding (zero)
    and no wide n-grams, where the scores start from."""
    data, _ = encode_for_model(run.tokenizer, [text], None, run.config)
    x, lengths, _, ngrams, wide = data.batch([0])
    with torch.no_grad():
        embedded = run.model.embed(x, ngrams).float()
        if baseline:
            embedded, wide = torch.zeros_like(embedded), None
        logits = run.model.classify_embedded(embedded, lengths, wide)
    return logits[0, run.labels.index(label)].item()


def test_scores_add_up_with_a_wide_side(sentiment):
    config = with_overrides(sentiment.config, {("model", "wide"): 64})
    torch.manual_seed(0)
    model = build_model(config, sentiment.tokenizer.vocab_size, 2).eval()
    torch.nn.init.normal_(model.wide.weight)
    run = runs.LoadedRun(sentiment.path, config, sentiment.meta, sentiment.tokenizer, model,
                         sentiment.placement)
    text = "the story was boring but the cast was lovely"
    result = explain(run, [text], label="negative", steps=128)[0]
    change = _class_score(run, text, "negative") - _class_score(run, text, "negative", True)
    assert sum(t["score"] for t in result.tokens) == pytest.approx(change, abs=2e-3)


@pytest.mark.parametrize("cell,impl,bidirectional", [
    ("rnn", "fused", False), ("gru", "scratch", True), ("lstm", "scratch", False),
    ("lstm", "fused", True)])
def test_every_cell_and_form(sentiment, tmp_path, cell, impl, bidirectional):
    config = with_overrides(sentiment.config, {("model", "cell"): cell, ("model", "impl"): impl,
                                               ("model", "bidirectional"): bidirectional,
                                               ("model", "subwords"): 64})
    model = build_model(config, sentiment.tokenizer.vocab_size, 2).eval()
    run = runs.LoadedRun(sentiment.path, config, sentiment.meta, sentiment.tokenizer, model,
                         sentiment.placement)
    before = [p.clone() for p in model.parameters()]
    result = explain(run, ["the film was great"], steps=32)[0]
    assert len(result.tokens) == 4 and result.delta < 0.05
    assert not model.training and all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_bad_requests(sentiment):
    for kwargs, message in (({"label": "meh"}, "not one of the run's labels"),
                            ({"steps": 0}, "--steps must be from 1"),):
        with pytest.raises(UsageError, match=message):
            explain(sentiment, ["great"], **kwargs)
    with pytest.raises(UsageError, match="empty"):
        explain(sentiment, ["  "])


def test_offsets_are_those_of_the_text_as_written(sentiment):
    """'İ'.lower() is two characters: the model reads the lower-cased text, the tokens and
    their offsets are the original's, so a view shows exactly what was written."""
    text = "İt was GREAT"
    result = explain(sentiment, [text])[0]
    assert [t["token"] for t in result.tokens] == ["İt", "was", "GREAT"]
    assert all(text[t["start"]:t["end"]] == t["token"] for t in result.tokens)
