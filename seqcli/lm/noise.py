"""Random numbers for sampling: every row reads its own generator.

Why: with one generator shared by a batch, what sample 1 draws would depend on how many
samples are drawn beside it. Here each row owns a generator (row i of ``--num-samples`` is
seeded ``seed + i``) that no other row reads, so sample i of N is the sample that
``--seed seed+i`` gives alone, whatever N is and whatever the other rows do (finish early at
a stop string, say, or join and leave a running batch).

A token is picked by the exponential race that torch.multinomial itself runs for one draw:
with E_j ~ Exp(1) independent, argmax_j p_j / E_j is token j with probability p_j. Noise is
drawn in blocks of steps (one call per row per block, not per token).
"""

from __future__ import annotations

import torch

from seqcli.choices import MAX_SEED

BLOCK_ELEMENTS = 2**14  # noise per row per refill: bounds memory at 64 KiB a row
MAX_BLOCK = 32  # steps per refill


class TokenNoise:
    """Exp(1) noise [vocab] per step for one row, from a generator seeded `seed`."""

    def __init__(self, seed: int, vocab_size: int):
        self.generator = torch.Generator().manual_seed(seed)
        # A fixed block per vocabulary size, so a row's numbers never depend on anything else.
        self.block = max(1, min(MAX_BLOCK, BLOCK_ELEMENTS // vocab_size))
        self.buffer = torch.empty(self.block, vocab_size)
        self.steps = 0

    def draw(self) -> torch.Tensor:
        """This step's noise [vocab]: the row's t-th draw is for its t-th token."""
        at = self.steps % self.block
        if at == 0:
            self.buffer.exponential_(generator=self.generator)
            # Exp(1) can round to 0; p / 0 would be inf (or NaN for a masked token).
            self.buffer.clamp_min_(torch.finfo(torch.float32).tiny)
        self.steps += 1
        return self.buffer[at]


def fresh_seed() -> int:
    """A seed for an unseeded run: random (without touching torch's global generator)."""
    return torch.Generator().seed() % MAX_SEED
