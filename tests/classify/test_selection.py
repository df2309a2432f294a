"""Checkpoint selection on a slice of the training data; the corpus' own validation split is
then a test set, scored once at the end (issue 13's protocol fix)."""

import json

import pytest

import seqcli
from seqcli.classify import splits as splits_module
from seqcli.classify.splits import load_splits
from seqcli.config import default_config, with_overrides
from seqcli.data.labelled import read_labelled
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
    assert len(chosen.train) + len(chosen.val) == 40 and len(chosen.val) == 4
    assert sorted(chosen.val.labels) == ["negative", "negative", "positive", "positive"]
    assert len(chosen.test) == 3 and "stratified" in chosen.validation
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
    assert meta["test_texts"] == 3 and meta["val_texts"] == 4


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
    assert len(chosen.val) == pytest.approx(0.1 * (len(chosen.train) + len(chosen.val)), abs=2)
