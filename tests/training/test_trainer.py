import json
import math
import time

import pytest
import torch

from seqcli.config import RunConfig, TrainConfig
from seqcli.data.ids import ids_tensor
from seqcli.data.tokenizers import train_tokenizer
from seqcli.device import place
from seqcli.errors import TrainingError
from seqcli.figures import pyplot
from seqcli.lm.batches import split_text
from seqcli.lm.evaluate import evaluate_stream
from seqcli.lm.task import LMTask
from seqcli.models.builder import build_model
from seqcli.training import checkpoint as ckpt
from seqcli.training.reporting import Reporter
from seqcli.training.schedule import learning_rate
from seqcli.training.trainer import Trainer

from tests.conftest import tiny_text


AWD = dict(weight_drop=0.3, locked_dropout=True, embedding_dropout=0.1, input_dropout=0.3)


def make(run_dir, partition="sequential", cell="lstm", model=None, eval_batches=None, **train):
    torch.manual_seed(0)
    text = tiny_text()
    train_text, val_text = split_text(text, 0.1)
    tok = train_tokenizer("char", [train_text])
    task = LMTask(ids_tensor([tok.encode(train_text)], tok.vocab_size),
                  ids_tensor([tok.encode(val_text)], tok.vocab_size),
                  batch_size=4, seq_len=16, partition=partition, seed=5,
                  eval_batches=eval_batches)
    config = RunConfig()
    config = RunConfig(model=config.model.__class__(cell=cell, num_layers=2, hidden_size=24,
                                                    embedding_size=8, dropout=0.2,
                                                    **(model or {})))
    model = build_model(config, tok.vocab_size)
    settings = dict(epochs=50, max_steps=40, eval_every=10, lr=1e-2, warmup_steps=3)
    settings.update(train)
    run_dir.mkdir(parents=True, exist_ok=True)
    return Trainer(model, task, TrainConfig(**settings), place("cpu", "fp32"), run_dir)


def records(run_dir, split):
    lines = (run_dir / ckpt.METRICS_FILE).read_text().splitlines()
    return {r["step"]: r for r in map(json.loads, lines) if r["split"] == split}


class StopAt(Reporter):
    def __init__(self, step):
        self.at, self.trainer = step, None

    def step(self, step, fields, seconds=0.0):
        if step >= self.at:
            self.trainer.request_stop()


@pytest.mark.parametrize("partition,ema,model,train", [("sequential", 0.0, None, {}),
                                                       ("random", 0.0, None, {}),
                                                       ("sequential", 0.9, None, {}),
                                                       ("sequential", 0.0, AWD, {}),
                                                       ("sequential", 0.0, None,
                                                        dict(schedule="constant"))])
def test_resumed_run_matches_uninterrupted_run(tmp_path, partition, ema, model, train):
    full = make(tmp_path / "full", partition, model=model, ema=ema, **train)
    summary = full.fit()
    assert summary["steps"] == 40 and summary["stopped_by"] == "max_steps"

    part = make(tmp_path / "part", partition, model=model, ema=ema, **train)
    part.reporter = StopAt(20)
    part.reporter.trainer = part
    stopped = part.fit()
    assert stopped["stopped_by"] == "interrupted" and stopped["steps"] == 20

    resumed = make(tmp_path / "part", partition, model=model, ema=ema, **train)
    resumed.restore(ckpt.load_checkpoint(tmp_path / "part" / ckpt.LAST_FILE))
    final = resumed.fit()
    assert final["steps"] == 40
    a, b = records(tmp_path / "full", "train"), records(tmp_path / "part", "train")
    for step in (30, 40):
        assert a[step]["loss"] == b[step]["loss"]  # bit-identical on CPU
    assert final["val_loss"] == summary["val_loss"]
    for key, value in full.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key])
    for a_best, b_best in zip(full.average.shadow, resumed.average.shadow) if ema else ():
        assert torch.equal(a_best, b_best)


