"""AWD regularisers: off at evaluation, one mask per batch, fused and scratch still equal."""

import pytest
import torch

from seqcli.config import ModelConfig, RunConfig
from seqcli.errors import ConfigError
from seqcli.models.builder import build_model, dropout_rates
from seqcli.models.classifier import Classifier
from seqcli.models.dropouts import (drop_hidden_weights, dropouts_off, embed, hidden_weight_names,
                                    locked_dropout)
from seqcli.models.language_model import LanguageModel
from seqcli.models.zoo import build_recurrent

REGULARISED = dict(dropout=0.3, weight_drop=0.4, locked=True)


def _pair(cell, layers=2, bidirectional=False, **kw):
    torch.manual_seed(0)
    fused = build_recurrent("fused", cell, 6, 8, layers, kw.pop("dropout", 0.0), bidirectional,
                            **kw)
    scratch = build_recurrent("scratch", cell, 6, 8, layers, fused.dropout, bidirectional,
                              weight_drop=fused.weight_drop, locked=fused.locked)
    scratch.load_state_dict(fused.state_dict())
    return fused, scratch


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fused_and_scratch_draw_the_same_masks_and_agree_in_training(cell):
    fused, scratch = _pair(cell, **REGULARISED)
    x = torch.randn(3, 7, 6)
    outs = []
    for module in (fused, scratch):
        module.train()
        torch.manual_seed(11)
        out, state = module(x)
        loss = out.square().sum()
        loss.backward()
        outs.append((out, state, module.state_dict(keep_vars=True)["weight_hh_l0"].grad))
    torch.testing.assert_close(outs[0][0], outs[1][0], atol=1e-5, rtol=1e-4)
    h_f = outs[0][1][0] if cell == "lstm" else outs[0][1]
    h_s = outs[1][1][0] if cell == "lstm" else outs[1][1]
    torch.testing.assert_close(h_f, h_s, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(outs[0][2], outs[1][2], atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_outputs_with_weight_drop_agree_between_forms(cell, bidirectional):
    fused, scratch = _pair(cell, bidirectional=bidirectional, **REGULARISED)
    x, lengths = torch.randn(4, 6, 6), torch.tensor([6, 2, 5, 1])
    results = []
    for module in (fused.train(), scratch.train()):
        torch.manual_seed(3)
        results.append(module.outputs(x, lengths))
    torch.testing.assert_close(results[0], results[1], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("impl", ["fused", "scratch"])
def test_weight_drop_changes_nothing_at_evaluation(impl):
    torch.manual_seed(0)
    plain = LanguageModel(20, 8, 12, num_layers=2, impl=impl).eval()
    dropped = LanguageModel(20, 8, 12, num_layers=2, impl=impl, dropout=0.4, weight_drop=0.6,
                            embedding_dropout=0.3, locked=True).eval()
    dropped.load_state_dict(plain.state_dict())
    assert list(dropped.state_dict()) == list(plain.state_dict())  # no extra raw weights
    x = torch.randint(0, 20, (2, 9))
    with torch.no_grad():
        torch.testing.assert_close(dropped(x)[0], plain(x)[0])
        dropped.train()
        assert not torch.allclose(dropped(x)[0], plain(x)[0])


def test_weight_drop_resamples_per_batch_and_keeps_the_parameter():
    fused, _ = _pair("lstm", weight_drop=0.5)
    fused.train()
    names = hidden_weight_names(2, 1)
    assert names == ["weight_hh_l0", "weight_hh_l1"]
    first = drop_hidden_weights(lambda n: getattr(fused.rnn, n), names, 0.5, True)
    second = drop_hidden_weights(lambda n: getattr(fused.rnn, n), names, 0.5, True)
    zeros = [(w == 0).float().mean().item() for w in first.values()]
    assert all(0.35 < z < 0.65 for z in zeros)
    assert not torch.equal(first["weight_hh_l0"], second["weight_hh_l0"])
    assert drop_hidden_weights(lambda n: getattr(fused.rnn, n), names, 0.5, False) == {}
    x = torch.randn(2, 5, 6)
    assert not torch.equal(fused(x)[0], fused(x)[0])  # a new mask each forward
    assert isinstance(fused.rnn.weight_hh_l0, torch.nn.Parameter)


def test_locked_dropout_uses_one_mask_across_time():
    torch.manual_seed(0)
    out = locked_dropout(torch.ones(4, 10, 16), 0.5, training=True)
    assert torch.equal(out, out[:, :1].expand_as(out))
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(locked_dropout(torch.ones(2, 3, 4), 0.5, training=False), torch.ones(2, 3, 4))


def test_embedding_dropout_drops_whole_words():
    torch.manual_seed(1)
    embedding = torch.nn.Embedding(50, 4)
    ids = torch.arange(50).repeat(3).view(3, 50)
    out = embed(embedding, ids, 0.5, training=True)
    dropped = (out.abs().sum(-1) == 0)
    assert torch.equal(dropped[0], dropped[1]) and torch.equal(dropped[0], dropped[2])
    assert 10 < int(dropped[0].sum()) < 40
    kept = ~dropped[0]
    torch.testing.assert_close(out[0][kept], 2 * embedding.weight[kept])


def test_dropouts_off_gives_the_evaluation_function_in_training_mode():
    torch.manual_seed(0)
    model = Classifier(30, 8, 8, 2, num_layers=2, dropout=0.5, weight_drop=0.5,
                       embedding_dropout=0.2, locked=True, bidirectional=True)
    x, lengths = torch.randint(1, 30, (3, 7)), torch.tensor([7, 3, 5])
    expected = model.eval()(x, lengths)[0]
    model.train()
    with dropouts_off(model):
        torch.testing.assert_close(model(x, lengths)[0], expected)
    assert model.recurrent.weight_drop == 0.5 and model.input_dropout == 0.5


def test_drop_mult_scales_every_rate_and_is_checked():
    m = ModelConfig(dropout=0.2, input_dropout=0.4, weight_drop=0.3, embedding_dropout=0.1,
                    drop_mult=2.0)
    assert dropout_rates(m) == pytest.approx(
        {"dropout": 0.4, "input_dropout": 0.8, "weight_drop": 0.6, "embedding_dropout": 0.2})
    model = build_model(RunConfig(model=m), vocab_size=10)
    assert model.recurrent.weight_drop == pytest.approx(0.6)
    with pytest.raises(ConfigError, match="--input-dropout 0.4 times --drop-mult 3 reaches 1"):
        RunConfig.from_dict({"model": {"input_dropout": 0.4, "drop_mult": 3.0}})
    with pytest.raises(ConfigError, match="--weight-drop must be in"):
        RunConfig.from_dict({"model": {"weight_drop": 1.0}})
