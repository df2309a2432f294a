"""ScratchRecurrent against FusedRecurrent (torch.nn): values, states and gradients agree."""

import itertools

import pytest
import torch
from torch import nn

from seqcli.errors import UsageError
from seqcli.models.fused import FusedRecurrent
from seqcli.models.recurrent import ScratchRecurrent
from seqcli.models.zoo import build_recurrent

B, T, I, H = 4, 6, 3, 5
LENGTHS = torch.tensor([6, 1, 4, 3])  # unsorted, includes a length-1 sequence
TIGHT = dict(rtol=1e-10, atol=1e-10)
CASES = list(itertools.product(["rnn", "lstm", "gru"], [1, 2], [False, True]))
TORCH_MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def make_pair(cell: str, layers: int, bidirectional: bool, dropout: float = 0.25):
    """A scratch and a fused module with the same weights (copied scratch -> fused), fp64."""
    scratch = ScratchRecurrent(cell, I, H, layers, dropout, bidirectional).double().eval()
    fused = FusedRecurrent(cell, I, H, layers, dropout, bidirectional).double().eval()
    fused.load_state_dict(scratch.state_dict())
    return scratch, fused


def random_state(cell: str, layers: int, bidirectional: bool, generator: torch.Generator):
    shape = (layers * (2 if bidirectional else 1), B, H)
    h = torch.randn(shape, dtype=torch.double, generator=generator)
    return (h, torch.randn(shape, dtype=torch.double, generator=generator)) if cell == "lstm" \
        else h


def as_list(state) -> list[torch.Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


def run(module: nn.Module, x: torch.Tensor, state, lengths):
    """Forward + backward of a fixed random functional of outputs and final states."""
    x = x.clone().requires_grad_(True)
    leaves = [] if state is None else [s.clone().requires_grad_(True) for s in as_list(state)]
    state = None if not leaves else tuple(leaves) if len(leaves) == 2 else leaves[0]
    output, final = module(x, state, lengths)
    g = torch.Generator().manual_seed(7)
    loss = (output * torch.randn(output.shape, dtype=output.dtype, generator=g)).sum()
    for s in as_list(final):
        loss = loss + (s * torch.randn(s.shape, dtype=s.dtype, generator=g)).sum()
    loss.backward()
    grads = {name.removeprefix("rnn."): p.grad for name, p in module.named_parameters()}
    state_grads = [s.grad for s in leaves]
    return output, as_list(final), grads, x.grad, state_grads


def assert_same(a, b) -> None:
    out_a, final_a, grads_a, xg_a, sg_a = a
    out_b, final_b, grads_b, xg_b, sg_b = b
    torch.testing.assert_close(out_a, out_b, **TIGHT)
    assert len(final_a) == len(final_b)
    for u, v in zip(final_a, final_b):
        torch.testing.assert_close(u, v, **TIGHT)
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], **TIGHT, msg=name)
    torch.testing.assert_close(xg_a, xg_b, **TIGHT)
    for u, v in zip(sg_a, sg_b):
        torch.testing.assert_close(u, v, **TIGHT)


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zeros", "state"])
@pytest.mark.parametrize("cell,layers,bidirectional", CASES)
def test_scratch_matches_fused(cell, layers, bidirectional, with_state, with_lengths) -> None:
    g = torch.Generator().manual_seed(CASES.index((cell, layers, bidirectional)))
    scratch, fused = make_pair(cell, layers, bidirectional)
    x = torch.randn(B, T, I, dtype=torch.double, generator=g)
    state = random_state(cell, layers, bidirectional, g) if with_state else None
    lengths = LENGTHS if with_lengths else None
    a, b = run(scratch, x, state, lengths), run(fused, x, state, lengths)
    assert a[0].shape == (B, T, H * (2 if bidirectional else 1))
    assert_same(a, b)
    if with_lengths:  # padded positions are exactly zero in both
        pad = torch.arange(T) >= LENGTHS.unsqueeze(1)
        assert (a[0][pad] == 0).all() and (b[0][pad] == 0).all()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_state_dict_keys_and_order_match_torch(cell: str) -> None:
    reference = TORCH_MODULES[cell](I, H, 2, bidirectional=True, batch_first=True).double()
    scratch = ScratchRecurrent(cell, I, H, 2, bidirectional=True).double()
    fused = FusedRecurrent(cell, I, H, 2, bidirectional=True).double()
    keys = list(reference.state_dict())
    assert list(scratch.state_dict()) == keys and list(fused.state_dict()) == keys
    # Same parameter order too, so optimizer state moves between forms.
    shapes = [p.shape for p in reference.parameters()]
    assert [p.shape for p in scratch.parameters()] == shapes
    assert [p.shape for p in fused.parameters()] == shapes
    # A bare torch.nn module's weights load into both; fused -> scratch works too.
    scratch.load_state_dict(reference.state_dict())
    fused.load_state_dict(reference.state_dict())
    scratch2 = ScratchRecurrent(cell, I, H, 2, bidirectional=True).double()
    scratch2.load_state_dict(fused.state_dict())
    x = torch.randn(B, T, I, dtype=torch.double)
    torch.testing.assert_close(scratch2(x)[0], reference(x)[0], **TIGHT)


