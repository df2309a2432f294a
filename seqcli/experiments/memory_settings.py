"""The memory experiment's settings: what decides its result, and the checks that refuse
settings it cannot run (each in one line, before anything is trained or written)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from seqcli.choices import CELLS, MAX_SEED
from seqcli.errors import UsageError

OPTIMIZERS = ("sgd", "adam")
DEFAULT_LR = {"sgd": 0.5, "adam": 0.01}
INITS = ("chrono", "default")
MAX_DISTANCE = 1000


@dataclass
class MemoryConfig:
    """Everything that decides the experiment's result; recorded in its JSON."""

    cells: tuple[str, ...] = ("rnn", "lstm", "gru")
    distances: tuple[int, ...] = (5, 10, 20, 40, 80)
    hidden: int = 64
    steps: int = 1000
    seed: int = 0
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float | None = None  # None: DEFAULT_LR of the optimiser
    momentum: float = 0.9
    clip: float = 1.0
    init: str = "chrono"
    eval_size: int = 2000
    gradient_size: int = 256


def check(config: MemoryConfig) -> None:
    """One-line errors for settings the experiment cannot run."""
    _check_cells(config.cells)
    if not config.distances:
        raise UsageError("--distances: give at least one distance")
    if any(not 1 <= d <= MAX_DISTANCE for d in config.distances):
        raise UsageError(f"--distances must be between 1 and {MAX_DISTANCE}")
    if len(set(config.distances)) != len(config.distances):
        raise UsageError("--distances: each distance once")
    for name in ("hidden", "steps", "batch_size", "eval_size", "gradient_size"):
        if getattr(config, name) < 1:
            raise UsageError(f"{_flag(name)} must be at least 1")
    if not 0 <= config.seed < MAX_SEED:
        raise UsageError(f"--seed must be between 0 and {MAX_SEED - 1}")
    if config.optimizer not in OPTIMIZERS:
        raise UsageError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}")
    if config.init not in INITS:
        raise UsageError(f"--init must be one of {', '.join(INITS)}")
    for name in ("lr", "clip"):
        number = getattr(config, name)
        if number is not None and not (math.isfinite(number) and number > 0):
            raise UsageError(f"{_flag(name)} must be a positive number")
    if not 0 <= config.momentum < 1:
        raise UsageError("--momentum must be in [0, 1)")


def _check_cells(cells: tuple[str, ...]) -> None:
    if not cells:
        raise UsageError("--cells: name at least one of rnn, lstm, gru")
    for cell in cells:
        if cell not in CELLS:
            raise UsageError(f"--cells: unknown cell {cell!r}; choose from {', '.join(CELLS)}")
    if len(set(cells)) != len(cells):
        raise UsageError("--cells: each cell once")


def _flag(name: str) -> str:
    """A setting as the CLI spells it (the Python API takes the same names with _)."""
    return "--" + name.replace("_", "-")


def with_settings(config: MemoryConfig, settings: dict[str, Any]) -> MemoryConfig:
    """`config` with `settings` (MemoryConfig's field names) on top, checked, the rate
    resolved from the optimiser when none is given."""
    names = set(MemoryConfig.__dataclass_fields__)
    for name in settings:
        if name not in names:
            raise UsageError(f"unknown memory experiment setting {name!r}; "
                             f"known: {', '.join(sorted(names))}")
    values = {**asdict(config), **settings}
    values["cells"], values["distances"] = tuple(values["cells"]), tuple(values["distances"])
    config = MemoryConfig(**values)
    check(config)
    if config.lr is None:
        config.lr = DEFAULT_LR[config.optimizer]
    return config
