"""`seqcli export`: a run's model as an ONNX or TorchScript file, verified before it is written.

`--to` picks the file's format; `--format` is the report's, as on every command (one line, or
one JSON document with `--format json`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from seqcli.cli.choices import ExportFormat, Format, format_option, value
from seqcli.cli.common import Force, err_console, locations, out_console, print_json


def export(
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest run).")] = None,
    to: Annotated[Optional[ExportFormat], typer.Option("--to", help="The file's format: onnx or torchscript (default: from --out's suffix, .onnx or .pt).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="File (or existing folder) to write (default: RUN/export/model.onnx or model.pt); tokenizer.json and FILE.json go beside it.")] = None,
    opset: Annotated[Optional[int], typer.Option("--opset", help="ONNX opset (default 17).")] = None,
    force: Force = False,
    format: Annotated[Format, format_option(Format, "text (one line), or json: the report as one document on stdout.")] = Format.text,
    json: Annotated[bool, typer.Option("--json", hidden=True, help="seqcli 0.1's --format json.")] = False,
) -> None:
    """Export a run for ONNX Runtime or TorchScript; checked against PyTorch first."""
    if json:
        err_console.print("note: --json is now --format json", highlight=False, markup=False)
        format = Format.json
    from seqcli.api import load
    from seqcli.runs import newest_run

    run_dir = model if model is not None else newest_run(locations().runs)
    run = load(run_dir, device="cpu", precision="fp32")
    report = run.export(out, format=value(to), opset=opset, overwrite=force)
    if format == Format.json:
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
