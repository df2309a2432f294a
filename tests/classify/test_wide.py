"""The wide side (seqcli/classify/wide.py and the classifier's linear n-gram model): its
features are the documented ones, it starts at zero and adds exactly its weights, fused and
scratch still agree, batching changes no prediction, explain stays complete, and a tiny run
trains, classifies, evaluates and refuses bad settings."""

import copy
import json
import random
import zlib

import pytest
import torch
from typer.testing import CliRunner

import seqcli
from seqcli.classify.batches import encode_texts
from seqcli.classify.encoding import encode_for_model
from seqcli.classify.explain import explain
from seqcli.classify.predict import predict_logits
from seqcli.classify.task import ClassifyTask
from seqcli.classify.wide import (ngram_strings, text_ngrams, token_scores, wide_buckets,
                                  wide_table)
from seqcli.cli.main import app
from seqcli.config import RunConfig, default_config, with_overrides
from seqcli.data.tokenizers import UNK_ID, train_tokenizer
from seqcli.device import Placement
from seqcli.models.classifier import Classifier
from seqcli.runs import LoadedRun

TIGHT = dict(rtol=1e-10, atol=1e-10)
CPU = Placement(torch.device("cpu"), "fp32")


def by_hand(gram: str, buckets: int) -> int:
    """The documented rule, written out: CRC-32 of the UTF-8 bytes into 1..buckets-1."""
    return zlib.crc32(gram.encode("utf-8")) % (buckets - 1) + 1


# ----- features ------------------------------------------------------------------------------
def test_features_are_the_distinct_uni_and_bigrams_hashed_by_crc32():
    tokens = ["not", "good", "not", "good", "film"]
    grams = ["not", "good", "film", "not good", "good not", "good film"]  # each once
    assert ngram_strings(tokens) == list(text_ngrams(tokens)) == grams
    assert text_ngrams(tokens)["good"] == [1, 3] and text_ngrams(tokens)["not good"] == [0, 1, 2, 3]
    assert wide_buckets(tokens, 1000) == [by_hand(g, 1000) for g in grams]
    # Saved runs depend on these exact values (never Python's salted hash()).
    assert wide_buckets(["good", "film"], 1000) == [627, 933, 714]
    assert wide_buckets([], 1000) == []


def test_encoding_reads_the_runs_tokens_lowercased_truncated_and_unknown_ones_by_name():
    tokenizer = train_tokenizer("word", ["a good film", "a bad film"], lowercase=True)
    config = with_overrides(default_config("classify"), {("model", "wide"): 1000,
                                                         ("data", "max_length"): 3})
    data, _ = encode_for_model(tokenizer, ["A GOOD Zebracorn movie", ""], None, config)
    x, _, _, _, wide = data.batch([0, 1])
    assert x[0].tolist()[2] == UNK_ID  # "zebracorn" is unknown, yet counts as itself
    expected = [by_hand(g, 1000) for g in ["a", "good", "zebracorn", "a good", "good zebracorn"]]
    assert wide[0].tolist() == expected  # "movie" fell beyond max_length
    assert wide[1].count_nonzero() == 0  # an empty text has no n-gram
    assert data.wide.buckets.dtype == torch.int32  # stored compactly, once


def test_a_char_tokenizer_gives_character_uni_and_bigrams():
    tokenizer = train_tokenizer("char", ["abab"])
    config = with_overrides(default_config("classify"), {("model", "wide"): 1000,
                                                         ("data", "tokenizer"): "char"})
    data, _ = encode_for_model(tokenizer, ["abab"], None, config)
    assert data.batch([0]).wide[0].tolist() == [172, 930, 42, 245]  # a, b, "a b", "b a"


# ----- the model -----------------------------------------------------------------------------
def _model(impl="fused", cell="lstm", bidirectional=True, wide=50, subwords=0, seed=0):
    torch.manual_seed(seed)
    return Classifier(30, 6, 5, 3, cell=cell, impl=impl, bidirectional=bidirectional,
                      subword_buckets=subwords, wide_buckets=wide).double().eval()


TEXTS = [[3, 4, 5], [6], [7, 8, 9, 10, 11], [UNK_ID, 4]]
WORDS = [["a", "good", "film"], ["dull"], ["x", "y", "a", "good", "z"], ["warmly", "good"]]


def _data(wide=50, subwords=0):
    return encode_texts(TEXTS, None, 30, 10, words=WORDS, buckets=subwords, wide=wide)


