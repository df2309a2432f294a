"""The run directory as one concept: create, read, list, find the newest, load for use."""

import json
import time

import pytest
import torch

from seqcli import runs
from seqcli.config import default_config, with_overrides
from seqcli.data.tokenizers import CharTokenizer
from seqcli.errors import CheckpointError
from seqcli.models.builder import build_model
from seqcli.training.checkpoint import (BEST_FILE, KEY_MODEL, LAST_FILE, SUMMARY_FILE,
                                        save_checkpoint)

TOKENIZER = CharTokenizer(list("abc \n"))


def make_run(parent, task="lm", name=None, weights=True, reverse=False):
    config = default_config(task)
    if reverse:
        config = with_overrides(config, {("data", "reverse"): True})
    run_dir = runs.new_run_dir(parent, task) if name is None else runs.prepare_out_dir(parent / name)
    meta = {"labels": ["neg", "pos"]} if task == "classify" else {}
    runs.write_run_files(run_dir, config, TOKENIZER, meta)
    if weights:
        model = build_model(config, TOKENIZER.vocab_size, len(meta.get("labels", [])))
        save_checkpoint(run_dir / BEST_FILE, {KEY_MODEL: model.state_dict()})
    return run_dir


def test_a_new_run_describes_itself(tmp_path):
    run_dir = make_run(tmp_path)
    stored = runs.read_run_config(run_dir)
    assert stored["task"] == "lm" and stored["meta"]["created"] and stored["meta"]["seqcli_version"]
    assert runs.resolved_config(run_dir) == default_config("lm")
    assert runs.read_summary(run_dir) is None  # unfinished
    (run_dir / SUMMARY_FILE).write_text('{"steps": 3}')
    assert runs.read_summary(run_dir) == {"steps": 3}
    (run_dir / SUMMARY_FILE).write_text('{"steps": 3')  # torn
    assert runs.read_summary(run_dir) is None


def test_new_run_dirs_never_collide(tmp_path):
    made = {runs.new_run_dir(tmp_path, "lm") for _ in range(5)}
    assert len(made) == 5 and all(p.name.startswith("lm-") for p in made)


def test_out_dir_refuses_an_existing_run(tmp_path):
    make_run(tmp_path, name="mine")
    with pytest.raises(CheckpointError, match="already holds a run; .*--resume"):
        runs.prepare_out_dir(tmp_path / "mine")


def test_failed_creation_removes_only_what_it_wrote(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")

    def full_disk(path, data):
        raise CheckpointError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(runs, "write_json", full_disk)
    with pytest.raises(CheckpointError, match="the unfinished run directory was removed"):
        runs.write_run_files(runs.prepare_out_dir(out), default_config("lm"), TOKENIZER, {})
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_listing_and_newest_by_task(tmp_path):
    older = make_run(tmp_path, "lm")
    time.sleep(1.1)  # created stamps are to the second
    newer = make_run(tmp_path, "lm")
    clf = make_run(tmp_path, "classify")
    make_run(tmp_path, "lm", name="no-weights", weights=False)
    (tmp_path / "not-a-run").mkdir()
    listed = [r["path"] for r in runs.list_runs(tmp_path)]
    assert set(listed) == {older, newer, clf}
    assert runs.newest_run(tmp_path, "lm") == newer
    assert runs.newest_run(tmp_path, "classify") == clf
    with pytest.raises(CheckpointError, match="no classifier run found in .*--task classify"):
        runs.newest_run(tmp_path / "empty", "classify")
    with pytest.raises(CheckpointError, match="no run found in"):
        runs.newest_run(tmp_path / "empty")


def test_a_right_to_left_model_is_never_the_default(tmp_path):
    """--pretrain-minutes on a bidirectional classifier leaves its backward LM newest."""
    forward = make_run(tmp_path, "lm")
    time.sleep(1.1)
    backward = make_run(tmp_path, "lm", reverse=True)
    assert runs.newest_run(tmp_path, "lm") == forward
    assert runs.newest_run(tmp_path) == forward  # evaluate and export pick from every task
    assert backward in [r["path"] for r in runs.list_runs(tmp_path)]  # still listed
    only = tmp_path / "only"
    make_run(only, "lm", reverse=True)
    with pytest.raises(CheckpointError, match="no left-to-right language-model run found in "
                                              ".*only right-to-left .*pass --model DIR"):
        runs.newest_run(only, "lm")


def test_load_run_for_use(tmp_path):
    run = runs.load_run(make_run(tmp_path, "classify"), device="cpu")
    assert run.task == "classify" and run.labels == ["neg", "pos"]
    assert not run.model.training and run.placement.device.type == "cpu"
    with pytest.raises(CheckpointError, match="is a classifier run, but this command needs a "
                                              "language-model run .*`seqcli train`"):
        runs.load_run(run.path, expect_task="lm")


def test_weights_fall_back_to_last_and_mismatches_are_explained(tmp_path):
    run_dir = make_run(tmp_path, weights=False)
    with pytest.raises(CheckpointError, match="has no checkpoint yet"):
        runs.load_run(run_dir)
    save_checkpoint(run_dir / LAST_FILE, {KEY_MODEL: {"embedding.weight": torch.zeros(2, 2)}})
    assert runs.weights_file(run_dir) == run_dir / LAST_FILE
    with pytest.raises(CheckpointError, match="do not match the run's config.json"):
        runs.load_run(run_dir)


def test_config_of_a_newer_seqcli_is_refused(tmp_path):
    run_dir = make_run(tmp_path)
    stored = json.loads((run_dir / runs.CONFIG_FILE).read_text())
    stored["format_version"] = 99
    (run_dir / runs.CONFIG_FILE).write_text(json.dumps(stored))
    with pytest.raises(CheckpointError, match="written by a newer seqcli"):
        runs.read_run_config(run_dir)
