"""The plain-PyTorch reference a `seqcli train` default must beat (issue 13).

A 60-line loop of the same shape as seqcli's default language model: a 2x256 LSTM over a
256-wide character embedding, AdamW 3e-3 with a constant rate, dropout 0.2 between the layers
and on the output, batches of 32 x 128 characters read sequentially with the state carried,
fp32, evaluated once at the end on the last 10% of the text (seqcli's split and layout).

    SEQCLI_DATA=../shared/corpora python benchmarks/reference_lm.py [--minutes 5] [--corpus timemachine.txt]

Prints one JSON line: steps, held-out loss in nats per character, seconds. `--minutes 0.05`
is a smoke run (tests/bench/test_benchmark_scripts.py).
"""

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F


def rows(ids, batch):  # [N] -> [batch, N // batch]: each row a contiguous stretch of the text
    n = ids.numel() // batch
    return ids[: n * batch].view(batch, n)


class Model(nn.Module):
    def __init__(self, vocab, emb=256, hidden=256, layers=2, dropout=0.2):
        super().__init__()
        self.emb, self.drop = nn.Embedding(vocab, emb), nn.Dropout(dropout)
        self.lstm = nn.LSTM(emb, hidden, layers, dropout=dropout, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        y, state = self.lstm(self.emb(x), state)
        return self.out(self.drop(y)), state


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--corpus", default="timemachine.txt")
    args = p.parse_args()
    torch.manual_seed(1234)
    text = (Path(os.environ.get("SEQCLI_DATA", ".")) / args.corpus).read_text(encoding="utf-8")
    cut = int(len(text) * 0.9)
    chars = sorted(set(text[:cut]))
    index = {c: i for i, c in enumerate(chars)}
    encode = lambda s: torch.tensor([index.get(c, 0) for c in s])  # noqa: E731
    train, val = rows(encode(text[:cut]), 32), rows(encode(text[cut:]), 32)
    model = Model(len(chars))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    start, steps, state, pos = time.perf_counter(), 0, None, 0
    while time.perf_counter() - start < args.minutes * 60:
        if pos + 129 > train.shape[1]:
            pos, state = 0, None
        x, y = train[:, pos:pos + 128], train[:, pos + 1:pos + 129]
        pos += 128
        state = None if state is None else tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for i in range(0, val.shape[1] - 1, 128):
            x, y = val[:, i:i + 128], val[:, i + 1:i + 129]
            x = x[:, : y.shape[1]]
            logits, state = model(x, state)
            total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
            count += y.numel()
    print(json.dumps({"reference": "benchmarks/reference_lm.py", "steps": steps,
                      "val_loss": round(total / count, 4),
                      "seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