def test_an_untrained_wide_side_adds_nothing_and_a_trained_one_adds_its_weights():
    plain, wide = _model(wide=0), _model(wide=50)
    assert wide.wide.weight.count_nonzero() == 0
    x, lengths, _, _, buckets = _data().batch([0, 1, 2, 3])
    torch.testing.assert_close(wide(x, lengths, None, buckets)[0], plain(x, lengths)[0], **TIGHT)
    torch.nn.init.normal_(wide.wide.weight)
    added = wide(x, lengths, None, buckets)[0] - plain(x, lengths)[0]
    for row, text in enumerate(WORDS):
        expected = wide.wide.weight[wide_buckets(text, 50)].sum(0)
        torch.testing.assert_close(added[row], expected, **TIGHT)
    with pytest.raises(ValueError, match="pass each text's n-gram buckets"):
        wide(x, lengths)


@pytest.mark.parametrize("cell,bidirectional", [("rnn", False), ("lstm", True), ("gru", True)])
def test_fused_and_scratch_agree_with_the_wide_side_on(cell, bidirectional):
    fused = _model("fused", cell, bidirectional, subwords=40)
    scratch = _model("scratch", cell, bidirectional, subwords=40, seed=1)
    for p in (fused.wide.weight, fused.subword_embedding.weight):
        torch.nn.init.normal_(p)
    scratch.load_state_dict(fused.state_dict())
    batch = _data(subwords=40).batch([0, 1, 2, 3])
    x, lengths, y, ngrams, wide = batch
    outputs = [model(x, lengths, ngrams, wide)[0] for model in (fused, scratch)]
    torch.testing.assert_close(outputs[0], outputs[1], **TIGHT)
    for model, out in zip((fused, scratch), outputs):
        torch.nn.functional.cross_entropy(out, torch.tensor([0, 1, 2, 0])).backward()
    # one parameter layout (seqcli/models/fused.py), in the same order, named differently
    for (name, a), b in zip(fused.named_parameters(), scratch.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, **TIGHT, msg=name)


@pytest.mark.parametrize("impl", ["fused", "scratch"])
def test_a_text_gets_the_same_logits_batched_or_alone(impl):
    model = _model(impl, subwords=40)
    torch.nn.init.normal_(model.wide.weight)
    data = _data(subwords=40)
    x, lengths, _, ngrams, wide = data.batch([2, 0, 3, 1])
    together = model(x, lengths, ngrams, wide)[0][[1, 3, 0, 2]]
    alone = torch.cat([model(*(t for i, t in enumerate(data.batch([k])) if i != 2))[0]
                       for k in range(4)])
    torch.testing.assert_close(together, alone, **TIGHT)


def test_a_training_step_moves_only_the_buckets_of_the_batch():
    model = _model().float().train()
    data = _data()
    task = ClassifyTask(data, data, ["a", "b", "c"], batch_size=2, adversarial=0.05)
    labelled = encode_texts(TEXTS[:2], [1, 2], 30, 10, words=WORDS[:2], wide=50)
    loss = task.train_loss(model, (labelled.batch([0, 1]), 1.0), None, CPU)[0]
    loss.backward()
    grad = model.wide.weight.grad
    used = sorted({b for text in WORDS[:2] for b in wide_buckets(text, 50)})
    assert grad[used].abs().sum(1).gt(0).all()
    unused = torch.ones(50, dtype=torch.bool)
    unused[used] = False
    assert grad[unused].count_nonzero() == 0 and not grad.is_sparse  # dense: DDP averages it


def test_token_scores_split_each_ngram_over_the_tokens_it_covers():
    weight = torch.zeros(1000, dtype=torch.double)
    for gram, value in {"good": 1.0, "film": 2.0, "good film": 4.0, "film good": 8.0}.items():
        weight[by_hand(gram, 1000)] += value
    # "good" twice: half its weight to each; bigrams half to each of their two tokens
    assert token_scores(["good", "film", "good"], weight) == [0.5 + 2, 2 + 2 + 4, 0.5 + 4]
    assert token_scores([], weight) == []


