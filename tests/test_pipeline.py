"""Train and resume (seqcli/pipeline.py): the one path under `seqcli train` and `seqcli.train`."""

import json
from pathlib import Path

import pytest

from seqcli import pipeline, runs
from seqcli.config import default_config, with_overrides
from seqcli.errors import ConfigError, DataError
from seqcli.locations import Locations
from seqcli.training.checkpoint import LAST_FILE, METRICS_FILE

TINY = {("model", "hidden_size"): 16, ("model", "embedding_size"): 8,
        ("model", "num_layers"): 1, ("data", "seq_len"): 16, ("data", "batch_size"): 4,
        ("train", "eval_every"): 5}


def config_for(corpus, task="lm", more=None):
    overrides = {**TINY, ("data", "corpus"): str(corpus), **(more or {})}
    return with_overrides(default_config(task), overrides)


@pytest.fixture
def where(tmp_path):
    return Locations(tmp_path / "runs", None, tmp_path / "cache")


def test_train_then_resume_continues_from_last(tiny_corpus, where):
    config = config_for(tiny_corpus, more={("train", "max_steps"): 6})
    summary = pipeline.train(config, where)
    run_dir = Path(summary["run_dir"])
    assert summary["steps"] == 6 and run_dir.parent == where.runs
    assert (run_dir / LAST_FILE).is_file()
    more = pipeline.resume_config(run_dir, None, {("train", "max_steps"): 10})
    resumed = pipeline.resume(run_dir, more, where)
    assert resumed["steps"] == 10
    steps = [json.loads(line)["step"] for line in open(run_dir / METRICS_FILE)
             if '"train"' in line]
    assert steps == sorted(steps) and steps[-1] == 10
    assert runs.resolved_config(run_dir).train.max_steps == 10  # the raised budget is recorded


def test_resume_keeps_architecture_and_task(tiny_corpus, where):
    summary = pipeline.train(config_for(tiny_corpus, more={("train", "max_steps"): 2}), where)
    with pytest.raises(ConfigError, match="keeps the run's architecture.*model.hidden_size=32"):
        pipeline.resume_config(summary["run_dir"], None, {("model", "hidden_size"): 32})
    with pytest.raises(ConfigError, match="is a lm run, not classify"):
        pipeline.resume_config(summary["run_dir"], "classify", {})


def test_bad_data_leaves_no_run_directory(tmp_path, where):
    short = tmp_path / "short.txt"
    short.write_text("tiny\n")
    with pytest.raises(DataError):
        pipeline.train(config_for(short), where)
    assert not where.runs.exists()


def test_word_dropout_reaches_the_task(reviews_csv, where):
    config = config_for(reviews_csv, "classify", {("model", "subwords"): 0,
                                                  ("train", "word_dropout"): 0.4})
    prepared = pipeline.prepare(config, where, None, None)
    assert prepared.task.word_dropout == 0.4
    assert prepared.meta["labels"] == ["negative", "positive"]
