"""The memory experiment's files: memory.json (the result) and memory.png, two panels,
accuracy against distance per cell and the gradient reaching back from the loss (log
scale), the picture the textbooks draw. Both are written atomically, and a folder that
already holds a result is written over only when asked (--force)."""

from __future__ import annotations

from pathlib import Path

from seqcli.atomic import refuse_to_replace, write_json
from seqcli.errors import UsageError
from seqcli.experiments.memory_run import MemoryResult
from seqcli.figures import pyplot, save_figure
from seqcli.runs import new_run_dir

JSON_FILE, PNG_FILE = "memory.json", "memory.png"

COLOURS = {"rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green"}
NAMES = {"rnn": "RNN (tanh)", "lstm": "LSTM", "gru": "GRU"}
STYLES = {"rnn": "o-", "lstm": "s--", "gru": "^:"}  # LSTM and GRU often overlap at 1.0


def relative(norms: list[float]) -> list[float]:
    """Norms divided by the first (k = 0), floored at 1e-30 for the log axis.

    A model that has learned the task is confident, so its loss and every gradient of it are
    small; what shows whether the gradient reaches back is the ratio to the gradient at the
    verb, not its size.
    """
    first = norms[0] if norms and norms[0] > 0 else 1.0
    return [max(n / first, 1e-30) for n in norms]


def draw_memory(result: MemoryResult, dest: Path) -> None:
    """Write the two-panel PNG for `result` to `dest`."""
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for cell, row in result.accuracy().items():
        distances = sorted(row)
        left.plot(distances, [row[d] for d in distances], STYLES[cell], color=COLOURS[cell],
                  label=NAMES[cell], ms=7 if cell == "lstm" else 5)
    left.axhline(0.5, color="grey", ls="--", lw=1, label="chance")
    left.set_xscale("log", base=2)
    left.set_xticks(sorted(result.config.distances), [str(d) for d in sorted(result.config.distances)])
    left.set_ylim(0.4, 1.02)
    left.set_xlabel("distractors between subject and verb")
    left.set_ylabel("held-out accuracy")
    left.set_title("Does the verb agree with the subject?")
    for cell, norms in result.gradient_norms.items():
        right.plot(range(len(norms)), relative(norms), color=COLOURS[cell], label=NAMES[cell])
    right.set_yscale("log")
    right.set_xlabel("steps back from the verb (k)")
    right.set_ylabel("|dL/dh(T-k)|, relative to k = 0")
    right.set_title(f"Gradient reaching back, trained at distance {max(result.config.distances)}")
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.legend(loc="best", fontsize="small")
    figure.suptitle(f"seqcli experiment memory: hidden {result.config.hidden}, "
                    f"{result.config.steps} steps, {result.config.optimizer}, seed "
                    f"{result.config.seed}", fontsize="medium")
    save_figure(figure, dest)


def output_folder(out: Path | None, runs_root: Path, overwrite: bool = False) -> Path:
    """`out` (created if needed; one holding a result only with `overwrite`), else a new
    runs/memory-<time>."""
    if out is None:
        return new_run_dir(runs_root, "memory")
    refuse_to_replace([out / JSON_FILE, out / PNG_FILE], overwrite)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create {out}: {err.strerror or err}") from None
    return out


def save_memory(result: MemoryResult, folder: Path) -> tuple[Path, Path]:
    """Write memory.json and memory.png into `folder`; their paths."""
    document, picture = folder / JSON_FILE, folder / PNG_FILE
    write_json(document, result.to_dict())
    draw_memory(result, picture)
    return document, picture
