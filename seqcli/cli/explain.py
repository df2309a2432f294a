"""`seqcli explain`: which words pushed a classifier toward (or away from) its label."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from seqcli.cli.choices import Device, ExplainFormat, Precision, format_option
from seqcli.atomic import refuse_to_replace
from seqcli.cli.common import Force, emit, locations, out_console
from seqcli.data.inputs import STDIN, check_sources, iter_inputs
from seqcli.errors import UsageError

if TYPE_CHECKING:
    from seqcli.classify.explain import Explanation


def explain(
    texts: Annotated[list[str], typer.Argument(help="Texts to explain, or one file (a text per line) or - for stdin.", show_default=False)],
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest classifier run).")] = None,
    label: Annotated[Optional[str], typer.Option("--label", help="Explain this label (default: the predicted one).")] = None,
    steps: Annotated[int, typer.Option("--steps", help="Integration steps; more when the reported gap is large.")] = 50,
    format: Annotated[ExplainFormat, format_option(ExplainFormat, "text (coloured), json (one document) or html (one self-contained page).")] = ExplainFormat.text,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the page (or document) here instead of stdout.")] = None,
    force: Force = False,
    device: Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")] = Device.auto,
    precision: Annotated[Precision, typer.Option("--precision", help="auto | fp32 | bf16 | fp16.")] = Precision.auto,
) -> None:
    """Score each token of a text toward the classifier's label (Integrated Gradients)."""
    if out is not None and format == ExplainFormat.text:
        raise UsageError("--out writes a json or html document; add --format json or html")
    refuse_to_replace([out] if out is not None else [], force)
    from seqcli.api import load
    from seqcli.classify.explain_views import html_page
    from seqcli.runs import newest_run

    run = load(model if model is not None else newest_run(locations().runs, "classify"),
               device=device.value, precision=precision.value)
    results = run.explain(_read(texts), label=label, steps=steps)
    if format == ExplainFormat.json:
        emit(out, document={"run_dir": str(run.path),
                            "explanations": [r.to_dict() for r in results]})
        return
    if format == ExplainFormat.html:
        emit(out, page=html_page(results, f"seqcli explain: {run.path}"))
        return
    for result in results:
        _print(result, plain="NO_COLOR" in os.environ)


def _read(texts: list[str]) -> list[str]:
    """The texts given, or the lines of one file (or stdin), as `seqcli classify` reads them."""
    if len(texts) == 1 and (texts[0] == STDIN or Path(texts[0]).is_file()):
        check_sources(texts)
        return [item.text for item in iter_inputs(texts, stdin=sys.stdin)]
    return texts


def _print(result: Explanation, plain: bool) -> None:
    from seqcli.classify.explain_views import terminal_view

    for shown in terminal_view(result, plain):
        out_console.print(shown, highlight=False, markup=False)
