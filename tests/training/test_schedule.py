"""The optimizer's groups (weight decay on matrices only, the wide side's own rate) and the
learning-rate schedule."""

import pytest
import torch

from seqcli.config import TrainConfig
from seqcli.models.classifier import Classifier
from seqcli.models.language_model import LanguageModel
from seqcli.training.schedule import build_optimizer, learning_rate


def _rates(optimizer, model):
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)]: group["lr"] for group in optimizer.param_groups
            for p in group["params"]}


def test_the_wide_side_learns_at_its_own_scale_in_groups_placed_last():
    model = Classifier(30, 8, 8, 2, num_layers=2, wide_buckets=64)
    same = build_optimizer(model, TrainConfig(lr=0.01))
    assert len(same.param_groups) == 2  # scale 1: the head's groups, as without a wide side
    assert _rates(same, model)["wide.weight"] == pytest.approx(0.01)
    config = TrainConfig(lr=0.01, weight_decay=0.1, wide_lr_scale=10.0)
    optimizer = build_optimizer(model, config)
    last = optimizer.param_groups[-1]
    assert last["params"] == [model.wide.weight] and last["lr_scale"] == 10.0
    assert last["weight_decay"] == 0.1
    rates = _rates(optimizer, model)
    assert rates["wide.weight"] == pytest.approx(0.1)
    assert rates["output.weight"] == optimizer.param_groups[0]["lr"] == pytest.approx(0.01)


def test_decay_on_matrices_only_in_two_groups():
    model = LanguageModel(20, 8, 8, num_layers=2)
    optimizer = build_optimizer(model, TrainConfig(lr=0.01, weight_decay=0.1))
    assert isinstance(optimizer, torch.optim.AdamW)
    assert len(optimizer.param_groups) == 2
    matrices, vectors = optimizer.param_groups
    assert matrices["weight_decay"] == 0.1 and vectors["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in matrices["params"])
    assert all(p.dim() < 2 for p in vectors["params"])
    assert len(matrices["params"]) + len(vectors["params"]) == len(list(model.parameters()))


def test_sgd_has_one_group_without_decay():
    model = LanguageModel(20, 8, 8, num_layers=1)
    optimizer = build_optimizer(model, TrainConfig(lr=1.0, optimizer="sgd"))
    assert isinstance(optimizer, torch.optim.SGD) and len(optimizer.param_groups) == 1
    assert optimizer.param_groups[0]["weight_decay"] == 0.0


def test_an_optimizer_state_from_before_the_layer_rates_were_removed_loads():
    """Checkpoints written when the groups also carried "depth" and "lr_scale" resume."""
    model = LanguageModel(20, 8, 8, num_layers=1)
    old = build_optimizer(model, TrainConfig()).state_dict()
    for group in old["param_groups"]:
        group.update(depth=0, lr_scale=1.0)
    optimizer = build_optimizer(model, TrainConfig())
    optimizer.load_state_dict(old)
    assert [len(g["params"]) for g in optimizer.param_groups] == \
        [len(g["params"]) for g in old["param_groups"]]


def test_warmup_then_cosine_to_a_tenth_or_constant():
    config = TrainConfig(lr=0.01, warmup_steps=10)
    rates = [learning_rate(config, step, 200) for step in range(200)]
    assert rates[0] == pytest.approx(0.001) and rates[9] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:]))
    assert rates[-1] == pytest.approx(0.001, rel=0.01)
    constant = TrainConfig(lr=0.01, warmup_steps=10, schedule="constant")
    assert {learning_rate(constant, step, 200) for step in range(10, 200)} == {0.01}


def test_a_time_budget_that_runs_out_first_moves_the_cosine_along():
    config = TrainConfig(lr=0.01, warmup_steps=0)
    assert learning_rate(config, 10, 1000, time_fraction=1.0) == pytest.approx(0.001)
    assert learning_rate(config, 10, 1000, time_fraction=0.5) == pytest.approx(0.0055)
