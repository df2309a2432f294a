"""`seqcli experiment memory` through the CLI."""

import json

from typer.testing import CliRunner

from seqcli.cli.main import app

from tests.training.test_curves import png_size

TINY = ["experiment", "memory", "--cells", "rnn,gru", "--distances", "2,3", "--hidden", "8",
        "--steps", "10"]


def test_text_output_table_and_files(tmp_path):
    result = CliRunner().invoke(app, [*TINY, "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "held-out accuracy" in result.stdout and "gradient at k=4 / k=0" in result.stdout
    assert "rnn at distance 2: accuracy" in result.stderr
    assert png_size(tmp_path / "m" / "memory.png") == (1100, 450)
    again = CliRunner().invoke(app, [*TINY, "--out", str(tmp_path / "m")])
    assert again.exit_code == 2
    assert again.stderr.strip() == f"error: {tmp_path / 'm' / 'memory.json'} already exists; " \
                                   "add --force to replace it"
    before = (tmp_path / "m" / "memory.json").read_text()
    forced = CliRunner().invoke(app, [*TINY, "--seed", "1", "--out", str(tmp_path / "m"),
                                      "--force"])
    assert forced.exit_code == 0, forced.output
    assert json.loads((tmp_path / "m" / "memory.json").read_text())["config"]["seed"] == 1
    assert json.loads(before)["config"]["seed"] == 0


def test_json_output_and_the_default_folder(runs_dir):
    result = CliRunner().invoke(app, [*TINY, "--format", "json", "--optimizer", "adam"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["config"]["optimizer"] == "adam" and document["config"]["lr"] == 0.01
    assert set(document["accuracy"]) == {"rnn", "gru"}
    assert len(document["gradient_norms"]["gru"]) == 5
    assert document["out"].startswith(str(runs_dir))


def test_bad_input_is_one_line_and_makes_no_folder(tmp_path):
    for args, message in [(["--cells", "rnn,cnn"], "unknown cell 'cnn'"),
                          (["--distances", "5,x"], "expected whole numbers"),
                          (["--distances", ","], "comma-separated list"),
                          (["--init", "xavier"], "--init must be one of")]:
        result = CliRunner().invoke(app, ["experiment", "memory", *args, "--out",
                                          str(tmp_path / "no")])
        assert result.exit_code == 2, result.output
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "no").exists()
