"""`seqcli evaluate`: score a run on its validation split or on another corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from seqcli.cli.choices import Device, Format, Precision, Split, format_option
from seqcli.cli.classify import print_evaluation
from seqcli.cli.common import err_console, locations, out_console, print_json

LM_ROWS = ("loss", "perplexity", "bits_per_token", "tokens")


def evaluate(
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest run).")] = None,
    corpus: Annotated[Optional[str], typer.Option("--corpus", help="Corpus name or path (default: the run's validation split).")] = None,
    split: Annotated[Split, typer.Option("--split", help="validation, or test: a classifier's test set (its corpus' own validation split when checkpoints were selected on the training data).")] = Split.validation,
    device: Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")] = Device.auto,
    precision: Annotated[Precision, typer.Option("--precision", help="auto | fp32 | bf16 | fp16.")] = Precision.auto,
    format: Annotated[Format, format_option(Format, "text (a table), or json: one document on stdout.")] = Format.text,
) -> None:
    """Loss/perplexity (language models) or accuracy/F1 (classifiers) of a run."""
    from seqcli.api import load
    from seqcli.runs import newest_run
    from seqcli.training.reporting import metrics_table

    where = locations()
    run = load(model if model is not None else newest_run(where.runs), device=device.value,
               precision=precision.value)
    result = run.evaluate(corpus, split=split.value,
                          console=err_console if format == Format.text else None)
    if format == Format.json:
        print_json(result)
    elif run.task == "lm":
        title = f"{result['corpus']} ({result['split']})"
        out_console.print(metrics_table(title, {k: result[k] for k in LM_ROWS}))
    else:
        print_evaluation(result)
