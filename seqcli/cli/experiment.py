"""`seqcli experiment memory`: the long-range dependency, measured for each cell."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from seqcli.cli.choices import Device, Format, format_option
from seqcli.cli.common import Force, err_console, locations, out_console, print_json
from seqcli.errors import UsageError
from seqcli.experiments.memory_settings import DEFAULT_LR, MemoryConfig, check

if TYPE_CHECKING:
    from seqcli.experiments import MemoryResult, Trial

app = typer.Typer(help="Experiments on synthetic tasks that show what each cell can do.",
                  no_args_is_help=True)
DEFAULTS = MemoryConfig()


def _csv(value: str, option: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise UsageError(f"{option}: give a comma-separated list")
    return items


def _distances(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(item) for item in _csv(value, "--distances"))
    except ValueError:
        raise UsageError(f"--distances: expected whole numbers like 5,10,20, got {value!r}") from None


@app.command("memory")
def memory(
    cells: Annotated[str, typer.Option("--cells", help="Cells to compare, comma-separated.")] = ",".join(DEFAULTS.cells),
    distances: Annotated[str, typer.Option("--distances", help="Distractors between subject and verb, comma-separated.")] = ",".join(map(str, DEFAULTS.distances)),
    hidden: Annotated[int, typer.Option("--hidden", help="Hidden units of every cell.")] = DEFAULTS.hidden,
    steps: Annotated[int, typer.Option("--steps", help="Training steps per cell and distance.")] = DEFAULTS.steps,
    seed: Annotated[int, typer.Option("--seed", help="Seed of weights and batches.")] = DEFAULTS.seed,
    optimizer: Annotated[str, typer.Option("--optimizer", help="sgd (with momentum, the textbook setting) or adam.")] = DEFAULTS.optimizer,
    lr: Annotated[Optional[float], typer.Option("--lr", help=f"Learning rate [default: {DEFAULT_LR['sgd']} for sgd, {DEFAULT_LR['adam']} for adam].", show_default=False)] = None,
    init: Annotated[str, typer.Option("--init", help="chrono (gate biases for the task's length) or default (torch's).")] = DEFAULTS.init,
    format: Annotated[Format, format_option(Format, "text (a table), or json: the result as one document on stdout.")] = Format.text,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for memory.json and memory.png [default: a new runs/memory-<time>].", show_default=False)] = None,
    force: Force = False,
    device: Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")] = Device.auto,
) -> None:
    """Train each cell to carry one bit (singular or plural subject) past D distractors."""
    settings = dict(cells=tuple(_csv(cells, "--cells")), distances=_distances(distances),
                    hidden=hidden, steps=steps, seed=seed, optimizer=optimizer, init=init,
                    lr=lr)
    check(MemoryConfig(**settings))  # before a folder is made for it, or torch loads
    from seqcli.experiments import memory as run_memory
    from seqcli.experiments.memory_outputs import output_folder, save_memory

    folder = output_folder(out, locations().runs, overwrite=force)
    result = run_memory(device=device.value, on_trial=_progress, **settings)
    document, picture = save_memory(result, folder)
    if format == Format.json:
        print_json({"out": str(folder), **result.to_dict()})
        return
    out_console.print(_table(result))
    out_console.print(f"wrote {picture} and {document}")


def _progress(trial: Trial) -> None:
    err_console.print(f"{trial.cell} at distance {trial.distance}: accuracy "
                      f"{trial.accuracy:.3f} ({trial.seconds:.1f} s)")


def _table(result: MemoryResult) -> Table:
    distances = sorted(result.config.distances)
    table = Table(title="held-out accuracy (chance 0.5) by distractors between subject and verb")
    table.add_column("cell")
    for distance in distances:
        table.add_column(str(distance), justify="right")
    table.add_column(f"gradient at k={max(distances) + 1} / k=0", justify="right")
    for cell, row in result.accuracy().items():
        norms = result.gradient_norms.get(cell, [])
        ratio = f"{norms[-1] / norms[0]:.1e}" if norms and norms[0] > 0 else "-"
        table.add_row(cell, *(f"{row[d]:.3f}" for d in distances), ratio)
    return table
