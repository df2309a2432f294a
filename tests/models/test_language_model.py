"""seqcli/models/language_model.py: shapes, state carried across windows, truncation, tying."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from seqcli.models.language_model import LanguageModel, detach_state

V, E, H = 13, 6, 5
COMBOS = list(itertools.product(["fused", "scratch"], ["lstm", "gru", "rnn"]))


def model(impl="fused", cell="lstm", **kwargs):
    torch.manual_seed(0)
    settings = dict(cell=cell, impl=impl, num_layers=2, dropout=0.3)
    settings.update(kwargs)
    return LanguageModel(V, E, H, **settings).double()


def tokens(batch=2, steps=8, seed=1):
    return torch.randint(0, V, (batch, steps), generator=torch.Generator().manual_seed(seed))


def states(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("impl, cell", COMBOS)
def test_forward_shapes(impl, cell):
    lm = model(impl, cell).eval()
    logits, state = lm(tokens(3, 7))
    assert logits.shape == (3, 7, V)
    assert isinstance(state, tuple) == (cell == "lstm")
    for s in states(state):
        assert s.shape == (2, 3, H)  # [layers, batch, hidden]


@pytest.mark.parametrize("impl, cell", COMBOS)
def test_carrying_the_state_over_two_halves_equals_one_pass(impl, cell):
    lm = model(impl, cell).eval()
    x = tokens(2, 8)
    with torch.no_grad():
        whole, final = lm(x)
        first, state = lm(x[:, :3])
        second, state = lm(x[:, 3:], state)
    assert torch.allclose(torch.cat([first, second], dim=1), whole, atol=1e-12)
    for a, b in zip(states(state), states(final)):
        assert torch.allclose(a, b, atol=1e-12)
    with torch.no_grad():  # and the state matters: without it the second half differs
        fresh, _ = lm(x[:, 3:])
    assert not torch.allclose(fresh, second)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_fused_and_scratch_give_the_same_logits(cell):
    fused, scratch = model("fused", cell).eval(), model("scratch", cell).eval()
    scratch.load_state_dict(fused.state_dict())
    x = tokens(2, 6)
    with torch.no_grad():
        assert torch.allclose(fused(x)[0], scratch(x)[0], atol=1e-10)


def test_dropout_is_active_in_training_only():
    lm = model(dropout=0.5)
    x = tokens(2, 6)
    lm.train()
    assert not torch.equal(lm(x)[0], lm(x)[0])
    lm.eval()
    assert torch.equal(lm(x)[0], lm(x)[0])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_detach_state_keeps_values_and_cuts_the_graph(cell):
    lm = model(cell=cell)
    _, state = lm(tokens(2, 4))
    cut = detach_state(state)
    assert type(cut) is type(state)
    for before, after in zip(states(state), states(cut)):
        assert before.grad_fn is not None and after.grad_fn is None
        assert not after.requires_grad
        assert torch.equal(before, after)


def test_detach_state_of_none():
    assert detach_state(None) is None


def embedding_grad_of_first_window(detach: bool) -> torch.Tensor:
    """Two windows with disjoint tokens; gradient of the second window's loss with respect
    to the embeddings of tokens that appear only in the first."""
    lm = model("fused", "lstm").eval()
    first, second = torch.tensor([[1, 2, 3]]), torch.tensor([[4, 5, 6]])
    _, state = lm(first)
    if detach:
        state = detach_state(state)
    logits, _ = lm(second, state)
    F.cross_entropy(logits.flatten(0, 1), torch.tensor([5, 6, 7])).backward()
    return lm.embedding.weight.grad[1:4]


def test_detached_state_stops_gradients_at_the_window_edge():
    assert embedding_grad_of_first_window(detach=False).abs().sum() > 0
    assert torch.equal(embedding_grad_of_first_window(detach=True),
                       torch.zeros(3, E, dtype=torch.double))


def test_tie_weights_shares_the_tensor():
    torch.manual_seed(0)
    lm = LanguageModel(V, H, H, tie_weights=True)
    assert lm.decoder.weight is lm.embedding.weight
    names = [name for name, _ in lm.named_parameters()]
    assert "decoder.weight" not in names  # one parameter, counted once
    with torch.no_grad():
        lm.embedding.weight[3].fill_(0.25)
    assert torch.equal(lm.decoder.weight[3], torch.full((H,), 0.25))
    logits, _ = lm(torch.tensor([[1, 2]]))
    assert logits.shape == (1, 2, V)


def test_untied_weights_are_separate():
    torch.manual_seed(0)
    lm = LanguageModel(V, H, H)
    assert lm.decoder.weight is not lm.embedding.weight
    assert lm.decoder.weight.data_ptr() != lm.embedding.weight.data_ptr()


def test_tie_weights_needs_equal_sizes():
    with pytest.raises(ValueError, match="embedding_size == hidden_size"):
        LanguageModel(V, E, H, tie_weights=True)
