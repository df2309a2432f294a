"""The memory experiment's model: chrono initialisation of the gates."""

import math

import pytest
import torch

from seqcli.experiments.memory_model import AgreementModel, chrono_init_


@pytest.mark.parametrize("cell,chunk", [("lstm", 1), ("gru", 1)])
def test_chrono_init_sets_the_keep_gate_for_the_task_length(cell, chunk):
    torch.manual_seed(0)
    module = AgreementModel(cell, hidden=32).recurrent.rnn
    chrono_init_(module, cell, length=22)
    keep = module.bias_ih_l0.detach()[chunk * 32:(chunk + 1) * 32]
    assert float(keep.min()) >= 0.0 and float(keep.max()) <= math.log(21) + 1e-6
    assert float(module.bias_hh_l0.detach()[chunk * 32:(chunk + 1) * 32].abs().max()) == 0.0
    if cell == "lstm":
        torch.testing.assert_close(module.bias_ih_l0.detach()[:32], -keep)
