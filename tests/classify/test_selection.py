"""Checkpoint selection on a slice of the training data; the corpus' own validation split is
then a test set, scored once at the end (issue 13's protocol fix)."""

import json
import time

import pytest

import seqcli
from seqcli.classify import splits as splits_module
from seqcli.classify.splits import load_splits
from seqcli.classify.task import ClassifyTask
from seqcli.config import default_config, with_overrides
from seqcli.data.labelled import read_labelled, stratified_split
from seqcli.errors import DataError
from seqcli.locations import Locations

from tests.conftest import write_reviews


@pytest.fixture
def corpus_with_dev(tmp_path, monkeypatch):
    """A labelled corpus that, like SST-2, brings its own validation split."""
    train = write_reviews(tmp_path / "train.csv", repeats=10)
    dev = tmp_path / "dev.csv"
    dev.write_text('text,label\n"a wonderful, lovely film",positive\n'
                   '"a dull and awful plot",negative\n"a great warm story",positive\n')
    real = splits_module.read_split

    def read_split(resolved, split, text_column=None, label_column=None):
        if split == "validation":
            return read_labelled(dev)
        return real(resolved, split, text_column, label_column)

    monkeypatch.setattr(splits_module, "read_split", read_split)
    return train


def _config(train, extra=None):
    given = {("data", "corpus"): str(train), **(extra or {})}
    return with_overrides(default_config("classify"), given)


def test_selection_on_training_data_keeps_the_corpus_split_as_test(corpus_with_dev, tmp_path):
    locations = Locations(runs=tmp_path / "runs", data=None, cache=tmp_path / "cache")
    chosen = load_splits(_config(corpus_with_dev), locations, None)
    # four reviews, ten copies each: one whole review per class is held out, every copy of it
    assert len(chosen.train) == len(chosen.val) == 20 and len(set(chosen.val.texts)) == 2
    assert not set(chosen.val.texts) & set(chosen.train.texts)
    assert sorted(set(chosen.val.labels)) == ["negative", "positive"]
    assert len(chosen.test) == 3 and "stratified" in chosen.validation
    rows = load_splits(_config(corpus_with_dev, {("data", "selection"): "train"}),
                       locations, None)
    assert len(rows.train) + len(rows.val) == 40 and len(rows.val) == 4
    assert sorted(rows.val.labels) == ["negative", "negative", "positive", "positive"]
    old = load_splits(_config(corpus_with_dev, {("data", "selection"): "corpus"}),
                      locations, None)
    assert len(old.train) == 40 and len(old.val) == 3 and old.test is None


def test_the_test_set_is_scored_once_at_the_end(corpus_with_dev, tmp_path):
    run = seqcli.train(task="classify", corpus=str(corpus_with_dev), hidden_size=8,
                       embedding_size=8, max_steps=4, eval_every=2, subwords=0,
                       runs=tmp_path / "runs")
    summary = json.loads((run.path / "summary.json").read_text())
    assert summary["test_texts"] == 3 and 0.0 <= summary["test_accuracy"] <= 1.0
    assert run.evaluate(split="test")["accuracy"] == summary["test_accuracy"]
    assert run.evaluate()["split"] == "validation"
    meta = json.loads((run.path / "config.json").read_text())["meta"]
    assert meta["test_texts"] == 3 and meta["val_texts"] == 20


def test_trace_test_logs_the_test_set_at_every_evaluation_off_the_clock(corpus_with_dev,
                                                                        tmp_path, monkeypatch):
    """--trace-test (benchmarks): every evaluation's record carries the test scores and the
    wall time; they never select, and their time is not the run's."""
    real = ClassifyTask.trace

    def slow_trace(self, model, placement):
        time.sleep(0.3)
        return real(self, model, placement)

    monkeypatch.setattr(ClassifyTask, "trace", slow_trace)
    started = time.perf_counter()
    run = seqcli.train(task="classify", corpus=str(corpus_with_dev), hidden_size=8,
                       embedding_size=8, max_steps=4, eval_every=1, subwords=0, ema=0.0,
                       trace_test=True, runs=tmp_path / "runs")
    wall = time.perf_counter() - started
    summary = run.summary
    lines = (run.path / "metrics.jsonl").read_text().splitlines()
    val = [r for r in map(json.loads, lines) if r["split"] == "val"]
    assert [r["step"] for r in val] == [1, 2, 3, 4]
    for record in val:
        assert {"test_accuracy", "test_macro_f1", "seconds", "train_seconds"} <= set(record)
        assert 0.0 <= record["test_accuracy"] <= 1.0
    best = max(val, key=lambda r: r["val_accuracy"])  # the first best on validation
    assert summary["best_step"] == best["step"]
    assert summary["test_accuracy"] == best["test_accuracy"] == \
        run.evaluate(split="test")["accuracy"]
    assert summary["seconds"] < wall - 1.0  # four traces of 0.3 s, off the run's clock


