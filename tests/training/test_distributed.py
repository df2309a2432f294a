"""seqcli/training/distributed.py: SOLO is the identity, a rank's share of the rows, and a real
two-process gloo group (spawned once for the whole module) whose collectives, DDP wrapper and
teardown are checked in the children and reported back to this process.

End-to-end runs through the CLI are in tests/cli/test_distributed_cli.py.
"""

import multiprocessing
import os
import queue
import socket
import traceback

import pytest
import torch
import torch.distributed as dist

from seqcli.errors import UsageError
from seqcli.training import distributed
from seqcli.training.distributed import SOLO, Group, Spec, local_device, start, stop

CPU = torch.device("cpu")
DOCUMENT = {"val_loss": 1.25, "val_perplexity": 3.4903429574618414, "best": None,
            "path": "runs/lm-2024 é/last.pt", "nested": {"steps": [1, 2, 3], "ok": True}}


# ----- SOLO ----------------------------------------------------------------------------------
def test_solo_is_one_main_process():
    assert SOLO.world_size == 1 and SOLO.rank == 0 and SOLO.local_rank == 0
    assert SOLO.is_main and not SOLO.active


def test_solo_collectives_are_the_identity():
    values = [1.5, 0.0, 3.0]
    assert SOLO.agree(values) is values
    assert SOLO.broadcast(DOCUMENT) is DOCUMENT
    state = torch.randn(2, 3, 4)
    assert SOLO.gather_rows(state) is state
    gathered = SOLO.gather(state)
    assert len(gathered) == 1 and gathered[0] is state


def test_solo_rows_are_all_of_them():
    assert SOLO.rows(7) == slice(0, 7)
    assert list(range(10))[SOLO.rows(10)] == list(range(10))


def test_solo_wrap_returns_the_module_itself():
    module = torch.nn.Linear(2, 2)
    assert SOLO.wrap(module) is module


def test_solo_local_device_is_the_request():
    for requested in ("auto", "cpu", "cuda", "mps"):
        assert local_device(SOLO, requested) == requested


def test_stop_solo_is_harmless():
    stop(SOLO)
    stop(SOLO, finished=False)
    assert not dist.is_initialized()


# ----- Group.rows ----------------------------------------------------------------------------
@pytest.mark.parametrize("world_size", [2, 4])
def test_rows_are_contiguous_equal_shares_in_rank_order(world_size):
    total = 8
    slices = [Group(Spec(world_size, r, r)).rows(total) for r in range(world_size)]
    share = total // world_size
    assert slices == [slice(r * share, (r + 1) * share) for r in range(world_size)]
    covered = [i for s in slices for i in range(total)[s]]
    assert covered == list(range(total))  # every row once, in order


def test_group_from_spec():
    group = Group(Spec(world_size=4, rank=2, local_rank=1))
    assert (group.world_size, group.rank, group.local_rank) == (4, 2, 1)
    assert group.active and not group.is_main
    assert Group(Spec(2, 0, 0)).is_main


# ----- start --------------------------------------------------------------------------------
def test_start_one_process_is_solo_without_a_process_group():
    assert start(Spec(1, 0, 0)) is SOLO
    assert start(Spec()) is SOLO
    assert not dist.is_initialized()


@pytest.mark.parametrize("rank", [2, 5, -1])
def test_start_refuses_a_rank_outside_the_world(rank):
    with pytest.raises(UsageError, match=f"RANK {rank} is outside WORLD_SIZE 2"):
        start(Spec(2, rank, 0))
    assert not dist.is_initialized()


def _start_recording(monkeypatch, gpus: int) -> list[str]:
    """start() with `gpus` visible GPUs and a process group that is recorded, not joined."""
    backends = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(torch.cuda, "set_device", lambda index: None)
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group",
                        lambda backend, **kw: backends.append(backend))
    return backends


def test_start_joins_gloo_without_gpus(monkeypatch):
    backends = _start_recording(monkeypatch, gpus=0)
    groups = [start(Spec(2, r, r)) for r in (0, 1)]
    assert backends == ["gloo", "gloo"]
    assert [(g.rank, g.world_size, g.active) for g in groups] == [(0, 2, True), (1, 2, True)]


