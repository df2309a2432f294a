"""Random numbers for batched sampling: every sample reads its own generator.

Why: with one generator shared by a batch, what sample 1 draws would depend on how many
samples are drawn beside it. Here row i's generator is seeded ``seed + i`` and read by row i
alone, so sample i of N is the sample that ``--seed seed+i`` gives alone, whatever N is and
whatever the other rows do (finish early at a stop string, say).

A token is picked by the exponential race that torch.multinomial itself runs for one draw:
with E_j ~ Exp(1) independent, argmax_j p_j / E_j is token j with probability p_j. Noise is
drawn in blocks of steps (one call per row per block, not per token), so a batch of N costs
N small calls every few steps, not N per step.
"""

from __future__ import annotations

import torch

BLOCK_ELEMENTS = 2**14  # noise per row per refill: bounds memory at 64 KiB a row
MAX_BLOCK = 32  # steps per refill


class RowNoise:
    """Exp(1) noise [rows, vocab] per step, row i from a generator seeded `seeds[i]`."""

    def __init__(self, seeds: list[int], vocab_size: int):
        self.generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        # A fixed block per vocabulary size, so a row's numbers never depend on the batch.
        self.block = max(1, min(MAX_BLOCK, BLOCK_ELEMENTS // vocab_size))
        self.buffer = torch.empty(len(seeds), self.block, vocab_size)
        self.steps = 0

    def draw(self, rows: list[int] | None = None) -> torch.Tensor:
        """This step's noise for `rows` (default: all), in that order: [len(rows), vocab].

        Every row still sampling must be asked every step: a row's t-th draw is its t-th token.
        """
        rows = list(range(len(self.generators))) if rows is None else rows
        at = self.steps % self.block
        if at == 0:
            for row in rows:
                self.buffer[row].exponential_(generator=self.generators[row])
        self.steps += 1
        # Exp(1) can round to 0; p / 0 would be inf (or NaN for a masked token).
        return self.buffer[rows, at].clamp_min(torch.finfo(torch.float32).tiny)
