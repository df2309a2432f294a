"""Progress and tables for training, on a Console passed in (never a global one)."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class Reporter:
    """Silent reporter (JSON mode, library use); the rich one overrides these hooks."""

    def start(self, total_steps: int, done: int, description: str,
              budget_seconds: float | None = None) -> None: ...

    def step(self, step: int, fields: dict[str, Any], seconds: float = 0.0) -> None: ...

    def evaluation(self, step: int, metrics: dict[str, Any], improved: bool) -> None: ...

    def message(self, text: str) -> None: ...

    def final(self, step: int, metrics: dict[str, Any]) -> None:
        """The weights kept as best (from `step`), scored once more at the end."""
        self.message(f"kept weights (step {step}) at the end: " +
                     "  ".join(f"{k} {_fmt(v)}" for k, v in metrics.items()))

    def finish(self) -> None: ...


class RichReporter(Reporter):
    """One progress bar with the training fields, plus a line per evaluation."""

    def __init__(self, console: Console, fields: tuple[str, ...]):
        self.console = console
        self.fields = fields
        self.progress: Progress | None = None
        self.task_id = None

    def start(self, total_steps: int, done: int, description: str,
              budget_seconds: float | None = None) -> None:
        self.total_steps, self.budget_seconds = total_steps, budget_seconds
        columns = [TextColumn("[bold]{task.description}"), BarColumn(),
                   TextColumn("{task.completed}/{task.total}")]
        columns += [TextColumn(f"{name} {{task.fields[{name}]}}") for name in self.fields]
        # The ETA is ours: rich's own forgets its pace whenever the total changes, which it
        # does here as the projection of a time budget is refined.
        columns += [TimeElapsedColumn(), TextColumn("{task.fields[eta]}")]
        self.progress = Progress(*columns, console=self.console, transient=False)
        self.progress.start()
        self.task_id = self.progress.add_task(description, total=total_steps, completed=done,
                                              eta="-:--:--",
                                              **{name: "-" for name in self.fields})

    def step(self, step: int, fields: dict[str, Any], seconds: float = 0.0) -> None:
        if self.progress is not None:
            shown = {k: _fmt(v) for k, v in fields.items() if k in self.fields}
            total = binding_total(self.total_steps, step, seconds, self.budget_seconds)
            self.progress.update(self.task_id, completed=step, total=total,
                                 eta=_eta(total, step, seconds), **shown)

    def evaluation(self, step: int, metrics: dict[str, Any], improved: bool) -> None:
        text = "  ".join(f"{k} {_fmt(v)}" for k, v in metrics.items())
        mark = " [green](best)[/]" if improved else ""
        self.message(f"step {step}: {text}{mark}")

    def message(self, text: str) -> None:
        target = self.progress.console if self.progress is not None else self.console
        target.print(text, highlight=False)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def binding_total(total_steps: int, step: int, seconds: float,
                  budget_seconds: float | None) -> int:
    """The step count at which the run will stop: its step budget, or fewer when the time
    budget runs out first (projected from the pace so far), so the bar and its ETA follow
    whichever budget binds."""
    if not budget_seconds or seconds <= 0 or step <= 0:
        return total_steps
    projected = math.ceil(step * budget_seconds / seconds)
    return max(step, min(total_steps, projected))


def _eta(total: int, step: int, seconds: float) -> str:
    """Training time left at the pace so far, as H:MM:SS."""
    if step <= 0 or seconds <= 0:
        return "-:--:--"
    left = round(max(0, total - step) * seconds / step)
    return f"{left // 3600}:{left % 3600 // 60:02d}:{left % 60:02d}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.2e}"
        return f"{value:.4g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def metrics_table(title: str, rows: dict[str, Any]) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in rows.items():
        table.add_row(key, _fmt(value))
    return table
