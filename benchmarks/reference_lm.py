"""The plain-PyTorch reference a `seqcli train` default must beat (issue 13).

A loop of the same shape as seqcli's default language model: a 2x256 LSTM over a 256-wide
character embedding, AdamW 3e-3 with a constant rate, dropout 0.2 between the layers and on
the output, batches of 32 x 128 characters read sequentially with the state carried, fp32,
evaluated once at the end on the last 10% of the text (seqcli's split and layout). The loop
and model live with the other references in seqcli/bench/references.py (`plain_reference`).

    SEQCLI_DATA=../shared/corpora python benchmarks/reference_lm.py [--minutes 5] [--corpus timemachine.txt]

Prints one JSON line: steps, held-out loss in nats per character, seconds, and the curve
([seconds, loss] at each `--eval-at` mark and at the end; evaluation time not counted). `--minutes 0.05`
is a smoke run (tests/bench/test_benchmark_scripts.py).
"""

import argparse
import json
import os
import time
from pathlib import Path

import torch

from seqcli.bench.references import plain_reference


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--corpus", default="timemachine.txt")
    p.add_argument("--eval-at", default="",
                   help="also score at these seconds of training (comma-separated), for a curve")
    args = p.parse_args()
    marks = [float(m) for m in args.eval_at.split(",") if m.strip()]
    start = time.perf_counter()
    text = (Path(os.environ.get("SEQCLI_DATA", ".")) / args.corpus).read_text(encoding="utf-8")
    cut = int(len(text) * 0.9)
    chars = sorted(set(text[:cut]))
    index = {c: i for i, c in enumerate(chars)}
    encode = lambda s: torch.tensor([index.get(c, 0) for c in s])  # noqa: E731
    prep = time.perf_counter() - start  # the curve's clock: preparation + training time
    result = plain_reference(encode(text[:cut]), encode(text[cut:]), len(chars),
                             seconds=args.minutes * 60, eval_at=marks)
    print(json.dumps({"reference": "benchmarks/reference_lm.py", "steps": result["steps"],
                      "val_loss": round(result["val_loss"], 4),
                      "curve": [[round(prep + t, 1), round(v, 4)] for t, v in result["curve"]],
                      "seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
