"""The run's wall clock, as --max-minutes counts it, and what the end of a run still needs.

A time budget is the wall time a user waits: data preparation, training steps, evaluations,
checkpoints, curves and the final scoring of the kept weights all count. A resumed run goes
on with the same clock (the time it spent stopped does not count), so an interrupted run
resumed ends when the uninterrupted one would have, with the same schedule; resume with a
larger --max-minutes to train longer.

Only scoring done for benchmarks (--trace-test) is left out (`RunClock.paused`), so that a
curve of held-out quality against time reads as if nobody had been watching.

To end inside the budget, training stops while there is still time for what comes after it:
the next step, a last evaluation with its checkpoints and curves, and the end-of-run scoring
(`EndCosts.reserve`), each estimated from the latest time it, or its training-time
counterpart, took.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

MARGIN = 1.25  # estimates from the latest costs run a little short (the whole split's batches
#              are not all as quick as the sample's): keep a quarter more


class RunClock:
    """Seconds of the run so far: those of earlier invocations (`before`) plus this one's
    since `started` (a `time.perf_counter()` reading), less the paused time."""

    def __init__(self, started: float | None = None, before: float = 0.0):
        self.started = time.perf_counter() if started is None else started
        self.before = before
        self._paused = 0.0

    def read(self) -> float:
        return self.before + self.this_invocation()

    def this_invocation(self) -> float:
        return time.perf_counter() - self.started - self._paused

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Time spent inside is not the run's (scoring for benchmarks only)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self._paused += time.perf_counter() - start


@dataclass
class EndCosts:
    """The latest cost in seconds of each piece of work that a run's end repeats."""

    final_share: float = 0.0  # end-of-run scoring / one training-time scoring (Task.final_cost)
    step: float = 0.0
    evaluation: float = 0.0  # one evaluation: scoring, checkpoints, metrics (curves apart)
    scoring: float = 0.0  # the task's training-time scoring alone
    curves: float = 0.0
    carried: float = 0.0  # the reserve a resumed run saved, until it measures its own

    def reserve(self) -> float:
        """Seconds to keep for the end: one more step, one more evaluation, the curves and
        the end-of-run scoring."""
        if not self.evaluation:
            return MARGIN * self.step + self.carried
        return MARGIN * (self.step + self.evaluation + self.curves +
                         self.scoring * self.final_share)


def time_fraction(seconds: float, reserve: float, budget: float | None) -> float:
    """The share of a time budget used, counting the reserve as already spent: 1.0 exactly
    when training must stop, so a schedule that follows it ends with training."""
    if not budget:
        return 0.0
    room = budget - reserve
    return 1.0 if room <= 0 else min(1.0, seconds / room)