def test_keys_stay_flat_inside_a_parent() -> None:
    parent_f = nn.Sequential(nn.Identity(), FusedRecurrent("lstm", I, H))
    parent_s = nn.Sequential(nn.Identity(), ScratchRecurrent("lstm", I, H))
    assert list(parent_f.state_dict()) == list(parent_s.state_dict())
    assert "1.weight_ih_l0" in parent_f.state_dict()
    parent_s.load_state_dict(parent_f.state_dict())
    parent_f.load_state_dict(parent_s.state_dict())
    with pytest.raises(RuntimeError):  # strict loading still catches missing keys
        parent_f.load_state_dict({"1.weight_ih_l0": parent_s[1].weight_ih_l0})


@pytest.mark.parametrize("impl", [ScratchRecurrent, FusedRecurrent])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_padding_and_companions_do_not_leak(impl, cell: str) -> None:
    """A padded sequence behaves as if it were alone and unpadded."""
    torch.manual_seed(3)
    model = impl(cell, I, H, 2, bidirectional=True).double()
    alone = torch.randn(1, 3, I, dtype=torch.double, requires_grad=True)
    out_alone, state_alone = model(alone)
    for fill in (0.0, 1e3, float("nan")):
        batch = torch.randn(3, T, I, dtype=torch.double)  # companions: lengths T and 2
        lengths = torch.tensor([3, T, 2])
        batch[torch.arange(T) >= lengths.unsqueeze(1)] = fill  # the padding
        batch[0, :3] = alone.detach()
        batch.requires_grad_(True)
        out, state = model(batch, lengths=lengths)
        torch.testing.assert_close(out[0, :3], out_alone[0], **TIGHT)
        assert (out[0, 3:] == 0).all()
        for u, v in zip(as_list(state), as_list(state_alone)):
            torch.testing.assert_close(u[:, 0], v[:, 0], **TIGHT)
        model.zero_grad()
        out[0].sum().backward()
        assert (batch.grad[0, 3:] == 0).all() and (batch.grad[1:] == 0).all()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("impl", [ScratchRecurrent, FusedRecurrent])
def test_dropout_between_layers_only_in_training(impl) -> None:
    torch.manual_seed(4)
    x = torch.randn(B, T, I)
    deep = impl("gru", I, H, 2, dropout=0.5)
    eval_out = deep.eval()(x)[0]
    assert not torch.allclose(deep.train()(x)[0], eval_out)
    shallow = impl("gru", I, H, 1, dropout=0.5)  # nothing after the last layer
    torch.testing.assert_close(shallow.train()(x)[0], shallow.eval()(x)[0])


