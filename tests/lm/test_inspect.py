"""seqcli inspect's replay: the model's own weights through the cell equations."""

import pytest
import torch

from seqcli.config import default_config, with_overrides
from seqcli.data.tokenizers import train_tokenizer
from seqcli.device import place
from seqcli.errors import UsageError
from seqcli.lm.inspect import correlations, inspect_text, trace
from seqcli.models.builder import build_model

TEXT = 'He said "come (quickly)" and left.\nThe end.'
CPU = place("cpu", "fp32")


def model_for(cell, impl, layers=2):
    torch.manual_seed(0)
    tok = train_tokenizer("char", [TEXT])
    config = with_overrides(default_config("lm"), {("model", "cell"): cell,
                                                   ("model", "impl"): impl,
                                                   ("model", "hidden_size"): 12,
                                                   ("model", "num_layers"): layers})
    return build_model(config, tok.vocab_size).eval(), tok


@pytest.mark.parametrize("impl", ["fused", "scratch"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_replayed_states_equal_the_models_own(cell, impl):
    model, tok = model_for(cell, impl)
    traced = trace(model, tok, TEXT, cell, CPU)
    ids = torch.tensor([tok.encode(TEXT)])
    with torch.no_grad():
        out, state = model.recurrent(model.embedding(ids), None)
    assert torch.allclose(traced.signals["hidden"][-1], out[0], atol=1e-5)
    final_h = state[0] if cell == "lstm" else state
    assert torch.allclose(traced.signals["hidden"][:, -1], final_h[:, 0], atol=1e-5)
    if cell == "lstm":
        assert torch.allclose(traced.signals["cell"][:, -1], state[1][:, 0], atol=1e-5)
    for gate in set(traced.signals) - {"hidden", "cell"}:
        assert 0.0 <= traced.signals[gate].min() and traced.signals[gate].max() <= 1.0
    assert "".join(traced.tokens) == TEXT and traced.num_layers == 2


def test_fused_and_scratch_weights_give_the_same_trace():
    fused, tok = model_for("lstm", "fused")
    scratch, _ = model_for("lstm", "scratch")
    scratch.load_state_dict(fused.state_dict())
    a, b = trace(fused, tok, TEXT, "lstm", CPU), trace(scratch, tok, TEXT, "lstm", CPU)
    assert all(torch.allclose(a.signals[k], b.signals[k], atol=1e-6) for k in a.signals)


def test_correlations_find_a_unit_that_copies_a_property():
    prop = [0, 0, 1, 1, 1, 0, 0, 1.0]
    values = torch.randn(8, 5)
    values[:, 3] = torch.tensor(prop) * 2 - 0.5
    ranked = correlations(values, {"in_quotes": prop, "constant": [1.0] * 8}, top=2)
    assert ranked["in_quotes"][0] == (3, 1.0)
    assert "constant" not in ranked  # nothing to correlate with


def test_choices_of_layer_unit_and_signal_are_checked():
    model, tok = model_for("gru", "fused")
    picked = inspect_text(model, tok, "gru", TEXT, CPU, layer=1, signal="update", units=[2, 5])
    assert list(picked.units) == [2, 5] and picked.layer == 1
    assert len(picked.units[2]) == len(TEXT)
    default = inspect_text(model, tok, "gru", TEXT, CPU, top=1)
    assert default.layer == 2 and set(default.units) == {p[0][0] for p in default.top.values()}
    for kwargs, message in (({"signal": "forget"}, "a GRU has no such signal"),
                            ({"layer": 3}, "--layer must be from 1 to 2"),
                            ({"units": [12]}, "--unit must be from 0 to 11"),
                            ({"top": 0}, "--top must be at least 1")):
        with pytest.raises(UsageError, match=message):
            inspect_text(model, tok, "gru", TEXT, CPU, **kwargs)
    with pytest.raises(UsageError, match="empty"):
        inspect_text(model, tok, "gru", "", CPU)
