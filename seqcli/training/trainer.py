"""One training loop for every task: clipping, precision, schedule, evaluation, early stopping,
a wall-clock budget, Ctrl-C safety and exact resume.

The loop knows nothing about language models or classifiers; a `Task` (seqcli/training/task.py)
supplies batches, the loss and the evaluation. Everything needed to continue exactly where a run
stopped (weights, optimizer, step, epoch position, RNG, the carried recurrent state) goes into
`last.pt` at each evaluation and on Ctrl-C.

`fit` is what every rank does together; `conclude` is what one process does after the ranks
have parted (the end-of-run scoring of the kept weights and summary.json), so that no rank
waits on a collective while rank 0 works alone.
"""

from __future__ import annotations

import contextlib
import math
import signal
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from seqcli.atomic import write_json
from seqcli.config import TrainConfig
from seqcli.device import Placement
from seqcli.errors import TrainingError
from seqcli.training import checkpoint as ckpt
from seqcli.training.averaging import WeightAverage
from seqcli.training.clock import EndCosts, RunClock, time_fraction
from seqcli.training.curves import RunFigure
from seqcli.training.distributed import SOLO, Group
from seqcli.training.reporting import Reporter
from seqcli.training.schedule import build_optimizer, learning_rate
from seqcli.training.snapshot import (Progress, cpu_state, gather_state, own_rows, restore_rng,
                                     rng_states)
from seqcli.training.stopping import StopFlag
from seqcli.training.task import Task, TaskLoss

LOG_EVERY = 10


