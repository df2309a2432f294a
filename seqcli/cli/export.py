"""`seqcli export`: a run's model as an ONNX or TorchScript file, verified before it is written.

Here `--format` is the file's format (as in the CLI contract); the report is one line on
stdout, or one JSON document with `--json`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from seqcli.cli.choices import ExportFormat, value
from seqcli.cli.common import locations, out_console, print_json


def export(
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest run).")] = None,
    format: Annotated[Optional[ExportFormat], typer.Option("--format", help="onnx or torchscript (default: from --out's suffix, .onnx or .pt).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="File (or existing folder) to write (default: RUN/export/model.onnx or model.pt); tokenizer.json and FILE.json go beside it.")] = None,
    opset: Annotated[Optional[int], typer.Option("--opset", help="ONNX opset (default 17).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files at --out.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON document.")] = False,
) -> None:
    """Export a run for ONNX Runtime or TorchScript; checked against PyTorch first."""
    from seqcli.api import load
    from seqcli.runs import newest_run

    run_dir = model if model is not None else newest_run(locations().runs)
    run = load(run_dir, device="cpu", precision="fp32")
    report = run.export(out, format=value(format), opset=opset, overwrite=force)
    if json:
        print_json(report)
    else:
        out_console.print(summary_line(report), highlight=False, markup=False)


def summary_line(report: dict[str, Any]) -> str:
    """'wrote PATH (onnx, 1.2 MB); verified against PyTorch: max |error| 2.4e-07 ...'."""
    checked = report["verified"]
    opset = f" opset {report['opset']}," if report.get("opset") else ""
    return (f"wrote {report['path']} ({report['format']},{opset} {_size(report['bytes'])}); "
            f"verified against PyTorch on {checked['outputs_compared']} outputs: max |error| "
            f"{checked['max_abs_error']:.1e} (tolerance {checked['atol']:g})")


def _size(count: int) -> str:
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"
