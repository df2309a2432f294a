"""`seqcli experiment memory`: how far back each cell can carry one bit, and why.

Each cell of the zoo is trained on the agreement task (agreement.py) at each distance on the
same budget, then scored on held-out sequences. For the models trained at the longest
distance, the run is replayed step by step through the cell equations (models/cells.py, on
the trained fused weights) to measure the gradient of the loss with respect to the hidden
state k steps before the end: the quantity whose vanishing the textbooks blame.

The recipe was chosen by measurement (benchmarks/RESULTS.md, issue 12):
- plain SGD with momentum, the optimiser of the classic vanishing-gradient experiments.
  With Adam the plain RNN does better than the textbook says (about 0.6-0.9 at 80 steps,
  depending on the seed): the subject nouns occur only at the start, so the only gradient
  their embeddings get is the vanished one, and Adam's per-parameter scaling enlarges it
  to a full-size step. `optimizer="adam"` shows that.
- "chrono" initialisation of the gates (Tallec & Ollivier, 2018): the LSTM's forget bias
  and the GRU's update bias drawn as log U(1, T - 1) for sequences of T steps (the LSTM's
  input bias its negative), so a gated cell starts out able to keep its state for about
  the task's length. With torch's default initialisation (forget bias near 0) the LSTM does
  not find the dependency within the default budget even at 20 steps; `init="default"`.

Training here is a ten-line loop on fresh synthetic batches, not seqcli's Trainer: there is
no corpus, no checkpoint and no run to resume, only a fixed number of steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqcli.choices import CELLS, MAX_SEED
from seqcli.device import select_device
from seqcli.errors import UsageError
from seqcli.experiments.agreement import VOCAB, AgreementTask
from seqcli.models.cells import gru_step, lstm_step, project_input, rnn_step
from seqcli.models.zoo import build_recurrent

OPTIMIZERS = ("sgd", "adam")
DEFAULT_LR = {"sgd": 0.5, "adam": 0.01}
INITS = ("chrono", "default")
MAX_DISTANCE = 1000
EMBEDDING_SIZE = 16
STEPS = {"rnn": rnn_step, "lstm": lstm_step, "gru": gru_step}
GATE_CHUNK = {"lstm": 1, "gru": 1}  # the forget gate (i, f, g, o) and update gate (r, z, n)


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


class AgreementModel(nn.Module):
    """Embedding -> one recurrent layer of the zoo (fused) -> a two-way verb choice."""

    def __init__(self, cell: str, hidden: int) -> None:
        super().__init__()
        self.cell = cell
        self.embedding = nn.Embedding(len(VOCAB), EMBEDDING_SIZE)
        self.recurrent = build_recurrent("fused", cell, EMBEDDING_SIZE, hidden, 1, 0.0, False)
        self.head = nn.Linear(hidden, 2)

    def forward(self, ids: Tensor) -> Tensor:
        output, _ = self.recurrent(self.embedding(ids))
        return self.head(output[:, -1])


def check(config: MemoryConfig) -> None:
    """One-line errors for settings the experiment cannot run."""
    if not config.cells:
        raise UsageError("--cells: name at least one of rnn, lstm, gru")
    for cell in config.cells:
        if cell not in CELLS:
            raise UsageError(f"--cells: unknown cell {cell!r}; choose from {', '.join(CELLS)}")
    if len(set(config.cells)) != len(config.cells):
        raise UsageError("--cells: each cell once")
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


def _flag(name: str) -> str:
    """A setting as the CLI spells it (the Python API takes the same names with _)."""
    return "--" + name.replace("_", "-")


def memory(config: MemoryConfig | None = None, *, device: str = "auto",
           on_trial: Callable[[Trial], None] | None = None, **settings: Any) -> MemoryResult:
    """Run the experiment; `settings` override MemoryConfig's fields by name.

    `on_trial` is called after each (cell, distance) is trained, for progress display.
    """
    config = _with_settings(config or MemoryConfig(), settings)
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


def _with_settings(config: MemoryConfig, settings: dict[str, Any]) -> MemoryConfig:
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


def train_model(cell: str, distance: int, config: MemoryConfig,
                device: torch.device) -> AgreementModel:
    """A fresh model trained for `config.steps` steps on fresh batches at one distance.

    Every (cell, distance) starts from the same seed, so the cells see the same batches.
    """
    torch.manual_seed(config.seed)
    model = AgreementModel(cell, config.hidden)
    if config.init == "chrono":
        chrono_init_(model.recurrent.rnn, cell, AgreementTask(distance).length)
    model.to(device).train()
    optimizer = _optimizer(model, config)
    task, batches = AgreementTask(distance), torch.Generator().manual_seed(config.seed + 1)
    for _ in range(config.steps):
        ids, labels = task.batch(config.batch_size, batches)
        loss = F.cross_entropy(model(ids.to(device)), labels.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
    return model.eval()


def _optimizer(model: nn.Module, config: MemoryConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)


@torch.no_grad()
def chrono_init_(module: nn.RNNBase, cell: str, length: int) -> None:
    """Gate biases that let a gated cell keep its state for about `length` steps at the start.

    torch.nn's layout: LSTM gates (i, f, g, o), GRU gates (r, z, n), and z -> 1 keeps h.
    Draws from torch's global generator, which `train_model` has seeded.
    """
    if cell not in GATE_CHUNK:
        return
    hidden = module.hidden_size
    keep = torch.log(torch.empty(hidden).uniform_(1.0, max(float(length - 1), 1.0 + 1e-3)))
    gate = slice(GATE_CHUNK[cell] * hidden, (GATE_CHUNK[cell] + 1) * hidden)
    module.bias_ih_l0[gate] = keep
    module.bias_hh_l0[gate] = 0.0
    if cell == "lstm":
        module.bias_ih_l0[:hidden] = -keep
        module.bias_hh_l0[:hidden] = 0.0


@torch.no_grad()
def accuracy(model: AgreementModel, distance: int, config: MemoryConfig,
             device: torch.device) -> float:
    """Accuracy on `config.eval_size` held-out sequences (a generator training never uses)."""
    ids, labels = AgreementTask(distance).batch(config.eval_size, _held_out(config))
    predicted = model(ids.to(device)).argmax(dim=-1).cpu()
    return float((predicted == labels).float().mean())


def _held_out(config: MemoryConfig) -> torch.Generator:
    return torch.Generator().manual_seed((config.seed + 0x9E3779B9) % MAX_SEED)


def replay(model: AgreementModel, ids: Tensor) -> tuple[Tensor, list[Tensor]]:
    """(logits, hidden states h_0..h_{T-1}) computed step by step with the cell equations
    on the model's own weights; every state keeps its gradient."""
    rnn = model.recurrent.rnn
    gi = project_input(model.embedding(ids), rnn.weight_ih_l0, rnn.bias_ih_l0)
    batch = ids.shape[0]
    h = gi.new_zeros(batch, rnn.hidden_size)
    state: Any = (h, torch.zeros_like(h)) if model.cell == "lstm" else h
    hidden: list[Tensor] = []
    for t in range(ids.shape[1]):
        state = STEPS[model.cell](gi[:, t], state, rnn.weight_hh_l0, rnn.bias_hh_l0)
        h = state[0] if model.cell == "lstm" else state
        h.retain_grad()
        hidden.append(h)
    return model.head(h), hidden


def gradient_norms(model: AgreementModel, distance: int, config: MemoryConfig,
                   device: torch.device) -> list[float]:
    """Mean over held-out sequences of |dL/dh_{T-1-k}| for k = 0 .. T-1 (k steps back).

    L is each sequence's own cross-entropy (the batch's sum), so the norms do not shrink
    with the batch size.
    """
    ids, labels = AgreementTask(distance).batch(config.gradient_size, _held_out(config))
    ids, labels = ids.to(device), labels.to(device)
    with torch.enable_grad():
        logits, hidden = replay(model, ids)
        F.cross_entropy(logits, labels, reduction="sum").backward()
    model.zero_grad(set_to_none=True)
    return [float(h.grad.norm(dim=-1).mean()) for h in reversed(hidden)]