def test_weight_average_is_what_gets_evaluated_and_kept_as_best(tmp_path):
    trainer = make(tmp_path, max_steps=20, eval_every=20, ema=0.9)
    seen = []
    trainer.task.evaluate = lambda model, placement: (
        seen.append([p.detach().clone() for p in model.parameters()]) or {"val_loss": 1.0})
    trainer.fit()
    assert trainer.average.updates == 20
    for evaluated, shadow in zip(seen[0], trainer.average.shadow):
        assert torch.equal(evaluated, shadow)
    # training goes on from the live weights, which differ from the average
    live = [p.detach().clone() for p in trainer.model.parameters()]
    assert any(not torch.equal(v, s) for v, s in zip(live, trainer.average.shadow))
    trainer.model.load_state_dict(ckpt.load_checkpoint(tmp_path / ckpt.BEST_FILE)[ckpt.KEY_MODEL])
    for kept, shadow in zip(trainer.model.parameters(), trainer.average.shadow):
        assert torch.equal(kept, shadow)


def test_training_lowers_loss_and_writes_checkpoints(tmp_path):
    trainer = make(tmp_path, max_steps=60)
    summary = trainer.conclude(trainer.fit())
    val = records(tmp_path, "val")
    assert val[60]["val_loss"] < val[10]["val_loss"]
    assert summary["val_perplexity"] == pytest.approx(math.exp(summary["val_loss"]))
    assert (tmp_path / ckpt.BEST_FILE).is_file() and (tmp_path / ckpt.LAST_FILE).is_file()
    assert json.loads((tmp_path / ckpt.SUMMARY_FILE).read_text())["steps"] == 60
    train = records(tmp_path, "train")
    assert all(r["grad_norm"] >= 0 for r in train.values())


def test_gradient_clipping_bounds_the_update(tmp_path):
    trainer = make(tmp_path, max_steps=1, clip=1e-6, optimizer="sgd", lr=1.0, warmup_steps=0)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit()
    moved = sum((v - before[k]).pow(2).sum() for k, v in trainer.model.state_dict().items())
    assert 0 < moved.sqrt().item() <= 1e-6 * 1.01  # SGD lr 1: step == clipped gradient


def test_early_stopping_keeps_the_best_checkpoint(tmp_path):
    trainer = make(tmp_path, max_steps=400, eval_every=2, patience=2)
    scores = iter([3.0, 2.0, 2.5, 2.6, 2.7, 2.8])
    trainer.task.evaluate = lambda model, placement: {"val_loss": next(scores)}
    summary = trainer.fit()
    assert summary["stopped_by"] == "early_stopping"
    assert summary["steps"] == 8 and summary["best_step"] == 4 and summary["val_loss"] == 2.0
    best = ckpt.load_checkpoint(tmp_path / ckpt.BEST_FILE)
    assert best[ckpt.KEY_PROGRESS]["step"] == 4


def test_non_finite_loss_stops_with_advice_and_keeps_checkpoint(tmp_path):
    trainer = make(tmp_path, max_steps=30)
    trainer.fit()
    good = ckpt.load_checkpoint(tmp_path / ckpt.BEST_FILE)
    again = make(tmp_path / "b", max_steps=30)
    (tmp_path / "b" / ckpt.BEST_FILE).write_bytes((tmp_path / ckpt.BEST_FILE).read_bytes())
    with torch.no_grad():
        again.model.decoder.bias.fill_(float("nan"))
    with pytest.raises(TrainingError, match="step 1.*--lr"):
        again.fit()
    kept = ckpt.load_checkpoint(tmp_path / "b" / ckpt.BEST_FILE)
    assert all(torch.equal(v, good[ckpt.KEY_MODEL][k]) for k, v in kept[ckpt.KEY_MODEL].items())


