"""The settings of each `seqcli bench` command, with their defaults, apart from the code that
runs them: `seqcli bench --help` shows these defaults without loading torch."""

from __future__ import annotations

from dataclasses import dataclass

TRAIN_CANDIDATES = ("seqcli-fused", "seqcli-scratch", "reference-scratch", "reference-nn-lstm")


@dataclass(frozen=True)
class TrainBenchSettings:
    cell: str = "lstm"
    hidden_size: int = 256
    num_layers: int = 1
    batch_size: int = 32
    seq_len: int = 35
    embedding_size: int | None = None  # None: as wide as the one-hot input (the vocabulary)
    device: str = "auto"
    precision: str = "auto"  # seqcli's candidates; the references are always fp32
    rounds: int = 5
    steps: int = 4  # training steps per candidate per round
    warmup: int = 2
    quality_steps: int = 0  # > 0: also train this long at auto precision and fp32, compare
    seed: int = 0
    candidates: tuple[str, ...] = TRAIN_CANDIDATES


@dataclass(frozen=True)
class GenerateBenchSettings:
    cell: str = "lstm"
    hidden_size: int = 256
    num_layers: int = 1
    embedding_size: int = 32
    impl: str = "fused"
    length: int = 1000
    prime: str = "the time traveller "
    device: str = "auto"
    precision: str = "auto"
    rounds: int = 2
    warmup: int = 1
    seed: int = 0
    batch_sizes: tuple[int, ...] = (1, 8, 32)  # --num-samples drawn batched vs one by one
    batch_length: int = 200  # tokens per sample there (the sequential side is slow)


@dataclass(frozen=True)
class ClassifyBenchSettings:
    cell: str = "lstm"
    hidden_size: int = 256
    num_layers: int = 2
    embedding_size: int = 256
    bidirectional: bool = True
    pooling: str = "max"
    impl: str = "fused"
    texts: int = 2000
    batch_size: int = 256
    max_length: int = 400
    device: str = "auto"
    precision: str = "auto"
    rounds: int = 3
    warmup: int = 1
    seed: int = 0
