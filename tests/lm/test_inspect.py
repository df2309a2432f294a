"""seqcli inspect's replay: the model's own weights through the cell equations."""

import pytest
import torch

from seqcli.config import default_config, with_overrides
from seqcli.data.tokenizers import train_tokenizer
from seqcli.device import place
from seqcli.errors import SeqcliError, UsageError
from seqcli.lm.inspect import correlations, inspect_text, step_signal, trace
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


def lm_for(kind, text, **fields):
    torch.manual_seed(0)
    tok = train_tokenizer(kind, [text], vocab_size=300, lowercase=fields.get("lowercase", False))
    overrides = {("model", "hidden_size"): 12, ("data", "tokenizer"): kind}
    overrides.update({("data", name): value for name, value in fields.items()})
    config = with_overrides(default_config("lm"), overrides)
    return build_model(config, tok.vocab_size).eval(), tok


@pytest.mark.parametrize("kind", ["word", "bpe"])
def test_word_and_bpe_tokens_keep_their_spacing_and_unknown_words_are_words(kind):
    """Decoded one by one, a word model's tokens read "thetimetraveller", and its [UNK] was
    taken for a bracket (in_brackets r +0.75 on a text without one)."""
    model, tok = lm_for(kind, "the time traveller looked at the machine\n" * 3)
    text = "the time traveller zyzzyva looked\nat the machine"
    result = inspect_text(model, tok, "lstm", text, CPU)
    assert result.text == text and len(result.tokens) == len(tok.encode(text))
    assert all(text[s:e] == t for (s, e), t in zip(result.spans, result.tokens))
    assert "zyzzyva" in "".join(result.tokens) and "[UNK]" not in "".join(result.tokens)
    assert "line_position" in result.top  # no brackets, quotes or second line here; and a
    assert set(result.top) <= {"line_position", "word_start"}  # word model's every token is a word


def test_a_one_line_text_reports_no_line_starts():
    model, tok = model_for("lstm", "fused")
    result = inspect_text(model, tok, "lstm", 'He said "come (quickly)" and left.', CPU)
    assert "after_newline" not in result.top and "in_quotes" in result.top


def test_a_right_to_left_model_reads_the_text_last_token_first():
    model, tok = model_for("gru", "fused")
    ids = tok.encode(TEXT)
    with torch.no_grad():
        out, _ = model.recurrent(model.embedding(torch.tensor([ids[::-1]])), None)
    result = inspect_text(model, tok, "gru", TEXT, CPU, reverse=True, units=[0, 5])
    assert result.direction == "right_to_left" and result.tokens == list(TEXT)
    expected = out[0].flip(0)  # back in text order
    assert torch.allclose(torch.tensor(result.units[5]), expected[:, 5], atol=1e-5)
    assert inspect_text(model, tok, "gru", TEXT, CPU).direction == "left_to_right"


def test_a_lower_casing_run_reads_lower_case_and_shows_the_text_as_written():
    model, tok = lm_for("char", "i said hello\n", lowercase=True)
    text = "İ SAID HELLO"
    result = inspect_text(model, tok, "lstm", text, CPU, lowercase=True, units=[0])
    assert result.text == text and result.tokens[-5:] == list("HELLO")
    assert len(result.units[0]) == len(text.lower())  # 'İ' is two characters lower-cased


def test_a_failed_self_check_is_one_line_and_runs_without_tf32(monkeypatch):
    model, tok = model_for("lstm", "fused")
    own = model.recurrent.forward
    seen = []

    def off_by_a_little(x, state):
        seen.append(torch.backends.cudnn.allow_tf32)
        out, new = own(x, state)
        return out + 1e-2, new

    monkeypatch.setattr(model.recurrent, "forward", off_by_a_little)
    with pytest.raises(SeqcliError, match="differs from the model's own pass by 1.00e-02") as err:
        inspect_text(model, tok, "lstm", TEXT, CPU)
    assert "\n" not in str(err.value) and not isinstance(err.value, RuntimeError)
    assert seen == [False]  # cuDNN's TF32 (on by default) is off for the compared pass
    assert torch.backends.cudnn.allow_tf32  # and back on after


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_self_check_holds_on_cuda_where_cudnn_defaults_to_tf32(cell):
    """cuDNN runs RNNs in TF32 unless told otherwise; the replay runs in fp32. A wide layer
    over a long text makes TF32's error (about 1e-3) far exceed the check's 1e-4."""
    torch.manual_seed(0)
    text = (TEXT + " ") * 60
    tok = train_tokenizer("char", [text])
    config = with_overrides(default_config("lm"), {("model", "cell"): cell,
                                                   ("model", "hidden_size"): 512,
                                                   ("model", "embedding_size"): 256,
                                                   ("model", "num_layers"): 2})
    gpu = place("cuda", "fp32")
    model = build_model(config, tok.vocab_size).to(gpu.device).eval()
    assert torch.backends.cudnn.allow_tf32  # torch's default, which the check must survive
    result = inspect_text(model, tok, cell, text, gpu, units=[0])
    assert len(result.units[0]) == len(text) and torch.backends.cudnn.allow_tf32


@pytest.mark.parametrize("impl", ["fused", "scratch"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_signal_reads_what_trace_records_for_each_row(cell, impl):
    """Live tracing (seqcli serve): from the state before a token, one step per row gives
    the values the whole-text replay records for that token, in every layer and signal."""
    model, tok = model_for(cell, impl)
    ids = tok.encode(TEXT)
    traced = trace(model, tok, TEXT, cell, CPU)
    at = [3, 11]  # two rows, at different places in the text
    with torch.no_grad():
        states = [model(torch.tensor([ids[:t]]), None)[1] for t in at]
    batch = tuple(torch.cat(parts, dim=1) for parts in zip(*states)) if cell == "lstm" \
        else torch.cat(states, dim=1)
    for signal in traced.signals:
        for layer in (1, 2):
            values = step_signal(model, cell, [ids[t] for t in at], batch, layer, signal, CPU)
            for row, t in enumerate(at):
                assert torch.allclose(values[row], traced.signals[signal][layer - 1, t],
                                      atol=1e-5), (signal, layer)
