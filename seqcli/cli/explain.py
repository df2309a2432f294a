"""`seqcli explain`: which words pushed a classifier toward (or away from) its label."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from seqcli.api import load
from seqcli.classify.explain import Explanation
from seqcli.cli.choices import Device, ExplainFormat, Precision
from seqcli.cli.common import locations, out_console, print_json
from seqcli.data.inputs import STDIN, check_sources, iter_inputs
from seqcli.runs import newest_run


def explain(
    texts: Annotated[list[str], typer.Argument(help="Texts to explain, or one file (a text per line) or - for stdin.", show_default=False)],
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest classifier run).")] = None,
    label: Annotated[Optional[str], typer.Option("--label", help="Explain this label (default: the predicted one).")] = None,
    steps: Annotated[int, typer.Option("--steps", help="Integration steps; more when the reported gap is large.")] = 50,
    format: Annotated[ExplainFormat, typer.Option("--format", help="text or json.")] = ExplainFormat.text,
    device: Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")] = Device.auto,
    precision: Annotated[Precision, typer.Option("--precision", help="auto | fp32 | bf16 | fp16.")] = Precision.auto,
) -> None:
    """Score each token of a text toward the classifier's label (Integrated Gradients)."""
    run = load(model if model is not None else newest_run(locations().runs, "classify"),
               device=device.value, precision=precision.value)
    results = run.explain(_read(texts), label=label, steps=steps)
    if format == ExplainFormat.json:
        print_json({"run_dir": str(run.path), "explanations": [r.to_dict() for r in results]})
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
    out_console.print(f"{result.label} {result.probability:.3f}   (scores toward "
                      f"{result.target}; gap {result.delta:.3g})", highlight=False, markup=False)
    if plain:
        out_console.print("\n".join(f"{t['token']!r}\t{t['score']:+.4f}" for t in result.tokens),
                          highlight=False, markup=False)
        return
    top = max((abs(t["score"]) for t in result.tokens), default=1.0) or 1.0
    line, end = Text(), 0
    for token in result.tokens:
        line.append(result.text[end:token["start"]])
        fade = round(255 * (1 - min(1.0, abs(token["score"]) / top)))
        rgb = (fade, 255, fade) if token["score"] >= 0 else (255, fade, fade)
        line.append(token["token"], style=f"black on rgb{rgb}")
        end = token["end"]
    line.append(result.text[end:])
    out_console.print(line)
