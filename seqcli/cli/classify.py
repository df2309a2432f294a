"""`seqcli classify`: label texts from files or stdin; plus the tables of `seqcli evaluate`."""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.table import Table

from seqcli.cli.choices import ClassifyFormat as OutputFormat
from seqcli.cli.choices import Device, Precision, format_option
from seqcli.cli.common import err_console, locations, out_console
from seqcli.config import PREDICT_BATCH_SIZE as BATCH_SIZE
from seqcli.data.inputs import InputText, check_sources, iter_inputs

if TYPE_CHECKING:
    from seqcli.classify.predict import Prediction
    from seqcli.runs import LoadedRun

PREVIEW_CHARS = 70


def classify(
    files: Annotated[list[str], typer.Argument(help="Text files (each non-empty line is one text), CSV/TSV/JSONL files (a text column), or - for stdin.", show_default=False)],
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest classifier run).")] = None,
    document: Annotated[bool, typer.Option("--document", help="Treat each file (or all of stdin) as one text.")] = False,
    format: Annotated[OutputFormat, format_option(OutputFormat, "text (a line per text and a count on stderr), json (one document on stdout), jsonl (a JSON line per text) or csv.")] = OutputFormat.text,
    text_column: Annotated[Optional[str], typer.Option("--text-column", help="CSV/TSV/JSONL column holding the text (name or 0-based index).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Texts per forward pass.")] = BATCH_SIZE,
    device: Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")] = Device.auto,
    precision: Annotated[Precision, typer.Option("--precision", help="auto | fp32 | bf16 | fp16.")] = Precision.auto,
) -> None:
    """Label each text with a trained classifier, with its probability."""
    from seqcli.classify.predict import predict_items
    from seqcli.runs import load_run, newest_run

    check_sources(files)
    run_dir = model if model is not None else newest_run(locations().runs, "classify")
    run = load_run(run_dir, device=device.value, precision=precision.value,
                   expect_task="classify")
    inputs = iter_inputs(files, document=document, text_column=text_column, stdin=sys.stdin)
    results = predict_items(run, ((item, item.text) for item in inputs), batch_size=batch_size)
    writer = {OutputFormat.text: _write_table, OutputFormat.json: _write_json,
              OutputFormat.jsonl: _write_jsonl, OutputFormat.csv: _write_csv}[format]
    counts = writer(run, results, show_source=len(files) > 1)
    if format == OutputFormat.text:
        _print_counts(counts)


def _record(item: InputText, prediction: Prediction) -> dict[str, Any]:
    return {"source": item.source, "line": item.line, "text": item.text,
            "label": prediction.label, "probability": prediction.probability,
            "probabilities": prediction.probabilities}


def _write_table(run: LoadedRun, results, show_source: bool) -> Counter:
    """One aligned line per text: label, probability, [source:line,] a preview of the text."""
    width = max((len(label) for label in run.labels), default=5)
    counts: Counter = Counter()
    for item, prediction in results:
        counts[prediction.label] += 1
        text = " ".join(item.text.split())
        text = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"
        where = f"{item.source}:{item.line or ''}  " if show_source else ""
        out_console.print(f"{prediction.label:<{width}}  {prediction.probability:.3f}  "
                          f"{where}{text}", markup=False, highlight=False)
    return counts


def _write_json(run: LoadedRun, results, show_source: bool) -> Counter:
    """One JSON document, written as it goes so memory stays bounded."""
    counts: Counter = Counter()
    out = sys.stdout
    out.write(json.dumps({"run_dir": str(run.path), "labels": run.labels})[:-1])
    out.write(', "predictions": [')
    for n, (item, prediction) in enumerate(results):
        counts[prediction.label] += 1
        out.write(("," if n else "") + "\n  " + json.dumps(_record(item, prediction),
                                                          ensure_ascii=False))
    summary = {"n": sum(counts.values()),
               "counts": {label: counts[label] for label in run.labels}}
    out.write("\n], " + json.dumps(summary)[1:] + "\n")
    out.flush()
    return counts


def _write_jsonl(run: LoadedRun, results, show_source: bool) -> Counter:
    counts: Counter = Counter()
    for item, prediction in results:
        counts[prediction.label] += 1
        sys.stdout.write(json.dumps(_record(item, prediction), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return counts


def _write_csv(run: LoadedRun, results, show_source: bool) -> Counter:
    labels = run.labels
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["source", "line", "label", "probability",
                     *(f"p_{label}" for label in labels), "text"])
    counts: Counter = Counter()
    for item, prediction in results:
        counts[prediction.label] += 1
        writer.writerow([item.source, item.line or "", prediction.label,
                         f"{prediction.probability:.6f}",
                         *(f"{prediction.probabilities[label]:.6f}" for label in labels),
                         item.text])
    sys.stdout.flush()
    return counts


def _print_counts(counts: Counter) -> None:
    total = sum(counts.values())
    table = Table(title=f"{total} text{'s' if total != 1 else ''} classified")
    table.add_column("label")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    for label, count in counts.most_common():
        table.add_row(label, str(count), f"{count / total:.1%}")
    err_console.print(table)


def print_evaluation(result: dict[str, Any]) -> None:
    """`seqcli evaluate` on a classifier: summary, per-class and confusion tables."""
    from seqcli.training.reporting import metrics_table

    title = f"{result['corpus']} ({result['split']})"
    out_console.print(metrics_table(title, {k: result[k] for k in
                                            ("accuracy", "macro_f1", "loss", "n") if k in result}))
    per_class = Table(title="per class")
    for column in ("label", "precision", "recall", "f1", "support"):
        per_class.add_column(column, justify="left" if column == "label" else "right")
    for label, row in result["per_class"].items():
        per_class.add_row(label, f"{row['precision']:.4f}", f"{row['recall']:.4f}",
                          f"{row['f1']:.4f}", str(row["support"]))
    out_console.print(per_class)
    labels = result.get("labels") or list(result["per_class"])
    confusion = Table(title="confusion (rows: true, columns: predicted)")
    confusion.add_column("true \\ predicted")
    for label in labels:
        confusion.add_column(label, justify="right")
    for label, row in zip(labels, result["confusion"]):
        confusion.add_row(label, *(str(v) for v in row))
    out_console.print(confusion)
