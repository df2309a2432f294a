"""`seqcli bench train`: training throughput of seqcli against d2l's two training loops.

The d2l configuration: characters of The Time Machine (vocabulary 28), one LSTM layer of 256,
batches of 32 windows of 35 steps, truncated BPTT with the state carried. Candidates:

* ``seqcli-fused``: seqcli's own training step (``Trainer``: AdamW, global-norm clipping, the
  precision ``--precision auto`` resolves to, the LM task's loss) on the torch.nn kernels;
* ``seqcli-scratch``: the same step on the cells written from the equations (``unroll.py``);
* ``reference-scratch`` and ``reference-nn-lstm``: d2l's loops (see ``references.py``).

Every candidate sees the same batches, interleaved in one process (``timing.py``). seqcli's
embedding is as wide as the one-hot vectors by default, so the recurrent layers have the
same size everywhere: only the implementation differs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from itertools import count
from pathlib import Path
from typing import Any

import torch

from seqcli.bench.data import CharStream
from seqcli.bench.references import ConciseLM, ScratchLM, d2l_train_step
from seqcli.bench.settings import TRAIN_CANDIDATES, TrainBenchSettings
from seqcli.bench.timing import Candidate, build_report, interleave, machine_info
from seqcli.config import TrainConfig
from seqcli.device import Placement, place
from seqcli.lm.batches import LMBatches
from seqcli.lm.evaluate import evaluate_stream
from seqcli.lm.task import LMTask
from seqcli.models.language_model import LanguageModel
from seqcli.training.trainer import Trainer

TRAIN_RATIOS = [("seqcli-fused", "reference-nn-lstm"), ("seqcli-scratch", "reference-scratch"),
                ("seqcli-fused", "reference-scratch")]
VAL_FRACTION = 0.1
QUALITY_EVAL_BATCHES = 100  # d2l's settings cover the whole validation part (16 batches)


def bench_train(settings: TrainBenchSettings, data: CharStream,
                on_round: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run the interleaved training benchmark; returns the report (see ``build_report``)."""
    placement = place(settings.device, settings.precision)
    train_ids, val_ids = _split(data.ids)
    with tempfile.TemporaryDirectory(prefix="seqcli-bench-") as tmp:
        candidates = [_candidate(name, settings, data.vocab_size, train_ids, placement, Path(tmp))
                      for name in settings.candidates]
        tallies = interleave(candidates, rounds=settings.rounds, repeats=settings.steps,
                             warmup=settings.warmup, on_round=on_round)
        quality = precision_quality(settings, data.vocab_size, train_ids, val_ids, Path(tmp)) \
            if settings.quality_steps > 0 else None
    config = {**asdict(settings), "candidates": list(settings.candidates),
              "embedding_size": _embedding(settings, data.vocab_size),
              "vocab_size": data.vocab_size, "corpus": data.source,
              "tokens_per_step": settings.batch_size * settings.seq_len,
              "device": placement.describe(), "precision_used": placement.precision,
              **machine_info()}
    report = build_report(config, candidates, tallies, "tokens", TRAIN_RATIOS)
    if quality is not None:
        report["quality"] = quality
    return report


def _split(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    cut = int(ids.numel() * (1 - VAL_FRACTION))
    return ids[:cut], ids[cut:]


def _embedding(settings: TrainBenchSettings, vocab_size: int) -> int:
    return settings.embedding_size or vocab_size


def _candidate(name: str, settings: TrainBenchSettings, vocab_size: int,
               train_ids: torch.Tensor, placement: Placement, tmp: Path) -> Candidate:
    torch.manual_seed(settings.seed)
    if name in ("seqcli-fused", "seqcli-scratch"):
        impl = name.split("-")[1]
        run = seqcli_step(settings, vocab_size, train_ids, placement, impl, tmp / name)
        info = {"impl": impl, "precision": placement.precision, "input": "embedding",
                "optimizer": "adamw"}
        return Candidate(name, run, info)
    fp32 = Placement(placement.device, "fp32")
    kind = {"reference-scratch": ScratchLM, "reference-nn-lstm": ConciseLM}.get(name)
    if kind is None:
        raise ValueError(f"unknown candidate {name!r}; choose from {', '.join(TRAIN_CANDIDATES)}")
    model = kind(settings.cell, vocab_size, settings.hidden_size, settings.num_layers)
    step = d2l_train_step(model.to(fp32.device))
    batches = endless_batches(LMBatches(train_ids, settings.batch_size, settings.seq_len,
                                 seed=settings.seed))

    def run() -> int:
        x, y = next(batches)
        return step(x.to(fp32.device), y.to(fp32.device))

    return Candidate(name, run, {"impl": name.split("-", 1)[1], "precision": "fp32",
                                 "input": "one-hot", "optimizer": "sgd"})


def seqcli_step(settings: TrainBenchSettings, vocab_size: int, train_ids: torch.Tensor,
                placement: Placement, impl: str, run_dir: Path) -> Callable[[], int]:
    """One step of seqcli's real training loop per call (``Trainer.train_step``)."""
    trainer = bench_trainer(settings, vocab_size, train_ids, placement, impl, run_dir)
    batches = endless_batches(trainer.task.batches)

    def run() -> int:
        return trainer.train_step(next(batches))[2]

    return run


def bench_trainer(settings: TrainBenchSettings, vocab_size: int, train_ids: torch.Tensor,
                  placement: Placement, impl: str, run_dir: Path) -> Trainer:
    """seqcli's real `Trainer` on the benchmark's model and data, for timing its steps.

    Public so that benchmarks/train_step_ablation.py times exactly the trainer timed here.
    """
    model = LanguageModel(vocab_size, _embedding(settings, vocab_size), settings.hidden_size,
                          cell=settings.cell, num_layers=settings.num_layers, dropout=0.0,
                          impl=impl)
    task = LMTask(train_ids, train_ids[:0], batch_size=settings.batch_size,
                  seq_len=settings.seq_len, seed=settings.seed)
    config = TrainConfig(epochs=1_000_000, warmup_steps=0, seed=settings.seed)
    return Trainer(model, task, config, placement, run_dir)


def endless_batches(batches: LMBatches) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Epoch after epoch of `batches`: a timed loop must never run out of batches."""
    for epoch in count():
        yield from batches.epoch(epoch)


def precision_quality(settings: TrainBenchSettings, vocab_size: int, train_ids: torch.Tensor,
                      val_ids: torch.Tensor, tmp: Path) -> dict[str, Any]:
    """Validation loss of the fused recipe after ``quality_steps`` at auto precision and fp32.

    The same seed, data and steps for both; when auto already means fp32 there is one run.
    """
    auto = place(settings.device, settings.precision)
    losses = {}
    for precision in dict.fromkeys([auto.precision, "fp32"]):
        placement = Placement(auto.device, precision)
        torch.manual_seed(settings.seed)
        trainer = bench_trainer(settings, vocab_size, train_ids, placement, "fused",
                                tmp / precision)
        batches = endless_batches(trainer.task.batches)
        for _ in range(settings.quality_steps):
            trainer.train_step(next(batches))
        result = evaluate_stream(trainer.model, val_ids, settings.batch_size, settings.seq_len,
                                 placement, max_batches=QUALITY_EVAL_BATCHES)
        losses[precision] = result["loss"]
    fp32 = losses["fp32"]
    best = losses[auto.precision]
    return {"steps": settings.quality_steps, "precision": auto.precision,
            "val_loss": round(best, 4), "fp32_val_loss": round(fp32, 4),
            "relative_difference": round(abs(best - fp32) / fp32, 5)}
