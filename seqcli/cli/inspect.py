"""`seqcli inspect`: colour a text by what units of a language model compute over it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from seqcli.atomic import refuse_to_replace
from seqcli.cli.choices import Device, InspectFormat, Precision, Signal, format_option
from seqcli.cli.common import Force, emit, err_console, locations, out_console
from seqcli.data.text import read_text
from seqcli.errors import UsageError

if TYPE_CHECKING:
    from seqcli.lm.inspect import Inspection


def inspect(
    sources: Annotated[Optional[list[Path]], typer.Argument(help="Text files to read (or use --text).", show_default=False)] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="The text to run through the model.")] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest language-model run).")] = None,
    layer: Annotated[Optional[int], typer.Option("--layer", help="Layer, from 1 (default: the top one).")] = None,
    signal: Annotated[Signal, typer.Option("--signal", help="hidden | cell | input | forget | output (LSTM) | update | reset (GRU).")] = Signal.hidden,
    unit: Annotated[Optional[list[int]], typer.Option("--unit", help="Unit to show, from 0 (repeatable; default: the units that follow the text's properties best).")] = None,
    top: Annotated[int, typer.Option("--top", help="Units reported per property of the text.")] = 3,
    format: Annotated[InspectFormat, format_option(InspectFormat, "text (coloured), json (one document) or html (one self-contained page).")] = InspectFormat.text,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the page (or document) here instead of stdout.")] = None,
    force: Force = False,
    device: Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")] = Device.auto,
    precision: Annotated[Precision, typer.Option("--precision", help="auto | fp32 | bf16 | fp16.")] = Precision.auto,
) -> None:
    """Show what the units of a language model track, token by token."""
    if out is not None and format == InspectFormat.text:
        raise UsageError("--out writes a json or html document; add --format json or html")
    refuse_to_replace([out] if out is not None else [], force)
    content = _content(sources, text)
    from seqcli.api import load
    from seqcli.lm.inspect_views import html_page
    from seqcli.runs import newest_run

    run = load(model if model is not None else newest_run(locations().runs, "lm"),
               device=device.value, precision=precision.value)
    result = run.inspect(content, layer=layer, signal=signal.value, units=unit, top=top)
    if format == InspectFormat.json:
        document = {"run_dir": str(run.path), **result.to_dict()}
        emit(out, document=document)
    elif format == InspectFormat.html:
        emit(out, page=html_page(result, f"seqcli inspect: {run.path}"))
    else:
        _print_text(result)


def _content(sources: list[Path] | None, text: str | None) -> str:
    if text is not None and sources:
        raise UsageError("give the text with --text or as files, not both")
    if text is not None:
        return text
    if not sources:
        raise UsageError("give a text to inspect: --text \"...\" or a file")
    return "".join(read_text(path) for path in sources)


def _print_text(result: Inspection) -> None:
    from seqcli.lm.inspect_views import terminal_view, top_lines

    for line in top_lines(result):
        err_console.print(line, highlight=False, markup=False)
    for shown in terminal_view(result, plain="NO_COLOR" in os.environ):
        out_console.print(shown, highlight=False, markup=False)
