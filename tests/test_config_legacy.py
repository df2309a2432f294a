"""Runs written before the options measured not to pay were removed (--layer-lr-decay,
--unfreeze-every, --label-smoothing, --schedule slanted) still load and are used; they
resume when those settings were at their neutral value, and resume refuses in one line
when they shaped the training."""

import json
import shutil

import pytest
import torch
from typer.testing import CliRunner

import seqcli
from seqcli.cli.main import app
from seqcli.config import RunConfig, config_from_toml, flat_overrides
from seqcli.config_legacy import retired_in_use, without_retired
from seqcli.errors import ConfigError
from seqcli.runs import list_runs

from tests.conftest import tiny_text, write_reviews

NEUTRAL = {"layer_lr_decay": 1.0, "unfreeze_every": 0, "label_smoothing": 0.0,
           "schedule": "cosine"}
USED = {"layer_lr_decay": 2.6, "unfreeze_every": 150, "label_smoothing": 0.1,
        "schedule": "slanted"}


def as_older_version(run_dir, train_settings):
    """What an older seqcli wrote: the removed keys in config.json, and the optimizer's
    groups with the "depth" and "lr_scale" they carried then."""
    path = run_dir / "config.json"
    stored = json.loads(path.read_text())
    stored["config"]["train"].update(train_settings)
    path.write_text(json.dumps(stored))
    last = torch.load(run_dir / "last.pt", weights_only=True)
    for group in last["optimizer"]["param_groups"]:
        group.update(depth=0, lr_scale=1.0)
    torch.save(last, run_dir / "last.pt")


@pytest.fixture(scope="module")
def older(tmp_path_factory):
    """A language model and a classifier as older versions wrote them, each twice: with the
    removed settings neutral and in use."""
    root = tmp_path_factory.mktemp("legacy")
    (root / "text.txt").write_text(tiny_text())
    write_reviews(root / "reviews.csv")
    tiny = dict(hidden_size=8, embedding_size=8, max_steps=2, eval_every=2)
    seqcli.train(corpus=str(root / "text.txt"), out=root / "lm", **tiny)
    seqcli.train(task="classify", corpus=str(root / "reviews.csv"), subwords=0,
                 out=root / "clf", **tiny)
    for name in ("lm", "clf"):
        shutil.copytree(root / name, root / f"{name}-used")
        as_older_version(root / name, NEUTRAL)
        as_older_version(root / f"{name}-used", USED)
    return root


def cli(*args, runs=None):
    env = {"SEQCLI_RUNS": str(runs)} if runs else {}
    return CliRunner().invoke(app, [*map(str, args)], env=env)


@pytest.mark.parametrize("suffix", ["", "-used"])
def test_they_load_generate_and_classify(older, suffix, tmp_path):
    lm, clf = older / f"lm{suffix}", older / f"clf{suffix}"
    assert seqcli.load(lm).config.train.schedule == "cosine"  # slanted reads as the default
    generated = cli("generate", "--model", lm, "--length", "5", "--seed", "1")
    assert generated.exit_code == 0, generated.output
    (tmp_path / "texts.txt").write_text("a wonderful film\nan awful mess\n")
    labelled = cli("classify", tmp_path / "texts.txt", "--model", clf, "--format", "json")
    assert labelled.exit_code == 0, labelled.output
    assert len(json.loads(labelled.stdout)["predictions"]) == 2
    assert {r["path"] for r in list_runs(older)} >= {lm, clf}  # `runs list` shows them


def test_neutral_ones_resume(older):
    for name in ("lm", "clf"):
        resumed = cli("train", "--resume", older / name, "--max-steps", 4, "--format", "json")
        assert resumed.exit_code == 0, resumed.output
        assert json.loads(resumed.stdout)["steps"] == 4


def test_ones_that_shaped_the_training_refuse_to_resume_in_one_line(older):
    run = older / "clf-used"
    before = (run / "last.pt").read_bytes()
    refused = cli("train", "--resume", run, "--max-steps", 4)
    assert refused.exit_code == 1
    line, = refused.stderr.strip().splitlines()
    for shown in ("--layer-lr-decay 2.6", "--unfreeze-every 150", "--label-smoothing 0.1",
                  "--schedule slanted", "cannot be resumed", "still generates, classifies"):
        assert shown in line
    assert (run / "last.pt").read_bytes() == before  # nothing touched
    with pytest.raises(seqcli.SeqcliError, match="cannot be resumed"):
        seqcli.load(older / "lm-used").resume(max_steps=4)


def test_the_migration_itself():
    raw = {"task": "classify", "train": {**USED, "lr": 0.002}}
    assert without_retired(raw) == {"task": "classify", "train": {"schedule": "cosine",
                                                                  "lr": 0.002}}
    assert raw["train"]["layer_lr_decay"] == 2.6  # the stored dict is left as it was
    assert retired_in_use(raw) == ["--layer-lr-decay 2.6", "--unfreeze-every 150",
                                   "--label-smoothing 0.1", "--schedule slanted"]
    assert retired_in_use({"train": NEUTRAL}) == []
    assert RunConfig.from_dict({"task": "lm", "train": NEUTRAL}) == RunConfig()


def test_a_new_run_cannot_ask_for_them():
    with pytest.raises(ConfigError, match=r"unknown key 'label_smoothing' \(removed: measured"):
        config_from_toml({"train": {"label_smoothing": 0.1}}, "classify")
    with pytest.raises(ConfigError, match=r"unknown setting 'layer_lr_decay' \(removed"):
        flat_overrides({"layer_lr_decay": 2.6})
    with pytest.raises(ConfigError, match="--schedule must be one of cosine, constant"):
        config_from_toml({"train": {"schedule": "slanted"}}, "classify")