# ----- a trained run -------------------------------------------------------------------------
POSITIVE, NEGATIVE = ["great", "wonderful", "lovely"], ["awful", "dull", "boring"]
FILLER = ["the", "film", "story", "was", "a", "plot", "quite", "really", "cast", "it"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("wide")
    rng = random.Random(0)
    rows = []
    for i in range(160):
        words = rng.sample(FILLER, 4)
        words.insert(rng.randrange(5), rng.choice(POSITIVE if i % 2 else NEGATIVE))
        rows.append(f"{' '.join(words)},{'positive' if i % 2 else 'negative'}")
    (root / "train.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    run = seqcli.train(task="classify", corpus=str(root / "train.csv"), hidden_size=8,
                       embedding_size=8, wide=512, subwords=0, batch_size=16, max_steps=30,
                       eval_every=30, lr=0.01, ema=0.0, out=root / "run", runs=root / "runs")
    return root, run


def test_the_run_trains_the_wide_side_and_classifies_as_batched_or_alone(trained):
    root, run = trained
    loaded = seqcli.load(root / "run", device="cpu", precision="fp32")._loaded
    assert loaded.config.model.wide == 512 and loaded.model.wide.weight.count_nonzero() > 0
    texts = ["the film was great", "a really dull plot", "", "it was quite lovely story"]
    data, _ = encode_for_model(loaded.tokenizer, texts, None, loaded.config)
    batched = predict_logits(loaded.model, data, loaded.placement)
    alone = predict_logits(loaded.model, data, loaded.placement, batch_size=1)
    torch.testing.assert_close(batched, alone, rtol=1e-6, atol=1e-6)
    labels = [p.label for p in run.classify(texts)]
    assert labels[0] == "positive" and labels[1] == "negative"
    scored = CliRunner().invoke(app, ["evaluate", "--model", str(root / "run"), "--corpus",
                                      str(root / "train.csv"), "--format", "json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["accuracy"] > 0.8


def test_explain_stays_complete_against_the_model(trained):
    root, _ = trained
    loaded = seqcli.load(root / "run", device="cpu", precision="fp32")._loaded
    text = "the story was boring but the cast was lovely"
    result = explain(loaded, [text], label="positive", steps=64)[0]
    data, _ = encode_for_model(loaded.tokenizer, [text], None, loaded.config)
    x, lengths, _, ngrams, wide = data.batch([0])
    with torch.no_grad():
        full = loaded.model(x, lengths, ngrams, wide)[0][0, 1]
        baseline = loaded.model.classify_embedded(  # zero embeddings and no n-gram at all
            torch.zeros_like(loaded.model.embed(x, ngrams)), lengths)[0, 1]
    total = sum(t["score"] for t in result.tokens)
    assert abs(total - float(full - baseline)) == pytest.approx(result.delta, abs=1e-5)
    assert result.delta < 1e-2


def test_with_a_silent_deep_side_explain_gives_the_wide_weights_exactly(trained):
    root, _ = trained
    loaded = seqcli.load(root / "run", device="cpu", precision="fp32")._loaded
    model = copy.deepcopy(loaded.model)
    torch.nn.init.zeros_(model.output.weight)  # the deep side now says the same for any text
    run = LoadedRun(loaded.path, loaded.config, loaded.meta, loaded.tokenizer, model,
                    loaded.placement)
    result = explain(run, ["great film"], label="positive")[0]
    w = model.wide.weight[:, 1].detach().double()
    great, film, pair = (w[by_hand(g, 512)] for g in ("great", "film", "great film"))
    assert [t["score"] for t in result.tokens] == pytest.approx(
        [float(great + pair / 2), float(film + pair / 2)], abs=1e-6)


# ----- settings ------------------------------------------------------------------------------
def test_bad_settings_are_one_line_and_old_runs_load(tmp_path):
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    for args, message in ((["--wide", "1"], "--wide must be 0 (off) or an integer from 2"),
                          (["--task", "lm", "--wide", "64"], "use it with --task classify")):
        done = CliRunner().invoke(app, ["train", *args], env=env)
        assert done.exit_code == 2 and message in done.stderr, done.output
    with pytest.raises(seqcli.errors.ConfigError, match="wide_lr_scale must be in"):
        with_overrides(default_config("classify"), {("train", "wide_lr_scale"): 0.0})
    stored = default_config("classify").to_dict()  # as a run written before the wide side
    del stored["model"]["wide"], stored["train"]["wide_lr_scale"]
    old = RunConfig.from_dict(stored)
    assert old.model.wide == 0 and old.train.wide_lr_scale == 1.0
    assert wide_table([["a"]], 8).buckets.tolist() == [by_hand("a", 8)]
