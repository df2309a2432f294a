import pytest
import torch

from seqcli.data.ids import compact_dtype, ids_tensor
from seqcli.errors import DataError
from seqcli.lm.batches import LMBatches, split_text


def stream(n: int) -> torch.Tensor:
    return torch.arange(n, dtype=torch.int32)


@pytest.mark.parametrize("n,batch,seq", [(101, 4, 5), (1000, 8, 7), (37, 3, 12), (12, 64, 5)])
def test_sequential_windows_cover_stream_once_and_targets_shift(n, batch, seq):
    batches = LMBatches(stream(n), batch, seq, "sequential", seed=3)
    seen = []
    rows = None
    for x, y in batches.epoch(0):
        assert x.dtype == torch.int64 and x.shape == y.shape
        assert torch.equal(y, x + 1)  # targets are the inputs shifted by one
        seen.append(x)
        rows = x.size(0) if rows is None else rows
        assert x.size(0) == rows
    columns = torch.cat(seen, dim=1)  # [rows, row_len]: each row continues the text
    flat = columns.flatten()
    assert flat.unique().numel() == flat.numel()  # no position twice
    assert torch.equal(flat, torch.arange(int(flat[0]), int(flat[0]) + flat.numel()))
    assert n - 1 - flat.numel() < rows + seq  # only a short tail (offset + remainder) is left
    assert len(seen) == len(batches)


def test_sequential_state_continuity_between_windows():
    batches = LMBatches(stream(200), 4, 5, "sequential")
    windows = list(batches.epoch(1))
    for (a, _), (b, _) in zip(windows, windows[1:]):
        assert torch.equal(a[:, -1] + 1, b[:, 0])  # row b of window k+1 continues window k


def test_random_partition_uses_disjoint_pieces():
    batches = LMBatches(stream(500), 4, 10, "random", seed=1)
    pieces = [x for x, y in batches.epoch(0)]
    assert all(torch.equal(y, x + 1) for x, y in batches.epoch(0))
    starts = torch.cat([p[:, 0] for p in pieces])
    assert starts.unique().numel() == starts.numel()
    assert not batches.carries_state
    assert list(map(torch.Tensor.tolist, pieces)) != [p.tolist() for p, _ in batches.epoch(1)]


@pytest.mark.parametrize("partition", ["sequential", "random"])
def test_epochs_are_deterministic_and_resumable(partition):
    batches = LMBatches(stream(300), 3, 6, partition, seed=9)
    full = list(batches.epoch(2))
    again = list(batches.epoch(2, start=4))
    assert len(again) == len(full) - 4
    for (a, _), (b, _) in zip(full[4:], again):
        assert torch.equal(a, b)


def test_compact_ids_and_split():
    assert compact_dtype(100) == torch.uint8
    assert compact_dtype(30000) == torch.int16
    assert compact_dtype(70000) == torch.int32
    ids = ids_tensor([[1, 2], [], [3]], vocab_size=100)
    assert ids.dtype == torch.uint8 and ids.tolist() == [1, 2, 3]
    assert split_text("abcdefghij", 0.1) == ("abcdefghi", "j")


def test_text_shorter_than_a_window_is_a_clear_error():
    with pytest.raises(DataError, match="fewer than one training window"):
        LMBatches(stream(5), 2, 10)
