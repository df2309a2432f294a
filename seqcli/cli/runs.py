"""`seqcli runs list | show DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from seqcli import runs
from seqcli.cli.choices import TableFormat
from seqcli.cli.common import locations, out_console, print_json

app = typer.Typer(help="List and inspect run directories.", no_args_is_help=True)

SHOWN = ("val_loss", "val_perplexity", "val_accuracy", "val_macro_f1")


@app.command("list")
def list_runs(
    format: Annotated[TableFormat, typer.Option("--format", help="table or json.")] = TableFormat.table,
) -> None:
    """Runs under $SEQCLI_RUNS (or ./runs), newest first."""
    root = locations().runs
    found = runs.list_runs(root)
    if format == TableFormat.json:
        print_json([_row(r) for r in found])
        return
    table = Table(title=f"runs in {root}")
    for column in ("run", "task", "model", "corpus", "steps", "best"):
        table.add_column(column)
    for r in found:
        row = _row(r)
        table.add_row(row["path"], row["task"], row["model"], str(row["corpus"]),
                      str(row["steps"] if row["steps"] is not None else "-"), row["best"])
    out_console.print(table if found else f"no runs in {root}")


@app.command("show")
def show(
    run_dir: Annotated[Path, typer.Argument(help="Run directory.")],
    format: Annotated[TableFormat, typer.Option("--format", help="table or json.")] = TableFormat.table,
) -> None:
    """Config, data facts and results of one run."""
    config = runs.read_run_config(run_dir)
    summary = runs.read_summary(run_dir)  # None when torn or unfinished
    files = sorted(p.name for p in run_dir.iterdir() if not p.name.startswith("."))
    document = {"path": str(run_dir), "task": config["task"], "config": config["config"],
                "meta": config.get("meta", {}), "summary": summary, "files": files}
    if format == TableFormat.json:
        print_json(document)
        return
    table = Table(title=str(run_dir), show_header=False)
    table.add_column("key")
    table.add_column("value")
    table.add_row("task", config["task"])
    for section, values in config["config"].items():
        if isinstance(values, dict):
            table.add_row(section, ", ".join(f"{k}={v}" for k, v in values.items()))
    for key, value in (config.get("meta") or {}).items():
        table.add_row(key, str(value)[:100])
    for key, value in (summary or {"status": "no summary (interrupted or running)"}).items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    table.add_row("files", " ".join(files))
    out_console.print(table)


def _row(run: dict) -> dict:
    config, summary = run["config"], run["summary"] or {}
    model = config["config"]["model"]
    described = (f"{model['cell']} {model['num_layers']}x{model['hidden_size']}"
                 + (" bi" if model.get("bidirectional") else ""))
    best = next((f"{k}={summary[k]:.4g}" for k in SHOWN if isinstance(summary.get(k), float)), "-")
    return {"path": str(run["path"]), "task": config["task"], "model": described,
            "corpus": config["config"]["data"]["corpus"], "steps": summary.get("steps"),
            "best": best, "created": config.get("meta", {}).get("created")}