def test_schedule_warms_up_then_decays():
    config = TrainConfig(lr=1.0, warmup_steps=10, schedule="cosine")
    lrs = [learning_rate(config, s, 100) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[-1] < 0.15 and all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert learning_rate(TrainConfig(lr=0.5, schedule="constant", warmup_steps=0), 50, 100) == 0.5


def test_time_budget_is_the_wall_time_of_the_whole_run(tmp_path):
    """--max-minutes once counted the seconds inside training steps only: evaluations,
    checkpoints and curves came on top (421 s for a 5-minute run). Now training stops early
    enough that everything, the final scoring included, ends inside the budget."""
    torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])  # one-off imports of seconds each
    pyplot()
    started = time.perf_counter()
    trainer = make(tmp_path, max_steps=None, max_minutes=0.05, eval_every=5, warmup_steps=0,
                   eval_batches=1)
    score = trainer.task.evaluate
    trainer.task.evaluate = lambda model, placement: (time.sleep(0.05), score(model, placement))[1]
    summary = trainer.conclude(trainer.fit())
    wall = time.perf_counter() - started
    assert summary["stopped_by"] == "time_limit"
    assert 2.0 < summary["seconds"] <= 3.0 + 0.5 and wall <= 3.0 + 1.0
    assert summary["train_seconds"] < summary["seconds"] - 0.05 * (summary["steps"] // 5)
    val = records(tmp_path, "val")
    seconds = [r["seconds"] for r in val.values()]
    assert seconds == sorted(seconds) and all(r["train_seconds"] < r["seconds"] for r in val.values())
    last_lr = records(tmp_path, "train")[max(records(tmp_path, "train"))]["lr"]
    assert last_lr < 0.15 * 1e-2  # the cosine ended with the budget (floor: a tenth of the peak)


def test_a_resumed_run_goes_on_with_the_same_clock(tmp_path):
    """The budget is the run's, not the invocation's: a run stopped after a minute and resumed
    under a budget of a minute and a half trains about half a minute more."""
    part = make(tmp_path, max_steps=None, max_minutes=10, eval_every=5)
    part.reporter = StopAt(10)
    part.reporter.trainer = part
    stopped = part.fit()
    assert stopped["stopped_by"] == "interrupted"
    payload = ckpt.load_checkpoint(tmp_path / ckpt.LAST_FILE)
    assert 0 < payload[ckpt.KEY_PROGRESS]["seconds"] <= stopped["seconds"]
    payload[ckpt.KEY_PROGRESS]["seconds"] = 60.0  # as if that part had taken a minute
    budget = 61.5 / 60
    resumed = make(tmp_path, max_steps=None, max_minutes=budget, eval_every=5)
    resumed.restore(payload)
    assert resumed.clock.read() >= 60.0
    final = resumed.conclude(resumed.fit())
    assert final["stopped_by"] == "time_limit" and final["steps"] > 10
    assert 60.0 < final["seconds"] <= 61.5 + 0.5 and final["elapsed_seconds"] < 1.5 + 0.5
    del payload[ckpt.KEY_PROGRESS]["seconds"]  # a checkpoint written before the wall clock
    older = make(tmp_path / "old", max_steps=None)
    older.restore(payload)
    assert older.progress.seconds == payload[ckpt.KEY_PROGRESS]["train_seconds"]


def test_evaluations_score_a_fixed_sample_and_the_kept_weights_the_whole_split(tmp_path):
    trainer = make(tmp_path, max_steps=30, eval_every=10, eval_batches=1)
    assert trainer.task.final_cost() == 6.0  # the split holds 6 batches of 4 x 16
    summary = trainer.conclude(trainer.fit())
    kept = make(tmp_path / "kept").model
    kept.load_state_dict(ckpt.load_checkpoint(tmp_path / ckpt.BEST_FILE)[ckpt.KEY_MODEL])
    cpu = place("cpu", "fp32")
    sample = evaluate_stream(kept, trainer.task.val_ids, 4, 16, cpu, max_batches=1)
    whole = evaluate_stream(kept, trainer.task.val_ids, 4, 16, cpu)
    best = summary["best_step"]
    assert records(tmp_path, "val")[best]["val_loss"] == sample["loss"]  # what selected it
    assert summary["val_loss"] == whole["loss"] != sample["loss"]  # what the summary says
    final = records(tmp_path, "final")
    assert list(final) == [best] and final[best]["val_loss"] == whole["loss"]
    assert final[best]["seconds"] == summary["seconds"]
