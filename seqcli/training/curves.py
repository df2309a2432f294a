"""Training curves from a run's metrics.jsonl: `curves.png` in every run directory (training
loss, the validation metrics, the learning rate, against step) and the overlay of several runs
that `seqcli runs plot` draws.

Drawn with matplotlib through seqcli/figures.py (no display needed).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import time

from seqcli.errors import CheckpointError
from seqcli.figures import pyplot, save_figure

CURVES_FILE = "curves.png"
CURVES_SECONDS = 30.0  # the least time between two figures during training
CURVES_SHARE = 0.02  # the most of a run's time that drawing its figure may take
VAL_METRICS = ("val_loss", "val_bits", "val_accuracy", "val_macro_f1")
LABELS = {"val_bits": "bits per token", "val_accuracy": "accuracy", "val_macro_f1": "macro-F1"}


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of a metrics.jsonl; a torn last line (a crash mid-append) is skipped."""
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return records
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            records.append(record)
    return records


def series(records: list[dict[str, Any]], split: str, key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one metric, finite values only."""
    pairs = [(r["step"], float(r[key])) for r in records if r.get("split") == split
             and isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
    return [s for s, _ in pairs], [v for _, v in pairs]


def draw_run(records: list[dict[str, Any]], dest: Path, title: str) -> None:
    """curves.png: loss (training and validation), the other validation metrics, the lr."""
    plt = pyplot()
    figure, (losses, others, lr) = plt.subplots(3, 1, figsize=(7, 8), sharex=True)
    losses.plot(*series(records, "train", "loss"), label="training loss", lw=1)
    losses.plot(*series(records, "val", "val_loss"), "o-", label="validation loss", ms=3)
    losses.set_ylabel("loss (nats)")
    for key in VAL_METRICS[1:]:
        steps, values = series(records, "val", key)
        if steps:
            others.plot(steps, values, "o-", label=LABELS[key], ms=3)
    others.set_ylabel("validation")
    lr.plot(*series(records, "train", "lr"), color="grey", lw=1)
    lr.set_ylabel("learning rate")
    lr.set_xlabel("step")
    for axes in (losses, others):
        if axes.lines:
            axes.legend(loc="best", fontsize="small")
        axes.grid(alpha=0.3)
    figure.suptitle(title, fontsize="medium")
    save_figure(figure, dest)


class RunFigure:
    """A run's curves.png, redrawn from its metrics.jsonl while it trains: at most every
    CURVES_SECONDS, or less often when a figure is slow, so that drawing stays under
    CURVES_SHARE of the time; `force` draws anyway (the end of a run)."""

    def __init__(self, run_dir: Path, title: str):
        self.run_dir, self.title = run_dir, title
        self.seconds = 0.0  # the latest figure's cost (matplotlib's import, paid once, apart)
        self.off = False
        self._drawn_at = -math.inf

    def draw(self, force: bool = False) -> str | None:
        """Draw if it is time; a failure turns drawing off and is returned, once, as text
        (a figure never stops training)."""
        now = time.monotonic()
        if self.off or (not force and now - self._drawn_at < max(CURVES_SECONDS,
                                                                  self.seconds / CURVES_SHARE)):
            return None
        self._drawn_at = now
        try:
            pyplot()
            began = time.monotonic()
            draw_run(read_metrics(self.run_dir / "metrics.jsonl"), self.run_dir / CURVES_FILE,
                     self.title)
            self.seconds = time.monotonic() - began
        except (ImportError, OSError, ValueError, RuntimeError, CheckpointError) as err:
            self.off = True
            return f"curves.png not drawn ({type(err).__name__}: {err})"
        return None


def draw_overlay(runs: Sequence[tuple[str, list[dict[str, Any]]]], metric: str,
                 dest: Path) -> None:
    """One metric of several runs on one axis, each labelled."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 5))
    split = "train" if metric in ("loss", "lr") else "val"
    for label, records in runs:
        axes.plot(*series(records, split, metric), "-" if split == "train" else "o-",
                  label=label, ms=3, lw=1)
    axes.set_xlabel("step")
    axes.set_ylabel(metric)
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    save_figure(figure, dest)


def terminal_curve(records: list[dict[str, Any]], width: int = 72, height: int = 14) -> str:
    """The loss curves drawn in characters (plotext), with ANSI colours; "" with no data."""
    train, val = series(records, "train", "loss"), series(records, "val", "val_loss")
    if not train[0] and not val[0]:
        return ""
    import plotext

    plotext.clf()
    if train[0]:
        plotext.plot(*train, label="training loss")
    if val[0]:
        plotext.plot(*val, label="validation loss", marker="dot")
    plotext.plotsize(width, height)
    plotext.theme("clear")
    plotext.xlabel("step")
    return plotext.build()
