"""Interleaved timing: every candidate runs a little, in turn, for several rounds, in one process.

Why interleave: on a shared or thermally throttled machine the speed available drifts over
seconds. Running A for a minute and then B for a minute puts that drift into the ratio;
alternating short bursts (and rotating who goes first) spreads it over every candidate
alike, so ratios stay honest even when absolute numbers are noisy.

Peak memory is measured per candidate on Linux by resetting the process's resident-set
high-water mark (``/proc/self/clear_refs``) before each burst and reading ``VmHWM`` after it;
elsewhere it falls back to the process-wide peak (``getrusage``), which only ever grows.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class Candidate:
    """Something to time: ``run()`` does one unit of work and returns how many items it did."""

    name: str
    run: Callable[[], int]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tally:
    items: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time, all threads (see build_report)
    round_rates: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    @property
    def median_item_seconds(self) -> float:
        """Seconds per item in the median round: one disturbed round cannot move it."""
        rates = [r for r in self.round_rates if r > 0]
        return statistics.median(1 / r for r in rates) if rates else float("nan")


def reset_peak_rss() -> bool:
    """Restart the resident-set high-water mark (Linux >= 4.0); False where unsupported."""
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (since the last reset where supported)."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def interleave(candidates: list[Candidate], *, rounds: int, repeats: int, warmup: int = 1,
               on_round: Callable[[int], None] | None = None) -> dict[str, Tally]:
    """Warm every candidate up, then ``rounds`` x (each candidate ``repeats`` times), rotated.

    Warm-up runs are not counted: they pay for first-call costs (allocator growth, kernel
    selection, compilation) that a long run pays once.
    """
    if rounds < 1 or repeats < 1:
        raise ValueError("rounds and repeats must be at least 1")
    for candidate in candidates:
        for _ in range(warmup):
            candidate.run()
    tallies = {c.name: Tally() for c in candidates}
    for r in range(rounds):
        shift = r % len(candidates)
        for candidate in candidates[shift:] + candidates[:shift]:
            _burst(candidate, repeats, tallies[candidate.name])
        if on_round is not None:
            on_round(r + 1)
    return tallies


def _burst(candidate: Candidate, repeats: int, tally: Tally) -> None:
    reset_peak_rss()
    _synchronize()
    start, cpu_start = time.perf_counter(), time.process_time()
    items = sum(candidate.run() for _ in range(repeats))
    _synchronize()  # GPU work is asynchronous: stop the clock when it is done, not queued
    seconds = time.perf_counter() - start
    tally.items += items
    tally.seconds += seconds
    tally.cpu_seconds += time.process_time() - cpu_start
    tally.round_rates.append(items / seconds if seconds > 0 else 0.0)
    tally.peak_rss_mb = max(tally.peak_rss_mb, peak_rss_mb())


def _synchronize() -> None:
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def build_report(config: dict[str, Any], candidates: list[Candidate], tallies: dict[str, Tally],
                 unit: str, ratio_pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The JSON document of `seqcli bench`: config, one result per candidate, ratios.

    Rates are wall-clock. ``<unit>_per_cpu_second`` divides by the CPU time this process used
    instead: with one thread on a machine shared with other work it shows the cost of the
    computation itself, free of the time the process spent waiting for a core.
    """
    key = f"{unit}_per_second"
    results = []
    for c in candidates:
        t = tallies[c.name]
        results.append({"name": c.name, key: round(t.rate, 1),
                        f"{unit}_per_cpu_second": round(t.items / t.cpu_seconds, 1)
                        if t.cpu_seconds > 0 else None,
                        "peak_rss_mb": round(t.peak_rss_mb, 1), "seconds": round(t.seconds, 3),
                        unit: t.items, "round_rates": [round(x, 1) for x in t.round_rates],
                        **c.info})
    rates = {c.name: tallies[c.name].rate for c in candidates}
    ratios = {f"{a} / {b}": round(rates[a] / rates[b], 3)
              for a, b in ratio_pairs if a in rates and b in rates and rates[b] > 0}
    return {"config": config, "results": results, "ratios": ratios}


def machine_info() -> dict[str, Any]:
    """What the numbers depend on: threads, CPU and its features, load, torch version, device."""
    import torch

    info: dict[str, Any] = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                            "cpu_count": os.cpu_count(), "cpu": cpu_name()}
    if hasattr(os, "getloadavg"):  # other work on the machine: read absolute numbers with it
        info["load_average"] = round(os.getloadavg()[0], 2)
    try:
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except (AttributeError, RuntimeError):
        pass
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def cpu_name() -> str:
    """The processor's model name (Linux), else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