def test_float32_agrees_loosely() -> None:
    torch.manual_seed(5)
    scratch = ScratchRecurrent("lstm", I, H, 2, bidirectional=True)
    fused = FusedRecurrent("lstm", I, H, 2, bidirectional=True)
    fused.load_state_dict(scratch.state_dict())
    x = torch.randn(B, T, I)
    torch.testing.assert_close(scratch(x, lengths=LENGTHS)[0], fused(x, lengths=LENGTHS)[0],
                               rtol=1e-5, atol=1e-6)


def test_build_recurrent_and_usage_errors() -> None:
    assert isinstance(build_recurrent("fused", "lstm", I, H, 1, 0.0, False), FusedRecurrent)
    assert isinstance(build_recurrent("scratch", "gru", I, H, 2, 0.1, True), ScratchRecurrent)
    with pytest.raises(UsageError, match="fused or scratch"):
        build_recurrent("cudnn", "lstm", I, H, 1, 0.0, False)
    for impl in ("fused", "scratch"):
        with pytest.raises(UsageError, match="unknown cell"):
            build_recurrent(impl, "transformer", I, H, 1, 0.0, False)
        with pytest.raises(UsageError, match="hidden_size"):
            build_recurrent(impl, "rnn", I, 0, 1, 0.0, False)
        with pytest.raises(UsageError, match="dropout"):
            build_recurrent(impl, "rnn", I, H, 2, 1.5, False)


def test_every_sequence_shorter_than_the_batch() -> None:
    """With max(lengths) < T both forms still return T steps, the tail all zeros."""
    scratch, fused = make_pair("lstm", 2, True)
    x = torch.randn(B, T, I, dtype=torch.double)
    lengths = torch.tensor([2, 4, 1, 3])
    a, b = run(scratch, x, None, lengths), run(fused, x, None, lengths)
    assert a[0].shape == (B, T, 2 * H) and (a[0][:, 4:] == 0).all()
    assert_same(a, b)


@pytest.mark.parametrize("cell, layers, bidirectional", CASES)
def test_outputs_fast_path_matches_packed_forward(cell, layers, bidirectional) -> None:
    """`outputs` (padded per-direction passes) == the packed forward's outputs, in values and
    gradients, with NaN in the padding."""
    _, fused = make_pair(cell, layers, bidirectional)
    x = torch.randn(B, T, I, dtype=torch.double)
    x[torch.arange(T) >= LENGTHS.unsqueeze(1)] = float("nan")  # the padding is never read
    weight = torch.randn(B, T, (2 if bidirectional else 1) * H, dtype=torch.double)
    results = []
    for compute in (lambda z: fused(z, None, LENGTHS)[0], lambda z: fused.outputs(z, LENGTHS)):
        fused.zero_grad()
        z = x.clone().requires_grad_(True)
        out = compute(z)
        (out * weight).sum().backward()
        results.append((out, z.grad, [p.grad.clone() for p in fused.parameters()]))
    (out_a, xg_a, grads_a), (out_b, xg_b, grads_b) = results
    assert not out_b.isnan().any() and not xg_b.isnan().any()
    torch.testing.assert_close(out_a, out_b, **TIGHT)
    torch.testing.assert_close(torch.nan_to_num(xg_a, nan=0.0), xg_b, **TIGHT)
    for u, v in zip(grads_a, grads_b):
        torch.testing.assert_close(u, v, **TIGHT)
    # Training mode: dropout between layers only, padding still zero.
    fused.train()
    torch.manual_seed(0)
    trained = fused.outputs(x, LENGTHS)
    assert (trained[torch.arange(T) >= LENGTHS.unsqueeze(1)] == 0).all()
    assert torch.allclose(trained, out_b) == (layers == 1)


def test_outputs_of_the_scratch_form_are_its_forward_outputs() -> None:
    scratch, fused = make_pair("gru", 2, True)
    x = torch.randn(B, T, I, dtype=torch.double)
    torch.testing.assert_close(scratch.outputs(x, LENGTHS), scratch(x, None, LENGTHS)[0])
    torch.testing.assert_close(scratch.outputs(x, LENGTHS), fused.outputs(x, LENGTHS), **TIGHT)