def test_trace_test_needs_a_test_set(corpus_with_dev, tmp_path):
    with pytest.raises(seqcli.SeqcliError, match="--trace-test scores the run's test set"):
        seqcli.train(task="classify", corpus=str(corpus_with_dev), hidden_size=8,
                     embedding_size=8, max_steps=2, subwords=0, selection="corpus",
                     trace_test=True, runs=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_selecting_on_the_corpus_split_leaves_no_test_set(corpus_with_dev, tmp_path):
    run = seqcli.train(task="classify", corpus=str(corpus_with_dev), hidden_size=8,
                       embedding_size=8, max_steps=2, eval_every=2, subwords=0,
                       selection="corpus", runs=tmp_path / "runs")
    assert "test_accuracy" not in json.loads((run.path / "summary.json").read_text())
    with pytest.raises(seqcli.SeqcliError, match="no test set"):
        run.evaluate(split="test")


def test_sst2_selects_on_its_training_data_and_tests_on_dev(real_corpora, tmp_path):
    locations = Locations(runs=tmp_path / "runs", data=real_corpora, cache=tmp_path / "cache")
    chosen = load_splits(default_config("classify"), locations, None)
    assert len(chosen.test) == 872  # GLUE dev, kept apart from selection
    # a tenth of the 6,885 whole sentences (roots), not of the 67,349 rows; 7,090 phrases
    # of the held-out sentences are trained on by neither side
    assert len(chosen.val) == 689 and len(chosen.train) == 67349 - 689 - 7090
    assert "689 of 6885 whole texts held out, 7090 training rows" in chosen.validation
    rows = load_splits(with_overrides(default_config("classify"), {("data", "selection"): "train"}),
                       locations, None)
    assert len(rows.val) == pytest.approx(0.1 * (len(rows.train) + len(rows.val)), abs=2)


def _phrases(path):
    """A corpus like SST-2's train.tsv: sentences, then their sub-phrases as rows of their own."""
    sentences = [("a warm and lovely film", "pos"), ("the cast is great", "pos"),
                 ("a funny wise story", "pos"), ("the plot is a dull mess", "neg"),
                 ("an awful tedious film", "neg"), ("the acting is bland", "neg")]
    rows, seen = [], set()
    for sentence, label in sentences:
        words = sentence.split()
        for n in range(len(words), 0, -1):
            for a in range(len(words) - n + 1):
                text = " ".join(words[a:a + n])
                if text not in seen:
                    seen.add(text)
                    rows.append(f"{text}\t{label}")
    path.write_text("sentence\tlabel\n" + "\n".join(rows) + "\n")
    return path


def test_a_default_run_selects_on_whole_texts_and_records_it(tmp_path):
    corpus = _phrases(tmp_path / "phrases.tsv")
    run = seqcli.train(task="classify", corpus=str(corpus), hidden_size=8, embedding_size=8,
                       max_steps=2, eval_every=2, subwords=0, val_fraction=0.34,
                       runs=tmp_path / "runs")
    stored = json.loads((run.path / "config.json").read_text())
    assert stored["config"]["data"]["selection"] == "texts"
    described = stored["meta"]["validation"]
    assert described.startswith("stratified 0.34 of the training texts (seed 1234): 2 of 6")
    assert "training rows inside them dropped" in described
    assert stored["meta"]["val_texts"] == 2  # two whole sentences, none of their phrases
    assert run.evaluate()["n"] == 2  # evaluation rebuilds the same slice from the config


def test_selection_train_is_still_the_row_split(tmp_path):
    corpus = _phrases(tmp_path / "phrases.tsv")
    locations = Locations(runs=tmp_path / "runs", data=None, cache=tmp_path / "cache")
    config = _config(corpus, {("data", "selection"): "train"})
    chosen = load_splits(config, locations, None)
    data = read_labelled(corpus)
    train, val = stratified_split(data.labels, 0.1, config.train.seed)
    assert chosen.train.texts == [data.texts[i] for i in train]
    assert chosen.val.texts == [data.texts[i] for i in val]
    assert chosen.validation == "stratified 0.1 of the training data (seed 1234)"


def test_a_corpus_of_one_text_per_class_cannot_hold_any_out(tmp_path):
    corpus = tmp_path / "tiny.csv"  # many rows, but all of them inside two sentences
    corpus.write_text("text,label\na good film,pos\ngood,pos\nfilm,pos\na good,pos\n"
                      "a bad film,neg\nbad,neg\nbad film,neg\n")
    locations = Locations(runs=tmp_path / "runs", data=None, cache=tmp_path / "cache")
    with pytest.raises(DataError, match=r"tiny\.csv: too few examples to hold any out") as err:
        load_splits(_config(corpus), locations, None)
    assert "\n" not in str(err.value) and "one distinct text" in str(err.value)
    rows = load_splits(_config(corpus, {("data", "selection"): "train"}), locations, None)
    assert len(rows.val) == 2  # a slice of rows would validate on phrases of its sentences
