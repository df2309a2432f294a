"""`seqcli runs list | show`: loadable runs only; a torn summary reads as unfinished."""

import json

from typer.testing import CliRunner

from seqcli.cli import runs as runs_cli
from seqcli.cli.main import app


def test_show_a_run_whose_summary_is_torn(tiny_corpus, runs_dir):
    trained = CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus), "--hidden", "8",
                                       "--embedding", "8", "--max-steps", "2", "--format",
                                       "json"])
    run_dir = json.loads(trained.stdout)["run_dir"]
    (runs_dir / run_dir.split("/")[-1] / "summary.json").write_text('{"steps": ')
    shown = CliRunner().invoke(app, ["runs", "show", run_dir])
    assert shown.exit_code == 0 and "no summary" in shown.stdout
    rows = json.loads(CliRunner().invoke(app, ["runs", "list", "--format", "json"]).stdout)
    assert rows[0]["model"] == "lstm 1x8" and rows[0]["steps"] is None
    assert rows[0]["best"] == "-"  # none of runs_cli.SHOWN without a summary
    assert all(key not in rows[0]["best"] for key in runs_cli.SHOWN)


def test_plot_replaces_a_file_only_with_force(tiny_corpus, runs_dir, tmp_path):
    """The one overwrite rule: `runs plot --out` over an existing file (curves.png by default)
    is refused in one line, the file untouched; --force replaces it."""
    out = tmp_path / "run"
    trained = CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus), "--hidden", "8",
                                       "--embedding", "8", "--max-steps", "4", "--eval-every",
                                       "2", "--out", str(out), "--format", "json"])
    assert trained.exit_code == 0, trained.output
    picture = tmp_path / "mine.png"
    picture.write_bytes(b"my picture")
    refused = CliRunner().invoke(app, ["runs", "plot", str(out), "--out", str(picture)])
    assert refused.exit_code == 2 and picture.read_bytes() == b"my picture"
    assert refused.stderr.strip() == f"error: {picture} already exists; add --force to " \
                                     "replace it"
    forced = CliRunner().invoke(app, ["runs", "plot", str(out), "--out", str(picture),
                                      "--force"])
    assert forced.exit_code == 0, forced.output
    assert picture.read_bytes().startswith(b"\x89PNG")
