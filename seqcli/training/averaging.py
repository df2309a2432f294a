"""An exponential moving average of the weights (Polyak averaging), used for evaluation.

Late in training the weights wander around a minimum from one noisy mini-batch to the next;
their running average sits nearer its centre and usually scores better and more steadily on
held-out data than any single step's weights. The trainer evaluates (and keeps as best.pt)
the averaged weights and trains the live ones, so the average changes nothing about the
optimisation itself.

The decay ramps up as ``min(decay, (1 + t) / (10 + t))`` over the first updates, so the random
initialisation does not linger in the average.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


class WeightAverage:
    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"an average's decay must be in (0, 1); got {decay}")
        self.decay, self.updates = decay, 0
        self._params = [p for p in model.parameters() if p.requires_grad]
        self._names = [n for n, p in model.named_parameters() if p.requires_grad]
        self.shadow = [p.detach().clone() for p in self._params]

    @torch.no_grad()
    def update(self) -> None:
        """Fold the live weights into the average (after each optimizer step)."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self.shadow, self._params, 1.0 - decay)

    @contextmanager
    def applied(self) -> Iterator[None]:
        """Inside: the model holds the averaged weights; after: its live weights again."""
        with torch.no_grad():
            live = [p.detach().clone() for p in self._params]
            for p, s in zip(self._params, self.shadow):
                p.copy_(s)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, v in zip(self._params, live):
                    p.copy_(v)

    def state_dict(self) -> dict:
        return {"updates": self.updates,
                "shadow": {n: s.detach().cpu().clone() for n, s in zip(self._names, self.shadow)}}

    def load_state_dict(self, state: dict) -> None:
        self.updates = int(state["updates"])
        with torch.no_grad():
            for n, s in zip(self._names, self.shadow):
                s.copy_(state["shadow"][n])
