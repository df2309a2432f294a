"""Why a cell forgets: the trained run replayed step by step through the cell equations
(models/cells.py, on the trained fused weights), to measure the gradient of the loss with
respect to the hidden state k steps before the end, the quantity whose vanishing the
textbooks blame."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from seqcli.experiments.agreement import AgreementTask
from seqcli.experiments.memory_model import AgreementModel
from seqcli.experiments.memory_settings import MemoryConfig
from seqcli.experiments.memory_training import held_out
from seqcli.models.cells import gru_step, lstm_step, project_input, rnn_step

STEPS = {"rnn": rnn_step, "lstm": lstm_step, "gru": gru_step}


def replay(model: AgreementModel, ids: Tensor) -> tuple[Tensor, list[Tensor]]:
    """(logits, hidden states h_0..h_{T-1}) computed step by step with the cell equations
    on the model's own weights; every state keeps its gradient."""
    rnn = model.recurrent.rnn
    gi = project_input(model.embedding(ids), rnn.weight_ih_l0, rnn.bias_ih_l0)
    batch = ids.shape[0]
    h = gi.new_zeros(batch, rnn.hidden_size)
    state: Any = (h, torch.zeros_like(h)) if model.cell == "lstm" else h
    hidden: list[Tensor] = []
    for t in range(ids.shape[1]):
        state = STEPS[model.cell](gi[:, t], state, rnn.weight_hh_l0, rnn.bias_hh_l0)
        h = state[0] if model.cell == "lstm" else state
        h.retain_grad()
        hidden.append(h)
    return model.head(h), hidden


def gradient_norms(model: AgreementModel, distance: int, config: MemoryConfig,
                   device: torch.device) -> list[float]:
    """Mean over held-out sequences of |dL/dh_{T-1-k}| for k = 0 .. T-1 (k steps back).

    L is each sequence's own cross-entropy (the batch's sum), so the norms do not shrink
    with the batch size.
    """
    ids, labels = AgreementTask(distance).batch(config.gradient_size, held_out(config))
    ids, labels = ids.to(device), labels.to(device)
    with torch.enable_grad():
        logits, hidden = replay(model, ids)
        F.cross_entropy(logits, labels, reduction="sum").backward()
    model.zero_grad(set_to_none=True)
    return [float(h.grad.norm(dim=-1).mean()) for h in reversed(hidden)]
