"""The CLI's enums, made from seqcli/choices.py so an option's choices can never drift from
what the config accepts; and `format_option`, the one --format of every command."""

from __future__ import annotations

from enum import Enum
from typing import Any

import typer

from seqcli import choices
from seqcli.cli.common import err_console


def _enum(name: str, values: tuple[str, ...]) -> type[Enum]:
    return Enum(name, {value: value for value in values}, type=str)


Task = _enum("Task", choices.TASKS)
Cell = _enum("Cell", choices.CELLS)
Impl = _enum("Impl", choices.IMPLS)
TokenizerKind = _enum("TokenizerKind", choices.TOKENIZERS)
Pooling = _enum("Pooling", choices.POOLINGS)
Optim = _enum("Optim", choices.OPTIMIZERS)
Schedule = _enum("Schedule", choices.SCHEDULES)
Partition = _enum("Partition", choices.PARTITIONS)
Selection = _enum("Selection", choices.SELECTIONS)
Split = _enum("Split", ("validation", "test"))
ClassWeights = _enum("ClassWeights", choices.CLASS_WEIGHTS)
Device = _enum("Device", choices.DEVICES)
Precision = _enum("Precision", choices.PRECISIONS)
Format = _enum("Format", choices.TEXT_FORMATS)
ClassifyFormat = _enum("ClassifyFormat", choices.CLASSIFY_FORMATS)
Signal = _enum("Signal", choices.SIGNALS)
InspectFormat = _enum("InspectFormat", choices.INSPECT_FORMATS)
PlotMetric = _enum("PlotMetric", choices.PLOT_METRICS)
ExplainFormat = _enum("ExplainFormat", choices.INSPECT_FORMATS)
ExportFormat = _enum("ExportFormat", choices.EXPORT_FORMATS)


# --format values of seqcli 0.1, still read with a note: the human view was "table" on some
# commands and "text" on others
RENAMED_FORMATS = {"table": "text"}
# values that now belong to another option: a one-line hint instead
MOVED_FORMATS = {name: f"--to {name}" for name in choices.EXPORT_FORMATS}


def format_option(kind: type[Enum], help: str, **options: Any) -> Any:
    """The --format option of every command: `kind`'s values (text first, then json...), shown
    as [text|json|...]; a renamed value still works, with a note on stderr."""
    names = [member.value for member in kind]

    def parse(given: Any) -> Enum:
        if isinstance(given, kind):  # the default
            return given
        name = RENAMED_FORMATS.get(given, given)
        if name not in names:
            moved = MOVED_FORMATS.get(given)
            hint = f" (the export's file type is now {moved})" if moved else ""
            raise typer.BadParameter(f"{given!r} is not one of "
                                     f"{', '.join(map(repr, names))}{hint}")
        if name != given:
            err_console.print(f"note: --format {given} is now --format {name}",
                              highlight=False, markup=False)
        return kind(name)

    return typer.Option("--format", parser=parse, metavar=f"<{'|'.join(names)}>", help=help,
                        **options)


def value(choice: Enum | None) -> str | None:
    """The plain string of an enum option (None stays None)."""
    return None if choice is None else choice.value