def test_start_joins_nccl_when_every_rank_has_a_gpu(monkeypatch):
    backends = _start_recording(monkeypatch, gpus=2)
    for r in (0, 1):
        start(Spec(2, r, r))
    assert backends == ["nccl", "nccl"]


def test_all_ranks_choose_the_same_backend_with_fewer_gpus_than_ranks(monkeypatch):
    backends = _start_recording(monkeypatch, gpus=1)
    for r in (0, 1):
        start(Spec(2, r, r))
    assert backends[0] == backends[1]


# ----- a real two-process group -------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data(rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(100 + rank)
    return torch.randn(4, 3, generator=g), torch.randn(4, 2, generator=g)


def _loss(module: torch.nn.Module, rank: int) -> torch.Tensor:
    x, y = _data(rank)
    return ((module(x) - y) ** 2).mean()


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))


def _single_process_grads(rank: int) -> list[torch.Tensor]:
    model = _model()
    _loss(model, rank).backward()
    return [p.grad.clone() for p in model.parameters()]


def _checks(group: Group) -> dict:
    """Everything a rank checks in the group; plain Python values only."""
    from seqcli.training.snapshot import gather_state, own_rows, rng_states

    rank, out = group.rank, {}
    out["rank"], out["active"], out["is_main"] = group.rank, group.active, group.is_main
    out["world_size"] = group.world_size

    out["agree"] = group.agree([float(rank + 1), 2.0, 0.5 * rank])

    mine = DOCUMENT if rank == 0 else {"not": "rank 0's"}
    out["broadcast"] = group.broadcast(mine)
    out["broadcast_float"] = group.broadcast(0.1 + 0.2 if rank == 0 else -1.0)
    out["broadcast_string"] = group.broadcast("best.pt" if rank == 0 else "")

    pieces = group.gather(torch.full((2, 3), float(rank)))
    out["gather"] = [p.tolist() for p in pieces]

    # [layers=2, rows=3, hidden=2]: value = 100 * rank + 10 * row + layer
    layer = torch.arange(2.0).view(2, 1, 1)
    row = torch.arange(3.0).view(1, 3, 1)
    state = (100.0 * rank + 10.0 * row + layer).expand(2, 3, 2).contiguous()
    out["gather_rows"] = group.gather_rows(state).tolist()

    # the snapshot helpers over real ranks: all streams gathered, then each rank's back
    h, c = state.clone(), -state
    carried = gather_state((h, c), group)
    out["carried_shapes"] = [list(p.shape) for p in carried]
    back = own_rows(carried, group, CPU)
    out["own_rows_round_trip"] = torch.equal(back[0], h) and torch.equal(back[1], c)
    torch.manual_seed(1000 + rank)
    rng = rng_states(group)
    out["rng_ranks"] = len(rng["ranks"])
    out["rng_own_is_mine"] = torch.equal(rng["ranks"][rank], rng["cpu"])
    out["rng_ranks_differ"] = not torch.equal(rng["ranks"][0], rng["ranks"][1])

    model = _model()
    if rank == 1:  # DDP starts every rank from rank 0's weights
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
    wrapped = group.wrap(model)
    out["wrap_type"] = type(wrapped).__name__
    out["wrap_is_ddp"] = isinstance(wrapped, torch.nn.parallel.DistributedDataParallel)
    out["wrap_module_is_model"] = getattr(wrapped, "module", None) is model
    out["weights_from_rank_0"] = all(torch.equal(p, q) for p, q in
                                     zip(model.parameters(), _model().parameters()))
    _loss(wrapped, rank).backward()
    out["ddp_grads"] = [p.grad.tolist() for p in model.parameters()]

    out["local_device_cpu"] = local_device(group, "cpu")
    out["local_device_auto"] = local_device(group, "auto")
    out["backend"] = dist.get_backend()
    return out


def _worker(rank: int, port: int, results) -> None:
    try:
        os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                           "WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank),
                           "CUDA_VISIBLE_DEVICES": ""})  # gloo, even on a machine with GPUs
        torch.set_num_threads(1)
        group = start(Spec(2, rank, rank))
        out = _checks(group)
        out["initialized_before_stop"] = dist.is_initialized()
        stop(group)
        out["initialized_after_stop"] = dist.is_initialized()
        results.put((rank, out))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((rank, {"error": traceback.format_exc()}))


