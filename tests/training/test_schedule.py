"""The optimizer's groups: weight decay on matrices only, and discriminative layer rates."""

import pytest
import torch

from seqcli.config import TrainConfig
from seqcli.models.classifier import Classifier
from seqcli.models.language_model import LanguageModel
from seqcli.training.schedule import (build_optimizer, frozen_depth, layer_depths, learning_rate,
                                     slanted_rate)


def _rates(optimizer, model):
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)]: group["lr"] for group in optimizer.param_groups
            for p in group["params"]}


@pytest.mark.parametrize("impl", ["fused", "scratch"])
def test_each_layer_below_the_head_learns_slower(impl):
    model = Classifier(30, 8, 8, 2, num_layers=2, impl=impl, bidirectional=True, subword_buckets=16)
    rates = _rates(build_optimizer(model, TrainConfig(lr=0.008, layer_lr_decay=2.0)), model)
    prefix = "recurrent.rnn." if impl == "fused" else "recurrent."
    assert rates["output.weight"] == pytest.approx(0.008)
    assert rates[prefix + "weight_hh_l1_reverse"] == pytest.approx(0.004)
    assert rates[prefix + "weight_ih_l0"] == pytest.approx(0.002)
    assert rates["embedding.weight"] == rates["subword_embedding.weight"] == pytest.approx(0.001)


def test_the_wide_side_learns_at_its_own_scale_in_groups_placed_last():
    model = Classifier(30, 8, 8, 2, num_layers=2, wide_buckets=64)
    same = build_optimizer(model, TrainConfig(lr=0.01))
    assert len(same.param_groups) == 2  # scale 1: the head's groups, as without a wide side
    assert _rates(same, model)["wide.weight"] == pytest.approx(0.01)
    config = TrainConfig(lr=0.01, weight_decay=0.1, wide_lr_scale=10.0, layer_lr_decay=2.0)
    optimizer = build_optimizer(model, config)
    last = optimizer.param_groups[-1]
    assert last["params"] == [model.wide.weight] and last["lr_scale"] == 10.0
    assert last["weight_decay"] == 0.1 and last["depth"] == 0  # the head's depth
    rates = _rates(optimizer, model)
    assert rates["wide.weight"] == pytest.approx(0.1)
    assert rates["output.weight"] == optimizer.param_groups[0]["lr"] == pytest.approx(0.01)


def test_off_by_default_with_decay_on_matrices_only():
    model = LanguageModel(20, 8, 8, num_layers=2)
    optimizer = build_optimizer(model, TrainConfig(lr=0.01, weight_decay=0.1))
    assert len(optimizer.param_groups) == 2
    matrices, vectors = optimizer.param_groups
    assert matrices["weight_decay"] == 0.1 and vectors["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in matrices["params"])
    assert all(p.dim() < 2 for p in vectors["params"])


def test_depths_follow_the_stack_and_the_schedule_keeps_the_ratios():
    depths = layer_depths(["embedding.weight", "recurrent.weight_ih_l0", "recurrent.bias_hh_l2",
                           "decoder.weight"])
    assert depths == {"embedding.weight": 4, "recurrent.weight_ih_l0": 3,
                      "recurrent.bias_hh_l2": 1, "decoder.weight": 0}
    config = TrainConfig(lr=0.01, warmup_steps=0, layer_lr_decay=3.0)
    model = LanguageModel(20, 8, 8, num_layers=1)
    optimizer = build_optimizer(model, config)
    lr = learning_rate(config, 50, 100)
    for group in optimizer.param_groups:  # as the trainer sets them every step
        group["lr"] = lr * group["lr_scale"]
    rates = _rates(optimizer, model)
    assert rates["decoder.weight"] == pytest.approx(lr)
    assert rates["embedding.weight"] == pytest.approx(lr / 9)
    assert isinstance(optimizer, torch.optim.AdamW)


def test_slanted_triangle_rises_over_a_tenth_then_falls_to_a_32nd():
    config = TrainConfig(lr=0.032, schedule="slanted", warmup_steps=50)
    rates = [learning_rate(config, step, 1000) for step in range(1001)]
    assert rates[0] == pytest.approx(0.001)  # peak / 32, warm-up steps ignored
    assert max(rates) == pytest.approx(0.032) and rates.index(max(rates)) == 100
    assert all(a < b for a, b in zip(rates[:100], rates[1:101]))
    assert all(a > b for a, b in zip(rates[100:1000], rates[101:]))
    assert rates[-1] == pytest.approx(0.001)
    # a time budget that runs out first moves along the same triangle
    assert learning_rate(config, 10, 1000, time_fraction=0.55) == pytest.approx(
        slanted_rate(0.032, 0.55))


def test_unfreezing_groups_carry_their_depth():
    assert frozen_depth(TrainConfig(), 10**6) is None
    config = TrainConfig(unfreeze_every=100)
    assert [frozen_depth(config, s) for s in (0, 99, 100, 250)] == [1, 1, 2, 3]
    model = LanguageModel(20, 8, 8, num_layers=2)
    optimizer = build_optimizer(model, config)
    depths = {group["depth"] for group in optimizer.param_groups}
    assert depths == {0, 1, 2, 3}
    assert all(group["lr_scale"] == 1.0 for group in optimizer.param_groups)
