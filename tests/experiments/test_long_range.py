"""The memory experiment: what it trains, what it measures, and the JSON it documents."""

import math

import pytest
import torch
import torch.nn.functional as F

import seqcli
from seqcli.errors import UsageError
from seqcli.experiments.agreement import AgreementTask
from seqcli.experiments.long_range import (DEFAULT_LR, AgreementModel, MemoryConfig, chrono_init_,
                                           gradient_norms, replay)

TINY = dict(distances=(2, 4), hidden=8, steps=20, eval_size=64, gradient_size=16)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_replay_through_the_equations_is_the_fused_run(cell):
    torch.manual_seed(0)
    model = AgreementModel(cell, hidden=12).eval()
    ids, _ = AgreementTask(6).batch(10, torch.Generator().manual_seed(1))
    output, _ = model.recurrent(model.embedding(ids))
    logits, hidden = replay(model, ids)
    assert len(hidden) == ids.shape[1]
    for t in (0, 3, ids.shape[1] - 1):
        torch.testing.assert_close(hidden[t], output[:, t], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(logits, model(ids), atol=1e-5, rtol=1e-5)


def test_gradient_at_k0_is_the_fused_models_gradient_at_its_last_output():
    torch.manual_seed(0)
    model = AgreementModel("lstm", hidden=12)
    config = MemoryConfig(gradient_size=32)
    norms = gradient_norms(model, 5, config, torch.device("cpu"))
    assert len(norms) == AgreementTask(5).length
    ids, labels = AgreementTask(5).batch(32, torch.Generator().manual_seed(
        (config.seed + 0x9E3779B9) % 2**32))
    output, _ = model.recurrent(model.embedding(ids))
    output.retain_grad()
    F.cross_entropy(model.head(output[:, -1]), labels, reduction="sum").backward()
    assert norms[0] == pytest.approx(float(output.grad[:, -1].norm(dim=-1).mean()), rel=1e-4)


def test_the_plain_rnn_gradient_vanishes_going_back():
    torch.manual_seed(0)
    model = AgreementModel("rnn", hidden=16)
    norms = gradient_norms(model, 30, MemoryConfig(gradient_size=16), torch.device("cpu"))
    assert all(math.isfinite(n) and n >= 0 for n in norms)
    assert norms[-1] < 1e-3 * norms[0]


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


def test_gated_cells_learn_what_the_plain_rnn_cannot_reach():
    result = seqcli.experiments.memory(cells=("rnn", "lstm"), distances=(3, 40), hidden=16,
                                       steps=150, eval_size=400, gradient_size=16)
    accuracy = result.accuracy()
    assert accuracy["lstm"][3] > 0.95 and accuracy["lstm"][40] > 0.95
    assert accuracy["rnn"][3] > 0.95 and accuracy["rnn"][40] < 0.65


def test_the_documented_json_and_a_reproducible_result():
    trials = []
    result = seqcli.experiments.memory(on_trial=trials.append, **TINY)
    document = result.to_dict()
    assert set(document) >= {"config", "accuracy", "gradient_norms"}
    assert document["config"]["cells"] == ["rnn", "lstm", "gru"]
    assert document["config"]["lr"] == DEFAULT_LR["sgd"]
    assert document["config"]["gradient_distance"] == 4
    for cell in ("rnn", "lstm", "gru"):
        assert set(document["accuracy"][cell]) == {"2", "4"}
        assert all(0.0 <= a <= 1.0 for a in document["accuracy"][cell].values())
        assert len(document["gradient_norms"][cell]) == 4 + 2
    assert [(t.cell, t.distance) for t in trials] == [
        (c, d) for c in ("rnn", "lstm", "gru") for d in (2, 4)]
    again = seqcli.experiments.memory(**TINY).to_dict()
    assert again["accuracy"] == document["accuracy"]
    assert again["gradient_norms"] == document["gradient_norms"]


@pytest.mark.parametrize("settings,message", [
    (dict(cells=("rnn", "tanh")), "unknown cell 'tanh'"),
    (dict(cells=()), "at least one of"),
    (dict(cells=("gru", "gru")), "each cell once"),
    (dict(distances=(0, 5)), "--distances must be between"),
    (dict(steps=0), "--steps must be at least 1"),
    (dict(optimizer="rmsprop"), "--optimizer must be one of"),
    (dict(lr=float("nan")), "--lr must be a positive number"),
    (dict(hiden=5), "unknown memory experiment setting 'hiden'"),
])
def test_bad_settings_are_refused_before_any_training(settings, message):
    with pytest.raises(UsageError, match=message):
        seqcli.experiments.memory(**settings)
