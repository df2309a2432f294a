"""`seqcli experiment memory`: how far back each cell can carry one bit, and why.

Each cell of the zoo is trained on the agreement task (agreement.py) at each distance on the
same budget (memory_training.py), then scored on held-out sequences. For the models trained
at the longest distance, the run is replayed through the cell equations to measure how the
gradient reaching back from the loss shrinks (memory_replay.py). The settings and their
checks are in memory_settings.py, the model and its "chrono" gate initialisation in
memory_model.py, the files the command writes in memory_outputs.py; the recipe was chosen by
measurement (benchmarks/RESULTS.md, issue 12).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from seqcli.device import select_device
from seqcli.experiments.memory_replay import gradient_norms
from seqcli.experiments.memory_settings import MemoryConfig, with_settings
from seqcli.experiments.memory_training import accuracy, train_model


@dataclass
class Trial:
    """One cell trained at one distance."""

    cell: str
    distance: int
    accuracy: float
    seconds: float


@dataclass
class MemoryResult:
    """What the CLI renders and `to_dict` writes as memory.json."""

    config: MemoryConfig
    trials: list[Trial] = field(default_factory=list)
    gradient_norms: dict[str, list[float]] = field(default_factory=dict)
    device: str = "cpu"

    def accuracy(self) -> dict[str, dict[int, float]]:
        """{cell: {distance: held-out accuracy}}."""
        table: dict[str, dict[int, float]] = {}
        for trial in self.trials:
            table.setdefault(trial.cell, {})[trial.distance] = trial.accuracy
        return table

    def to_dict(self) -> dict[str, Any]:
        config = asdict(self.config)
        config["cells"], config["distances"] = list(config["cells"]), list(config["distances"])
        config["gradient_distance"] = max(self.config.distances)
        return {"config": config,
                "accuracy": {cell: {str(d): acc for d, acc in row.items()}
                             for cell, row in self.accuracy().items()},
                "gradient_norms": self.gradient_norms, "chance": 0.5, "device": self.device,
                "seconds": {f"{t.cell}/{t.distance}": round(t.seconds, 2) for t in self.trials}}


def memory(config: MemoryConfig | None = None, *, device: str = "auto",
           on_trial: Callable[[Trial], None] | None = None, **settings: Any) -> MemoryResult:
    """Run the experiment; `settings` override MemoryConfig's fields by name.

    `on_trial` is called after each (cell, distance) is trained, for progress display.
    """
    config = with_settings(config or MemoryConfig(), settings)
    place = select_device(device)
    result = MemoryResult(config, device=str(place))
    longest = max(config.distances)
    for cell in config.cells:
        for distance in sorted(config.distances):
            start = time.perf_counter()
            model = train_model(cell, distance, config, place)
            trial = Trial(cell, distance, accuracy(model, distance, config, place),
                          time.perf_counter() - start)
            result.trials.append(trial)
            if on_trial is not None:
                on_trial(trial)
            if distance == longest:
                result.gradient_norms[cell] = gradient_norms(model, distance, config, place)
    return result
