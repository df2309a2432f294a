"""Where does seqcli's training step spend time beyond the LSTM itself? An interleaved ablation.

    python benchmarks/train_step_ablation.py [--threads 1] [--rounds 5] [--steps 4] [--impl fused]

Same model (embedding -> LSTM 256 -> linear over d2l's 28 characters), same batches, one
process, interleaved (seqcli.bench.timing). Variants:

* ``trainer``: seqcli's real step (``Trainer.train_step``): AdamW, clipping, two ``.item()``;
* ``bare-item``: the same arithmetic written inline, with the two ``.item()`` calls;
* ``bare-no-item``: the same without them (what removing per-step host syncs would save);
* ``fused-adamw`` / ``foreach-adamw``: ``bare-no-item`` with AdamW(fused=True) / (foreach=True);
* ``sgd``: ``bare-no-item`` with plain SGD (the optimizer d2l uses).

On a CPU ``.item()`` is not a device synchronisation (the work is already done), so any cost
it shows is just the Python call; on CUDA it blocks the host until the GPU has caught up.
Prints one JSON document (the shape of ``seqcli bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from seqcli.bench.data import d2l_chars
from seqcli.bench.timing import Candidate, build_report, interleave, machine_info
from seqcli.bench.train import TrainBenchSettings, bench_trainer, endless_batches
from seqcli.device import place
from seqcli.models.language_model import detach_state


def bare_step(trainer, optimizer, item: bool):
    """The trainer's arithmetic without the trainer: loss, backward, clip, step."""
    model, task, placement = trainer.model, trainer.task, trainer.placement
    batches = endless_batches(task.batches)
    carried = {"state": None}

    def run() -> int:
        x, y = (t.to(placement.device) for t in next(batches))
        with placement.autocast():
            logits, state = model(x, detach_state(carried["state"]))
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if item:
            loss.item(), norm.item()
        optimizer.step()
        carried["state"] = state
        return y.numel()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--impl", default="fused", choices=("fused", "scratch"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = os.environ.get("SEQCLI_DATA")
    data = d2l_chars(Path(data_dir) if data_dir else None, None)
    settings = TrainBenchSettings()
    placement = place("auto", "auto")
    ids = data.ids[: int(data.ids.numel() * 0.9)]
    tmp = Path("/nonexistent-run-dir")  # nothing is written: no evaluation, no checkpoint

    def fresh():
        torch.manual_seed(0)
        return bench_trainer(settings, data.vocab_size, ids, placement, args.impl, tmp)

    trainer = fresh()
    batches = endless_batches(trainer.task.batches)
    candidates = [Candidate("trainer", lambda: trainer.train_step(next(batches))[2])]
    variants = {
        "bare-item": (lambda p: torch.optim.AdamW(p, lr=3e-3), True),
        "bare-no-item": (lambda p: torch.optim.AdamW(p, lr=3e-3), False),
        "fused-adamw": (lambda p: torch.optim.AdamW(p, lr=3e-3, fused=True), False),
        "foreach-adamw": (lambda p: torch.optim.AdamW(p, lr=3e-3, foreach=True), False),
        "sgd": (lambda p: torch.optim.SGD(p, lr=1.0), False),
    }
    for name, (make, item) in variants.items():
        t = fresh()
        candidates.append(Candidate(name, bare_step(t, make(t.model.parameters()), item)))
    tallies = interleave(candidates, rounds=args.rounds, repeats=args.steps, warmup=2,
                         on_round=lambda r: print(f"round {r}", file=sys.stderr))
    pairs = [("bare-no-item", "bare-item"), ("bare-item", "trainer"),
             ("fused-adamw", "bare-no-item"), ("foreach-adamw", "bare-no-item"),
             ("sgd", "bare-no-item")]
    config = {"impl": args.impl, "precision": placement.precision, "corpus": data.source,
              **machine_info()}
    print(json.dumps(build_report(config, candidates, tallies, "tokens", pairs), indent=2))


if __name__ == "__main__":
    main()
