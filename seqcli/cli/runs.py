"""`seqcli runs list | show DIR`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from seqcli.cli.choices import Format, PlotMetric, format_option
from seqcli.atomic import refuse_to_replace
from seqcli.cli.common import Force, err_console, locations, out_console, print_json
from seqcli.errors import UsageError

app = typer.Typer(help="List, inspect and plot run directories.", no_args_is_help=True)

SHOWN = ("val_loss", "val_perplexity", "val_accuracy", "val_macro_f1")


@app.command("list")
def list_runs(
    format: Annotated[Format, format_option(Format, "text (a table), or json: one document on stdout.")] = Format.text,
) -> None:
    """Runs under $SEQCLI_RUNS (or ./runs), newest first."""
    from seqcli import runs

    root = locations().runs
    found = runs.list_runs(root)
    if format == Format.json:
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
    format: Annotated[Format, format_option(Format, "text (a table), or json: one document on stdout.")] = Format.text,
) -> None:
    """Config, data facts and results of one run."""
    from seqcli import runs
    from seqcli.training.checkpoint import METRICS_FILE
    from seqcli.training.curves import read_metrics, terminal_curve

    config = runs.read_run_config(run_dir)
    summary = runs.read_summary(run_dir)  # None when torn or unfinished
    files = sorted(p.name for p in run_dir.iterdir() if not p.name.startswith("."))
    document = {"path": str(run_dir), "task": config["task"], "config": config["config"],
                "meta": config.get("meta", {}), "summary": summary, "files": files}
    if format == Format.json:
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
    chart = terminal_curve(read_metrics(run_dir / METRICS_FILE))
    if chart:
        out_console.print(Text.from_ansi(chart))


@app.command("plot")
def plot(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories to overlay.")],
    metric: Annotated[PlotMetric, typer.Option("--metric", help="What to draw against step.")] = PlotMetric.val_loss,
    out: Annotated[Path, typer.Option("--out", help="The PNG to write.")] = Path("curves.png"),
    force: Force = False,
) -> None:
    """Overlay one metric of several runs, each labelled by the settings that differ."""
    refuse_to_replace([out], force)
    from seqcli import runs
    from seqcli.training.checkpoint import METRICS_FILE
    from seqcli.training.curves import draw_overlay, read_metrics, series

    stored = [runs.read_run_config(d) for d in run_dirs]
    labels = runs.differing_settings(stored, [d.name for d in run_dirs])
    records = [read_metrics(d / METRICS_FILE) for d in run_dirs]
    split = "train" if metric.value in ("loss", "lr") else "val"
    if not any(series(r, split, metric.value)[0] for r in records):
        raise UsageError(f"no run here has {metric.value} (language models log val_loss, "
                         f"val_perplexity and val_bits; classifiers val_accuracy and val_macro_f1)")
    draw_overlay(list(zip(labels, records)), metric.value, out)
    err_console.print(f"wrote {out}", highlight=False, markup=False)


def _row(run: dict) -> dict:
    config, summary = run["config"], run["summary"] or {}
    model = config["config"]["model"]
    described = (f"{model['cell']} {model['num_layers']}x{model['hidden_size']}"
                 + (" bi" if model.get("bidirectional") else ""))
    best = next((f"{k}={summary[k]:.4g}" for k in SHOWN if isinstance(summary.get(k), float)), "-")
    return {"path": str(run["path"]), "task": config["task"], "model": described,
            "corpus": config["config"]["data"]["corpus"], "steps": summary.get("steps"),
            "best": best, "created": config.get("meta", {}).get("created")}
