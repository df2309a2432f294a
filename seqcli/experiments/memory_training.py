"""Training and scoring one cell at one distance of the memory experiment.

A ten-line loop on fresh synthetic batches, not seqcli's Trainer: there is no corpus, no
checkpoint and no run to resume, only a fixed number of steps. The optimiser is plain SGD
with momentum, that of the classic vanishing-gradient experiments. With Adam the plain RNN
does better than the textbook says (about 0.6-0.9 at 80 steps, depending on the seed): the
subject nouns occur only at the start, so the only gradient their embeddings get is the
vanished one, and Adam's per-parameter scaling enlarges it to a full-size step
(benchmarks/RESULTS.md, issue 12). `optimizer="adam"` shows that.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqcli.choices import MAX_SEED
from seqcli.experiments.agreement import AgreementTask
from seqcli.experiments.memory_model import AgreementModel, chrono_init_
from seqcli.experiments.memory_settings import MemoryConfig


def train_model(cell: str, distance: int, config: MemoryConfig,
                device: torch.device) -> AgreementModel:
    """A fresh model trained for `config.steps` steps on fresh batches at one distance.

    Every (cell, distance) starts from the same seed, so the cells see the same batches.
    """
    torch.manual_seed(config.seed)
    model = AgreementModel(cell, config.hidden)
    if config.init == "chrono":
        chrono_init_(model.recurrent.rnn, cell, AgreementTask(distance).length)
    model.to(device).train()
    optimizer = _optimizer(model, config)
    task, batches = AgreementTask(distance), torch.Generator().manual_seed(config.seed + 1)
    for _ in range(config.steps):
        ids, labels = task.batch(config.batch_size, batches)
        loss = F.cross_entropy(model(ids.to(device)), labels.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
    return model.eval()


def _optimizer(model: nn.Module, config: MemoryConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)


@torch.no_grad()
def accuracy(model: AgreementModel, distance: int, config: MemoryConfig,
             device: torch.device) -> float:
    """Accuracy on `config.eval_size` held-out sequences (a generator training never uses)."""
    ids, labels = AgreementTask(distance).batch(config.eval_size, held_out(config))
    predicted = model(ids.to(device)).argmax(dim=-1).cpu()
    return float((predicted == labels).float().mean())


def held_out(config: MemoryConfig) -> torch.Generator:
    """The generator of held-out sequences: seeded apart from every training batch."""
    return torch.Generator().manual_seed((config.seed + 0x9E3779B9) % MAX_SEED)
