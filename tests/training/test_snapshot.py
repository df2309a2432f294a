"""seqcli/training/snapshot.py: the RNG streams and the carried recurrent state in `last.pt`,
with one process (SOLO) and with stand-in groups of several ranks (only their `rows`, `rank`,
`world_size` and `active` are used here; tests/training/test_distributed.py gathers for real).
"""

from types import SimpleNamespace

import pytest
import torch

from seqcli.training.distributed import SOLO, Group, Spec
from seqcli.training.snapshot import gather_state, own_rows, restore_rng, rng_states

CPU = torch.device("cpu")


def fake_group(world_size: int, rank: int) -> SimpleNamespace:
    """A rank of a group that is never joined: no collective may be called on it."""
    return SimpleNamespace(world_size=world_size, rank=rank, active=world_size > 1,
                           is_main=rank == 0, rows=Group(Spec(world_size, rank, rank)).rows)


def expected_reseed(seed: int, step: int, rank: int, n: int = 6) -> torch.Tensor:
    torch.manual_seed((seed * 1_000_003 + step) * 1009 + rank)
    return torch.rand(n)


# ----- RNG ---------------------------------------------------------------------------------
def test_rng_states_of_one_process():
    rng = rng_states(SOLO)
    assert torch.equal(rng["cpu"], torch.get_rng_state())
    assert "ranks" not in rng
    assert ("cuda" in rng) == torch.cuda.is_available()


def test_restore_rng_continues_the_same_stream():
    torch.manual_seed(1234)
    torch.rand(3)
    rng = rng_states(SOLO)
    first = torch.rand(8)
    torch.randn(100)  # the stream moves on
    restore_rng(rng, SOLO, seed=7, step=40)
    assert torch.equal(torch.rand(8), first)


def test_restore_rng_works_on_a_saved_copy():
    torch.manual_seed(5)
    rng = {key: value.clone() if isinstance(value, torch.Tensor) else value
           for key, value in rng_states(SOLO).items()}
    first = torch.rand(4)
    restore_rng(rng, SOLO, seed=0, step=0)
    assert torch.equal(torch.rand(4), first)


def test_restore_rng_without_saved_states_leaves_the_stream_alone():
    torch.manual_seed(9)
    state = torch.get_rng_state()
    restore_rng({}, SOLO, seed=1, step=2)
    assert torch.equal(torch.get_rng_state(), state)


def test_restore_rng_same_number_of_ranks_takes_this_ranks_stream():
    group = fake_group(2, 1)
    torch.manual_seed(11)
    rank0 = torch.get_rng_state()
    torch.manual_seed(22)
    rank1 = torch.get_rng_state()
    expected = torch.rand(6)
    torch.manual_seed(0)
    restore_rng({"cpu": rank0, "ranks": [rank0, rank1]}, group, seed=3, step=10)
    assert torch.equal(torch.rand(6), expected)


@pytest.mark.parametrize("ranks", [None, "one", "four"])
def test_restore_rng_other_number_of_ranks_reseeds_from_seed_step_and_rank(ranks):
    group = fake_group(2, 1)
    state = torch.get_rng_state()
    rng = {"cpu": state}
    if ranks == "one":
        rng["ranks"] = [state]
    elif ranks == "four":
        rng["ranks"] = [state] * 4
    expected = expected_reseed(seed=3, step=10, rank=1)
    torch.manual_seed(999)
    restore_rng(rng, group, seed=3, step=10)
    assert torch.equal(torch.rand(6), expected)
    restore_rng(rng, group, seed=3, step=10)  # deterministic
    assert torch.equal(torch.rand(6), expected)


def test_reseeded_streams_differ_by_rank_step_and_seed():
    rng = {"cpu": torch.get_rng_state(), "ranks": [torch.get_rng_state()]}
    draws = {}
    for rank, step, seed in [(0, 10, 3), (1, 10, 3), (1, 11, 3), (1, 10, 4)]:
        restore_rng(rng, fake_group(2, rank), seed=seed, step=step)
        draws[rank, step, seed] = torch.rand(6)
    values = list(draws.values())
    assert all(not torch.equal(a, b) for i, a in enumerate(values) for b in values[i + 1:])


def test_one_process_resuming_a_two_rank_checkpoint_reseeds():
    torch.manual_seed(11)
    rank0 = torch.get_rng_state()
    rng = {"cpu": rank0, "ranks": [rank0, rank0.clone()]}
    expected = expected_reseed(seed=3, step=10, rank=0)
    restore_rng(rng, SOLO, seed=3, step=10)
    assert torch.equal(torch.rand(6), expected)


# ----- carried state -----------------------------------------------------------------------
def test_gather_state_of_nothing_is_nothing():
    assert gather_state(None, SOLO) is None


def test_gather_state_of_one_process_is_the_state_on_the_cpu_detached():
    h = torch.randn(2, 4, 3, requires_grad=True) * 1.0
    c = torch.randn(2, 4, 3)
    lstm = gather_state((h, c), SOLO)
    assert isinstance(lstm, list) and len(lstm) == 2
    assert torch.equal(lstm[0], h) and torch.equal(lstm[1], c)
    assert not lstm[0].requires_grad and lstm[0].device == CPU
    gru = gather_state(h, SOLO)
    assert isinstance(gru, list) and len(gru) == 1 and torch.equal(gru[0], h)


def test_own_rows_of_nothing_is_nothing():
    assert own_rows(None, SOLO, CPU) is None
    assert own_rows(None, fake_group(2, 1), CPU) is None


def test_own_rows_of_one_process_is_everything():
    h, c = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    lstm = own_rows([h, c], SOLO, CPU)
    assert isinstance(lstm, tuple) and len(lstm) == 2
    assert torch.equal(lstm[0], h) and torch.equal(lstm[1], c)
    gru = own_rows([h], SOLO, CPU)
    assert isinstance(gru, torch.Tensor) and torch.equal(gru, h)


def test_own_rows_takes_this_ranks_rows_of_an_lstm_state():
    layers, batch, hidden = 2, 4, 3
    h = torch.arange(layers * batch * hidden, dtype=torch.float32).view(layers, batch, hidden)
    c = -h
    for rank in (0, 1):
        mine = own_rows([h, c], Group(Spec(2, rank, rank)), CPU)
        assert isinstance(mine, tuple) and len(mine) == 2
        assert mine[0].shape == (layers, 2, hidden)
        assert torch.equal(mine[0], h[:, 2 * rank:2 * rank + 2])
        assert torch.equal(mine[1], c[:, 2 * rank:2 * rank + 2])
        assert mine[0].is_contiguous() and mine[1].is_contiguous()


def test_own_rows_takes_this_ranks_rows_of_a_gru_state():
    h = torch.randn(3, 8, 5)
    for rank in range(4):
        mine = own_rows([h], fake_group(4, rank), CPU)
        assert isinstance(mine, torch.Tensor)
        assert mine.shape == (3, 2, 5) and mine.is_contiguous()
        assert torch.equal(mine, h[:, 2 * rank:2 * rank + 2])


def test_own_rows_of_all_ranks_put_together_are_the_saved_state():
    h, c = torch.randn(1, 6, 2), torch.randn(1, 6, 2)
    for world_size in (1, 2, 3, 6):
        parts = [own_rows([h, c], fake_group(world_size, r), CPU) for r in range(world_size)]
        assert torch.equal(torch.cat([p[0] for p in parts], dim=1), h)
        assert torch.equal(torch.cat([p[1] for p in parts], dim=1), c)

