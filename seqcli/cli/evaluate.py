"""`seqcli evaluate`: score a run on its validation split or on another corpus."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqcli.cli.common import (cache_dir, data_dir, err_console, handle_errors, out_console,
                               print_json, runs_root)
from seqcli.evaluation import evaluate_run
from seqcli.runs import load_run
from seqcli.training.checkpoint import list_runs
from seqcli.training.pipeline import Locations
from seqcli.training.reporting import metrics_table

TableFormat = Enum("TableFormat", {"table": "table", "json": "json"}, type=str)


@handle_errors
def evaluate(
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest run).")] = None,
    corpus: Annotated[Optional[str], typer.Option("--corpus", help="Corpus name or path (default: the run's validation split).")] = None,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda | mps.")] = "auto",
    format: Annotated[TableFormat, typer.Option("--format", help="table or json.")] = TableFormat.table,
) -> None:
    """Loss/perplexity (language models) or accuracy/F1 (classifiers) of a run."""
    run_dir = model if model is not None else _newest_any()
    run = load_run(run_dir, device=device)
    locations = Locations(runs_root(), data_dir(), cache_dir())
    console = err_console if format == TableFormat.table else None
    result = evaluate_run(run, corpus, locations, console)
    if format == TableFormat.json:
        print_json(result)
        return
    if run.task == "lm":
        rows = {k: result[k] for k in ("loss", "perplexity", "bits_per_token", "tokens")}
        out_console.print(metrics_table(f"{result['corpus']} ({result['split']})", rows))
    else:
        from seqcli.cli.classify import print_evaluation

        print_evaluation(result)


def _newest_any() -> Path:
    from seqcli.errors import CheckpointError

    runs = list_runs(runs_root())
    if not runs:
        raise CheckpointError(f"no run found in {runs_root()}; train one with `seqcli train` "
                              f"or pass --model DIR")
    return runs[0]["path"]