class Trainer:
    def __init__(self, model: torch.nn.Module, task: Task, config: TrainConfig, placement: Placement,
                 run_dir: Path, reporter: Reporter | None = None, group: Group = SOLO,
                 started: float | None = None):
        """`started`: when the run's clock started (a perf_counter reading; default now), so
        that a budget counts the data preparation before the trainer existed."""
        self.clock = RunClock(started)
        self.model = model.to(placement.device)
        self.task, self.config, self.placement, self.group = task, config, placement, group
        task.shard(group.rank, group.world_size)
        self.step_loss = group.wrap(TaskLoss(self.model, task, placement))
        self.run_dir = Path(run_dir)
        self.reporter = reporter or Reporter()
        self.optimizer = build_optimizer(self.model, config)
        self.average = WeightAverage(self.model, config.ema) if config.ema else None
        self.scaler = torch.amp.GradScaler(placement.device.type,
                                           enabled=placement.precision == "fp16")
        self.progress = Progress()
        self.state = None  # recurrent state carried between batches (language models)
        self.stop = StopFlag()
        self._evaluated_at = 0  # step of the latest evaluation in this process
        self.figure = RunFigure(self.run_dir, f"{self.run_dir.name} ({task.name})")
        self.costs = EndCosts(final_share=task.final_cost())
        self.budget = (config.max_minutes or 0) * 60 or None  # seconds of wall time
        per_epoch = task.batches_per_epoch()
        self.total_steps = config.epochs * per_epoch
        if config.max_steps is not None:
            self.total_steps = min(self.total_steps, config.max_steps)

    def request_stop(self) -> None:
        """Stop at the next step boundary and save a resumable checkpoint (as Ctrl-C does)."""
        self.stop.requested = True

    # ----- checkpoints -------------------------------------------------------------------
    def restore(self, payload: dict[str, Any]) -> None:
        """Continue from a `last.pt` payload: weights, optimizer, progress, RNG, state."""
        self.model.load_state_dict(payload[ckpt.KEY_MODEL])
        self.optimizer.load_state_dict(payload[ckpt.KEY_OPTIMIZER])
        if payload.get(ckpt.KEY_SCALER):
            self.scaler.load_state_dict(payload[ckpt.KEY_SCALER])
        saved = payload[ckpt.KEY_PROGRESS]
        self.progress = Progress(**saved)
        if "seconds" not in saved:  # written before the wall clock: its clock was the steps'
            self.progress.seconds = self.progress.train_seconds
        self.clock.before, self.costs.carried = self.progress.seconds, self.progress.reserve
        if self.average is not None and payload.get(ckpt.KEY_AVERAGE):
            self.average.load_state_dict(payload[ckpt.KEY_AVERAGE])
        restore_rng(payload.get(ckpt.KEY_RNG) or {}, self.group, self.config.seed,
                    self.progress.step)
        self.state = own_rows(payload.get(ckpt.KEY_STATE), self.group, self.placement.device)

    def _save_last(self) -> None:
        """last.pt, written by rank 0; every rank takes part in gathering the state and RNG."""
        rng, carried = rng_states(self.group), gather_state(self.state, self.group)
        if not self.group.is_main:
            return
        ckpt.save_checkpoint(self.run_dir / ckpt.LAST_FILE, {
            ckpt.KEY_MODEL: cpu_state(self.model), ckpt.KEY_OPTIMIZER: self.optimizer.state_dict(),
            ckpt.KEY_SCALER: self.scaler.state_dict() if self.scaler.is_enabled() else None,
            ckpt.KEY_PROGRESS: asdict(self.progress), ckpt.KEY_RNG: rng, ckpt.KEY_STATE: carried,
            ckpt.KEY_AVERAGE: self.average.state_dict() if self.average is not None else None,
        })

    def _save_best(self, metrics: dict[str, float]) -> None:
        ckpt.save_checkpoint(self.run_dir / ckpt.BEST_FILE, {
            ckpt.KEY_MODEL: cpu_state(self.model),
            ckpt.KEY_PROGRESS: {"step": self.progress.step, "metrics": metrics},
        })

    # ----- evaluation --------------------------------------------------------------------
    def _evaluate(self) -> bool:
        """Evaluate, keep the best weights, and say whether early stopping should fire."""
        began = self.clock.read()
        with self._evaluated_weights():
            metrics = self._scores()
            self._evaluated_at = self.progress.step
            value = metrics[self.task.monitor]
            p = self.progress
            better = p.best is None or (value < p.best if self.task.monitor_mode == "min"
                                        else value > p.best)
            if better:
                p.best, p.best_step, p.best_metrics, p.bad_evals = value, p.step, metrics, 0
                if self.group.is_main:
                    self._save_best(metrics)
        if not better:
            p.bad_evals += 1
        self._save_last()
        if self.group.is_main:  # `seconds`: the run's clock when these weights were scored
            ckpt.append_jsonl(self.run_dir / ckpt.METRICS_FILE,
                              {"split": "val", "step": p.step, "epoch": p.epoch,
                               "seconds": began, "train_seconds": p.train_seconds, **metrics})
        self.reporter.evaluation(p.step, metrics, better)
        self.costs.evaluation = self.clock.read() - began
        self._draw_curves()
        patience = self.config.patience
        return patience is not None and p.bad_evals >= patience

    def _scores(self) -> dict[str, float]:
        """The task's evaluation (timed: the end of a run repeats it) and its --trace-test
        scores (off the run's clock), as rank 0 found them."""
        began = time.perf_counter()
        metrics = self.task.evaluate(self.model, self.placement)
        self.costs.scoring = time.perf_counter() - began
        with self.clock.paused():
            metrics.update(self.task.trace(self.model, self.placement))
        return self.group.broadcast(metrics)

    def _draw_curves(self, force: bool = False) -> None:
        """curves.png (rank 0), as often as its cost allows (training/curves.py)."""
        if self.group.is_main:
            failed = self.figure.draw(force)
            if failed:
                self.reporter.message(failed)
            self.costs.curves = self.figure.seconds

    def _evaluated_weights(self):
        """The weights that are evaluated and kept as best: the average when there is one."""
        return self.average.applied() if self.average is not None else contextlib.nullcontext()

    # ----- the loop ----------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train until epochs, --max-steps, --max-minutes, early stopping or Ctrl-C (every rank
        together); the summary so far. Then `conclude` (one process) finishes the run."""
        self.model.train()
        self.reporter.start(self.total_steps, self.progress.step, f"training {self.task.name}",
                            budget_seconds=self.budget)
        try:
            with self.stop:
                reason = self._loop(self.stop)
            if reason != "interrupted" and self.progress.step > self._evaluated_at:
                self._evaluate()
            elif reason == "interrupted":
                self._save_last()
            self._draw_curves(force=True)
        finally:
            self.reporter.step(self.progress.step, {}, seconds=self.progress.seconds)
            self.reporter.finish()
        return self._summary(reason)

    def conclude(self, summary: dict[str, Any]) -> dict[str, Any]:
        """After training, in one process (rank 0, the others gone): score the weights kept as
        best on what training's evaluations left out (Task.final_evaluation) and write
        summary.json. An interrupted run concludes when it is resumed and finishes."""
        if summary["stopped_by"] == "interrupted":
            return summary
        final = {}
        if self.costs.final_share and (self.run_dir / ckpt.BEST_FILE).is_file():
            best = ckpt.load_checkpoint(self.run_dir / ckpt.BEST_FILE)[ckpt.KEY_MODEL]
            self.model.load_state_dict(best)
            final = self.task.final_evaluation(self.model, self.placement)
        p = self.progress
        p.seconds = self.clock.read()
        if final:
            ckpt.append_jsonl(self.run_dir / ckpt.METRICS_FILE,
                              {"split": "final", "step": p.best_step, "seconds": p.seconds,
                               "train_seconds": p.train_seconds, **final})
            self.reporter.final(p.best_step, final)
        summary.update({**final, "seconds": p.seconds,
                        "elapsed_seconds": self.clock.this_invocation()})
        write_json(self.run_dir / ckpt.SUMMARY_FILE, summary)
        return summary

    def _loop(self, stop: StopFlag) -> str:
        p, config = self.progress, self.config
        window_items, window_start = 0, time.perf_counter()
        while p.epoch < config.epochs:
            for batch in self.task.train_batches(p.epoch, p.batch):
                if p.step >= self.total_steps:
                    return "max_steps"
                reason = self._agreed_stop(stop)
                if reason is not None:
                    return reason
                tick = time.perf_counter()
                loss, norm, items = self.train_step(batch)
                p.step, p.batch, p.items = p.step + 1, p.batch + 1, p.items + items
                self.costs.step = time.perf_counter() - tick
                p.train_seconds += self.costs.step
                window_items += items
                if p.step % LOG_EVERY == 0 or p.step == 1:
                    rate = window_items / max(1e-9, time.perf_counter() - window_start)
                    self._log_step(loss, norm, rate)
                    window_items, window_start = 0, time.perf_counter()
                if config.eval_every and p.step % config.eval_every == 0 and self._evaluate():
                    return "early_stopping"
            p.epoch, p.batch, self.state = p.epoch + 1, 0, None
        return "completed"

    def _agreed_stop(self, stop: StopFlag) -> str | None:
        """Ctrl-C / SIGTERM on any rank stops all of them before this step; so does the time
        budget, read from a clock the ranks agree on (the mean of theirs, in one collective
        with the stop flags), which also sets every rank's learning rate alike. The reserve
        for the run's end is rank 0's: it alone draws the curves and concludes."""
        p, ranks = self.progress, self.group.world_size
        interrupted, seconds, reserve = self.group.agree(
            [float(stop.requested), self.clock.read(),
             self.costs.reserve() if self.group.is_main else 0.0])
        p.seconds, p.reserve = seconds / ranks, reserve
        if interrupted:
            self.stop.requested = True  # so that every rank reports (and exits) as interrupted
            return "interrupted"
        return "time_limit" if time_fraction(p.seconds, p.reserve, self.budget) >= 1.0 else None

    def train_step(self, batch) -> tuple[float, float, int]:
        """One optimizer step on one batch -> (loss, gradient norm, items); `bench` times it."""
        # A time budget shapes the schedule only when no step budget is given, so step-budgeted
        # runs stay bit-for-bit reproducible (and exactly resumable). The clock is the one the
        # stop reads, agreed by the ranks: the decay ends when training must.
        p = self.progress
        budget = self.budget if self.config.max_steps is None else None
        lr = learning_rate(self.config, p.step, self.total_steps,
                           time_fraction(p.seconds, p.reserve, budget))
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        with self.placement.autocast():
            loss, state, items = self.step_loss(batch, self.state)
        value, items = self._global_loss(loss.item(), items)
        if not math.isfinite(value):
            self._diverged(f"the loss became {value}")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip).item()
        if not math.isfinite(norm) and not self.scaler.is_enabled():
            self._diverged(f"the gradient norm became {norm}")
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.average is not None:
            self.average.update()
        self.state = state
        return value, norm, items

    def _global_loss(self, value: float, items: int) -> tuple[float, int]:
        """The step's loss and items over all ranks. Each rank's loss is already weighted so
        that their mean is the loss of the whole batch (the mean DDP takes of the gradients)."""
        if not self.group.active:
            return value, items
        total, covered = self.group.agree([value, float(items)])
        return total / self.group.world_size, int(covered)

    def _diverged(self, what: str) -> None:
        step = self.progress.step + 1
        raise TrainingError(
            f"{what} at step {step}; training stopped and the last good checkpoint in "
            f"{self.run_dir} is kept. Try a lower --lr (now {self.config.lr:g}) or a smaller "
            f"--clip (now {self.config.clip:g}), or --precision fp32")

    def _log_step(self, loss: float, norm: float, rate: float) -> None:
        p = self.progress
        lr = self.optimizer.param_groups[0]["lr"]
        record = {"split": "train", "step": p.step, "epoch": p.epoch, "loss": loss,
                  "grad_norm": norm, "lr": lr, f"{self.task.item_name}_per_second": rate}
        if self.group.is_main:
            ckpt.append_jsonl(self.run_dir / ckpt.METRICS_FILE, record)
        self.reporter.step(p.step, {"loss": loss, "ppl": math.exp(min(loss, 50.0)),
                                    "tok/s": rate, "texts/s": rate, "lr": lr},
                           seconds=p.seconds)

    def _summary(self, reason: str) -> dict[str, Any]:
        """`seconds`: the run's clock (all invocations, as the budget counts); `elapsed_seconds`:
        this invocation; `train_seconds`: inside training steps (the throughput's)."""
        p = self.progress
        summary = {"run_dir": str(self.run_dir), "task": self.task.name, "steps": p.step,
                   "stopped_by": reason, "best_step": p.best_step, **p.best_metrics,
                   f"{self.task.item_name}_per_second": p.items / max(1e-9, p.train_seconds),
                   "seconds": self.clock.read(), "elapsed_seconds": self.clock.this_invocation(),
                   "train_seconds": p.train_seconds}
        if reason == "interrupted" and self.stop.signal is not None:
            summary["signal"] = signal.Signals(self.stop.signal).name  # SIGTERM exits 143
        return summary
