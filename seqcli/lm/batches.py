"""Language-model batches for truncated backpropagation through time.

The token stream (one compact 1-D tensor) is laid out once as ``batch_size`` rows that each
continue the text, and training walks across them in windows of ``seq_len`` columns::

    stream:  t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12 t13 t14 t15 t16 t17 ...

    sequential partitioning, batch_size=3, seq_len=2 (offset 0):

                 window 0   window 1   window 2
        row 0:   t0  t1  |  t2  t3  |  t4  t5      targets: the same cells of the stream
        row 1:   t6  t7  |  t8  t9  |  t10 t11     shifted by one (t1 t2 | t3 t4 | ...)
        row 2:   t12 t13 |  t14 t15 |  t16 t17

Row b of window k+1 is the continuation of row b of window k, so the recurrent state is
carried from one window to the next and detached (gradients stop at the window edge: that is
the truncation). A random offset at the start of each epoch moves the cut points.

Random partitioning instead cuts the stream into non-overlapping pieces of ``seq_len`` tokens,
shuffles them, and the state starts from zero for every batch (d2l's `seq_data_iter_random`).
Both are deterministic in (seed, epoch), so a resumed run sees exactly the same batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from seqcli.errors import DataError


class LMBatches:
    """Windows over one token stream; see the module docstring for the layout."""

    def __init__(self, ids: torch.Tensor, batch_size: int, seq_len: int,
                 partition: str = "sequential", seed: int = 0, shift: bool = True):
        if ids.dim() != 1:
            raise ValueError("ids must be a 1-D tensor")
        if ids.numel() < seq_len + 1:
            raise DataError(f"the text has {ids.numel()} tokens, fewer than one training window "
                            f"of --seq-len {seq_len} + 1; use a longer text or a smaller --seq-len")
        self.ids, self.seq_len, self.partition, self.seed = ids, seq_len, partition, seed
        self.shift = shift  # random start offset per epoch (off for evaluation)
        # Shrink the number of rows for short texts rather than refusing them.
        self.batch_size = max(1, min(batch_size, (ids.numel() - 1) // seq_len))

    def __len__(self) -> int:
        """Windows (batches) per epoch."""
        if self.partition == "random":
            pieces = (self.ids.numel() - 1) // self.seq_len
            return max(1, pieces // self.batch_size)
        row_len = (self.ids.numel() - 1) // self.batch_size
        return -(-row_len // self.seq_len)

    @property
    def carries_state(self) -> bool:
        return self.partition == "sequential"

    def epoch(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield (inputs, targets) as [batch, time] int64 tensors, skipping `start` windows."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        if self.partition == "random":
            yield from self._random(generator, start)
        else:
            yield from self._sequential(generator, start)

    def _sequential(self, generator: torch.Generator, start: int):
        n, rows, seq_len = self.ids.numel(), self.batch_size, self.seq_len
        max_offset = min(seq_len - 1, n - 1 - rows) if self.shift else 0
        offset = int(torch.randint(0, max_offset + 1, (1,), generator=generator))
        row_len = (n - 1 - offset) // rows
        inputs = self.ids[offset:offset + rows * row_len].view(rows, row_len)
        targets = self.ids[offset + 1:offset + 1 + rows * row_len].view(rows, row_len)
        for k in range(start, -(-row_len // seq_len)):
            cols = slice(k * seq_len, (k + 1) * seq_len)
            yield inputs[:, cols].long(), targets[:, cols].long()

    def _random(self, generator: torch.Generator, start: int):
        n, seq_len = self.ids.numel(), self.seq_len
        offset = int(torch.randint(0, seq_len, (1,), generator=generator))
        pieces = (n - 1 - offset) // seq_len
        if pieces < self.batch_size:
            offset, pieces = 0, (n - 1) // seq_len
        order = torch.randperm(pieces, generator=generator)
        starts = offset + order * seq_len
        steps = torch.arange(seq_len)
        for k in range(start, len(self)):
            chosen = starts[k * self.batch_size:(k + 1) * self.batch_size]
            if chosen.numel() == 0:
                return
            index = (chosen[:, None] + steps[None, :]).to(self.ids.device)
            yield self.ids[index].long(), self.ids[index + 1].long()


def split_text(text: str, val_fraction: float) -> tuple[str, str]:
    """Train on the first part, validate on the last `val_fraction` (nanoGPT's split)."""
    cut = int(len(text) * (1.0 - val_fraction))
    return text[:cut], text[cut:]
