"""Training curves: curves.png in every run, and the overlay of `seqcli runs plot`."""

import json
import struct

from typer.testing import CliRunner

from seqcli.cli.main import app
from seqcli.training import curves
from seqcli.training.curves import draw_overlay, draw_run, read_metrics, series, terminal_curve

RECORDS = [{"split": "train", "step": s, "loss": 3.0 - 0.1 * s, "lr": 0.001 * s}
           for s in range(1, 11)] + \
          [{"split": "val", "step": s, "val_loss": 3.1 - 0.1 * s, "val_bits": 4.0 - 0.1 * s}
           for s in (5, 10)]


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_metrics_are_read_past_a_torn_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + '\n{"split": "train", "st')
    records = read_metrics(path)
    assert len(records) == len(RECORDS)
    steps, values = series(records, "val", "val_loss")
    assert steps == [5, 10] and values[0] == 2.6


def test_run_and_overlay_figures_are_real_pngs(tmp_path):
    draw_run(RECORDS, tmp_path / "curves.png", "a run")
    assert png_size(tmp_path / "curves.png") == (700, 800)  # three panels stacked
    draw_overlay([("lr=0.1", RECORDS), ("lr=0.2", RECORDS[:5])], "val_loss",
                 tmp_path / "overlay.png")
    assert png_size(tmp_path / "overlay.png") == (800, 500)


def test_every_run_keeps_its_curves_and_runs_plot_overlays(tiny_corpus, tmp_path, runs_dir):
    outs = []
    for cell in ("lstm", "gru"):
        out = tmp_path / cell
        result = CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus), "--cell", cell,
                                          "--hidden", "8", "--embedding", "8", "--max-steps",
                                          "6", "--eval-every", "3", "--out", str(out),
                                          "--format", "json"])
        assert result.exit_code == 0, result.output
        assert png_size(out / "curves.png") == (700, 800)
        outs.append(out)
    plotted = CliRunner().invoke(app, ["runs", "plot", *map(str, outs), "--out",
                                       str(tmp_path / "both.png")])
    assert plotted.exit_code == 0, plotted.output
    assert png_size(tmp_path / "both.png") == (800, 500)
    missing = CliRunner().invoke(app, ["runs", "plot", str(outs[0]), "--metric", "val_accuracy"])
    assert missing.exit_code == 2 and "no run here has val_accuracy" in missing.stderr


def test_a_failed_drawing_never_stops_training(tiny_corpus, tmp_path, runs_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("no fonts here")

    monkeypatch.setattr(curves, "draw_run", broken)
    result = CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus), "--hidden", "8",
                                      "--embedding", "8", "--max-steps", "4", "--eval-every",
                                      "2", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "curves.png not drawn (OSError: no fonts here)" in result.stderr
    assert (tmp_path / "run" / "best.pt").exists() and not (tmp_path / "run" / "curves.png").exists()


def test_the_terminal_curve_and_runs_show(tmp_path, tiny_corpus, runs_dir):
    chart = terminal_curve(RECORDS, width=60, height=12)
    assert "training loss" in chart and "validation loss" in chart and "step" in chart
    assert terminal_curve([]) == ""
    out = tmp_path / "run"
    CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus), "--hidden", "8",
                             "--max-steps", "20", "--eval-every", "10", "--out", str(out)])
    shown = CliRunner().invoke(app, ["runs", "show", str(out)], env={"COLUMNS": "120"})
    assert shown.exit_code == 0 and "validation loss" in shown.stdout


def test_a_runs_figure_is_redrawn_as_often_as_its_cost_allows(tmp_path, monkeypatch):
    """At most every CURVES_SECONDS, and a slow figure waits longer: drawing stays under
    CURVES_SHARE of the run's time. The end of a run forces one."""
    now, drawn = [1000.0], []

    def draw_run(records, dest, title):
        drawn.append(now[0])
        now[0] += 1.0  # a figure that takes a second: 50 s between two of them

    monkeypatch.setattr(curves, "draw_run", draw_run)
    monkeypatch.setattr(curves.time, "monotonic", lambda: now[0])
    figure = curves.RunFigure(tmp_path, "a run")
    assert figure.draw() is None and drawn == [1000.0] and figure.seconds == 1.0
    for step in (29.0, 30.0, 48.0):  # since the last drawing began
        now[0] = 1000.0 + step
        figure.draw()
    assert drawn == [1000.0]
    now[0] = 1000.0 + 1.0 / curves.CURVES_SHARE
    figure.draw()
    figure.draw(force=True)
    assert drawn == [1000.0, 1050.0, 1051.0]
