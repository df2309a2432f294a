"""The CLI's enums, made from seqcli/choices.py so an option's choices can never drift from
what the config accepts."""

from __future__ import annotations

from enum import Enum

from seqcli import choices


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
TableFormat = _enum("TableFormat", choices.TABLE_FORMATS)
ClassifyFormat = _enum("ClassifyFormat", choices.CLASSIFY_FORMATS)
Signal = _enum("Signal", choices.SIGNALS)
InspectFormat = _enum("InspectFormat", choices.INSPECT_FORMATS)
PlotMetric = _enum("PlotMetric", choices.PLOT_METRICS)
ExplainFormat = _enum("ExplainFormat", choices.INSPECT_FORMATS)
ExportFormat = _enum("ExportFormat", choices.EXPORT_FORMATS)


def value(choice: Enum | None) -> str | None:
    """The plain string of an enum option (None stays None)."""
    return None if choice is None else choice.value
