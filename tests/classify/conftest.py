"""A tiny trained classifier shared by the tests of seqcli/classify/."""

import pytest

from seqcli import pipeline, runs
from seqcli.config import default_config, with_overrides
from seqcli.locations import Locations


def classifier_config(corpus, fields=None):
    overrides = {("data", "corpus"): str(corpus), ("model", "hidden_size"): 16,
                 ("model", "embedding_size"): 16, ("model", "subwords"): 64,
                 ("data", "batch_size"): 8, ("train", "max_steps"): 12,
                 ("train", "eval_every"): 6}
    overrides.update(fields or {})
    return with_overrides(default_config("classify"), overrides)


@pytest.fixture
def where(tmp_path):
    return Locations(tmp_path / "runs", None, tmp_path / "cache")


@pytest.fixture
def classifier(reviews_csv, where):
    summary = pipeline.train(classifier_config(reviews_csv), where)
    return runs.load_run(summary["run_dir"], device="cpu", precision="fp32")


@pytest.fixture
def make_config():
    return classifier_config