@pytest.fixture(scope="module")
def ranks() -> dict[int, dict]:
    """One spawn of two ranks for every check of the real group."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    port = _free_port()
    processes = [context.Process(target=_worker, args=(rank, port, results), daemon=True)
                 for rank in (0, 1)]
    for process in processes:
        process.start()
    found: dict[int, dict] = {}
    try:
        while len(found) < 2:
            rank, out = results.get(timeout=120)
            found[rank] = out
    except queue.Empty:
        pass
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    errors = [out["error"] for out in found.values() if "error" in out]
    assert not errors, "\n".join(errors)
    assert sorted(found) == [0, 1], f"ranks that reported: {sorted(found)}; exit codes " \
        f"{[p.exitcode for p in processes]}"
    assert [p.exitcode for p in processes] == [0, 0]
    return found


def test_real_group_knows_its_ranks(ranks):
    for rank in (0, 1):
        r = ranks[rank]
        assert (r["rank"], r["world_size"], r["active"]) == (rank, 2, True)
        assert r["is_main"] == (rank == 0)
        assert r["backend"] == "gloo"


def test_agree_sums_every_value_over_the_ranks(ranks):
    for rank in (0, 1):
        assert ranks[rank]["agree"] == [3.0, 4.0, 0.5]


def test_broadcast_hands_rank_0s_json_document_to_every_rank(ranks):
    for rank in (0, 1):
        assert ranks[rank]["broadcast"] == DOCUMENT
        assert ranks[rank]["broadcast_float"] == 0.1 + 0.2  # exactly, not rounded
        assert ranks[rank]["broadcast_string"] == "best.pt"


def test_gather_gives_every_ranks_tensor_in_rank_order(ranks):
    for rank in (0, 1):
        assert ranks[rank]["gather"] == [[[0.0] * 3] * 2, [[1.0] * 3] * 2]


def test_gather_rows_puts_the_ranks_rows_together_along_dim_1(ranks):
    expected = [[[100.0 * r + 10.0 * row + layer] * 2 for r in (0, 1) for row in range(3)]
                for layer in range(2)]
    for rank in (0, 1):
        got = ranks[rank]["gather_rows"]
        assert len(got) == 2 and len(got[0]) == 6 and len(got[0][0]) == 2  # [2, 3 + 3, 2]
        assert got == expected


def test_snapshot_state_and_rng_gather_over_real_ranks(ranks):
    for rank in (0, 1):
        r = ranks[rank]
        assert r["carried_shapes"] == [[2, 6, 2], [2, 6, 2]]
        assert r["own_rows_round_trip"]
        assert r["rng_ranks"] == 2 and r["rng_own_is_mine"] and r["rng_ranks_differ"]


def test_wrap_gives_ddp_over_the_same_module(ranks):
    for rank in (0, 1):
        r = ranks[rank]
        assert r["wrap_is_ddp"] and r["wrap_type"] == "DistributedDataParallel"
        assert r["wrap_module_is_model"]
        assert r["weights_from_rank_0"]


def test_wrapped_backward_averages_the_ranks_gradients(ranks):
    single = [_single_process_grads(rank) for rank in (0, 1)]
    mean = [(a + b) / 2 for a, b in zip(*single)]
    assert not all(torch.allclose(a, b) for a, b in zip(*single))  # the ranks differ
    for rank in (0, 1):
        grads = [torch.tensor(g) for g in ranks[rank]["ddp_grads"]]
        assert len(grads) == len(mean)
        for got, want in zip(grads, mean):
            assert torch.allclose(got, want, atol=1e-6), (got, want)


def test_local_device_on_cpu_is_the_request(ranks):
    for rank in (0, 1):
        assert ranks[rank]["local_device_cpu"] == "cpu"
        assert ranks[rank]["local_device_auto"] == "auto"


def test_stop_leaves_the_group(ranks):
    for rank in (0, 1):
        assert ranks[rank]["initialized_before_stop"] is True
        assert ranks[rank]["initialized_after_stop"] is False


def test_collectives_time_out_rather_than_wait_forever():
    assert distributed.TIMEOUT.total_seconds() == 600
    assert not dist.is_initialized()  # nothing here joined a group in the test process

