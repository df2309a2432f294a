"""Train and resume (seqcli/pipeline.py): the one path under `seqcli train` and `seqcli.train`."""

import json
import multiprocessing
import os
import socket
import time
import traceback
from pathlib import Path

import pytest
import torch

from seqcli import pipeline, runs
from seqcli.config import default_config, with_overrides
from seqcli.errors import ConfigError, DataError
from seqcli.locations import Locations
from seqcli.training.checkpoint import LAST_FILE, METRICS_FILE, load_checkpoint

from tests.conftest import write_reviews

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


# ----- two real ranks under a time budget ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _slow_test_scoring(real, rank: int, times: list[float]):
    """predict_logits that takes a second longer on rank 0 for the 3-text test set."""
    def predict_logits(model, data, placement, *args, **kwargs):
        if rank == 0 and len(data) == 3:
            times.append(time.time())
            time.sleep(1.0)
        result = real(model, data, placement, *args, **kwargs)
        if rank == 0 and len(data) == 3:
            times.append(time.time())
        return result
    return predict_logits


def _rank_under_a_budget(rank: int, port: int, folder: Path, results) -> None:
    """One rank of a classifier run bound by --max-minutes, whose corpus brings a test set;
    reports its weights after training and when it left the process group."""
    try:
        os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                           "WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank),
                           "CUDA_VISIBLE_DEVICES": ""})
        torch.set_num_threads(1)
        torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])  # its imports: seconds, once
        from seqcli.classify import evaluate as evaluate_module, splits, task as task_module
        from seqcli.data.labelled import read_labelled
        from seqcli.training import curves, distributed, trainer as trainer_module
        real_split = splits.read_split
        splits.read_split = lambda resolved, split, *rest: (
            read_labelled(folder / "dev.csv") if split == "validation"
            else real_split(resolved, split, *rest))
        scoring: list[float] = []
        for module in (task_module, evaluate_module):  # wherever the test set is scored
            module.predict_logits = _slow_test_scoring(module.predict_logits, rank, scoring)
        curves.RunFigure.draw = lambda self, force=False: None  # no figures: quicker
        weights, real_fit = {}, trainer_module.Trainer.fit

        def fit(self):
            summary = real_fit(self)
            weights.update({k: v.tolist() for k, v in self.model.state_dict().items()})
            return summary

        trainer_module.Trainer.fit = fit
        group = distributed.start(distributed.Spec(2, rank, rank))
        config = config_for(folder / "train.csv", "classify", {
            ("train", "max_minutes"): 0.05, ("train", "epochs"): 100_000, ("train", "ema"): 0.0,
            ("train", "warmup_steps"): 0, ("train", "patience"): None, ("data", "batch_size"): 16,
            ("model", "subwords"): 0})
        summary = pipeline.train(config, Locations(folder / "runs", None, folder / "cache"),
                                 out=folder / "run", group=group)
        distributed.stop(group)  # as `seqcli train` does before it exits
        results.put((rank, {"summary": summary, "weights": weights, "left": time.time(),
                            "scoring": scoring}))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((rank, {"error": traceback.format_exc()}))


def test_two_ranks_under_a_time_budget_agree_and_part_before_rank_0_scores_alone(tmp_path):
    """Each rank once set its learning rate from its own clock (replicas drifted apart under
    --max-minutes), and rank 0 scored the test set while the others waited on a collective
    that could time out. Now the ranks agree on the clock and leave the group first."""
    write_reviews(tmp_path / "train.csv", repeats=10)
    (tmp_path / "dev.csv").write_text('text,label\n"a wonderful, lovely film",positive\n'
                                      '"a dull and awful plot",negative\n'
                                      '"a great warm story",positive\n')
    context = multiprocessing.get_context("spawn")
    results, port = context.Queue(), _free_port()
    processes = [context.Process(target=_rank_under_a_budget, args=(r, port, tmp_path, results),
                                 daemon=True) for r in (0, 1)]
    for process in processes:
        process.start()
    found = {}
    try:
        while len(found) < 2:
            rank, out = results.get(timeout=180)
            found[rank] = out
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    errors = [out["error"] for out in found.values() if "error" in out]
    assert not errors, "\n".join(errors)
    first, second = found[0], found[1]
    assert first["summary"]["stopped_by"] == second["summary"]["stopped_by"] == "time_limit"
    assert first["summary"]["steps"] == second["summary"]["steps"] > 10
    saved = load_checkpoint(tmp_path / "run" / LAST_FILE)["model"]
    for key, value in first["weights"].items():
        assert value == second["weights"][key], key  # every rank holds the same model
        assert value == saved[key].tolist(), key
    assert "test_accuracy" in first["summary"]
    began, ended = first["scoring"]
    assert second["left"] < ended  # rank 1 was gone before rank 0 finished scoring alone
