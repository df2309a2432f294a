"""`seqcli bench train --nproc N`: the real `seqcli train` in one process against N
data-parallel processes, round after round (the order alternating), on the same corpus file.

Each candidate run is a fresh `python -m seqcli train` of ``steps`` optimizer steps; its rate is
read from the run's own metrics (tokens per second of the logged windows after the first, so
start-up, the first step's kernel set-up and the process launch are left out). One process
uses torch's default threads; each of the N processes gets cores / N threads, as
`seqcli train --nproc` gives them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from seqcli.bench.timing import Candidate, Tally, build_report, machine_info
from seqcli.errors import SeqcliError

LOG_EVERY = 10  # the trainer logs a window's rate every 10 steps


@dataclass(frozen=True)
class ProcessBenchSettings:
    nproc: int = 2
    cell: str = "lstm"
    hidden_size: int = 256
    num_layers: int = 1
    embedding_size: int = 28  # d2l: as wide as the 28-character one-hot input
    batch_size: int = 32
    seq_len: int = 35
    precision: str = "fp32"
    steps: int = 60  # per run: the windows after the first LOG_EVERY steps are measured
    rounds: int = 3


def bench_processes(settings: ProcessBenchSettings, text: str, source: str,
                    on_round: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Interleaved rounds of both candidates on `text`; the report of `seqcli bench`."""
    if settings.steps < 2 * LOG_EVERY:
        raise SeqcliError(f"--steps must be at least {2 * LOG_EVERY} to measure a steady window")
    names = ["seqcli-train-1proc", f"seqcli-train-{settings.nproc}proc"]
    tallies = {name: Tally() for name in names}
    with tempfile.TemporaryDirectory(prefix="seqcli-bench-nproc-") as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text(text, encoding="utf-8")
        for r in range(settings.rounds):
            for k, name in enumerate(names if r % 2 == 0 else names[::-1]):
                procs = 1 if name == names[0] else settings.nproc
                items, seconds = _run(settings, corpus, procs, Path(tmp) / f"{r}-{k}")
                tally = tallies[name]
                tally.items, tally.seconds = tally.items + items, tally.seconds + seconds
                tally.round_rates.append(items / seconds)
            if on_round is not None:
                on_round(r + 1)
    cores = os.cpu_count() or 1
    info = {"precision": settings.precision}
    candidates = [Candidate(names[0], _never, {**info, "processes": 1, "threads_each": cores}),
                  Candidate(names[1], _never, {**info, "processes": settings.nproc,
                                               "threads_each": max(1, cores // settings.nproc)})]
    config = {**asdict(settings), "corpus": source, "device": "each run's --device auto",
              **machine_info()}
    return build_report(config, candidates, tallies, "tokens", [(names[1], names[0])])


def _run(settings: ProcessBenchSettings, corpus: Path, nproc: int,
         out: Path) -> tuple[int, float]:
    """Tokens and seconds of one run's steady windows."""
    done = subprocess.run([sys.executable, "-m", "seqcli", "train",
                           *_train_args(settings, corpus, nproc, out)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SeqcliError(f"benchmark run with {nproc} process(es) failed: {last}")
    windows = [json.loads(line) for line in open(out / "metrics.jsonl", encoding="utf-8")]
    rates = [w["tokens_per_second"] for w in windows
             if w.get("split") == "train" and w["step"] > LOG_EVERY]
    tokens = LOG_EVERY * settings.batch_size * settings.seq_len
    return tokens * len(rates), sum(tokens / rate for rate in rates)


def _train_args(settings: ProcessBenchSettings, corpus: Path, nproc: int,
                out: Path) -> list[str]:
    """`seqcli train` options of one candidate run: no evaluation to speak of, no dropout."""
    return ["--corpus", str(corpus), "--cell", settings.cell,
            "--hidden", str(settings.hidden_size), "--layers", str(settings.num_layers),
            "--embedding", str(settings.embedding_size), "--batch-size", str(settings.batch_size),
            "--seq-len", str(settings.seq_len), "--dropout", "0",
            "--precision", settings.precision, "--max-steps", str(settings.steps),
            "--max-minutes", "0", "--eval-every", "1000000", "--eval-batches", "1",
            "--out", str(out), "--format", "json"] + (["--nproc", str(nproc)] if nproc > 1 else [])


def _never() -> int:  # the candidates run as processes, not in this one
    raise RuntimeError("process candidates are not timed in-process")
