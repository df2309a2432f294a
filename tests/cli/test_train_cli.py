"""`seqcli train` flags: help defaults read from the config, new recipe flags reach the run."""

import json
import re

import pytest
from typer.testing import CliRunner

from seqcli.cli import train as train_cli
from seqcli.cli.main import app
from seqcli.config import FIELD_SECTIONS, task_default

from tests.conftest import write_reviews


def help_text() -> str:
    result = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    return " ".join(re.sub(r"[│─╭╮╰╯]", " ", result.output).split())


@pytest.mark.parametrize("option,field", [("--warmup-steps", "warmup_steps"),
                                          ("--lr", "lr"), ("--epochs", "epochs"),
                                          ("--word-dropout", "word_dropout"),
                                          ("--max-minutes", "max_minutes")])
def test_help_shows_each_tasks_default_from_the_config(option, field):
    section = FIELD_SECTIONS[field]
    lm, clf = (train_cli._show(task_default(t, section, field)) for t in ("lm", "classify"))
    assert lm != clf
    assert re.search(rf"{option} .*?\[lm: {re.escape(lm)}; classify: {re.escape(clf)}\]",
                     help_text())


def test_every_config_field_with_a_flag_maps_to_its_section():
    for option in ("layers", "hidden", "embedding", "word_dropout", "adversarial", "seq_len"):
        section, name = train_cli._field(option)
        assert FIELD_SECTIONS[name] == section


def test_recipe_flags_are_recorded_in_the_run(tmp_path, runs_dir):
    rows = [f"a wonderful film {i},positive" if i % 2 else f"an awful mess {i},negative"
            for i in range(40)]
    data = tmp_path / "r.csv"
    data.write_text("text,label\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(app, [
        "train", "--task", "classify", "--corpus", str(data), "--hidden", "8", "--embedding",
        "8", "--max-steps", "2", "--word-dropout", "0.1", "--adversarial", "0.02",
        "--format", "json"])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / json.loads(result.stdout)["run_dir"] / "config.json")
                        .read_text())["config"]
    assert config["train"]["word_dropout"] == 0.1 and config["train"]["adversarial"] == 0.02


def test_recipe_flags_refused_for_language_models(tiny_corpus, runs_dir):
    result = CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus),
                                      "--word-dropout", "0.2"])
    assert result.exit_code == 2
    assert "--word-dropout trains classifiers" in result.stderr


def test_awd_regularisers_from_the_command_line(tiny_corpus, tmp_path, runs_dir):
    result = CliRunner().invoke(app, [
        "train", "--corpus", str(tiny_corpus), "--hidden", "8", "--embedding", "8",
        "--max-steps", "3", "--weight-drop", "0.3", "--locked-dropout", "--embedding-dropout",
        "0.1", "--input-dropout", "0.4", "--drop-mult", "0.5", "--format", "json",
        "--out", str(tmp_path / "awd")])
    assert result.exit_code == 0, result.output
    model = json.loads((tmp_path / "awd" / "config.json").read_text())["config"]["model"]
    assert (model["weight_drop"], model["locked_dropout"], model["drop_mult"]) == (0.3, True, 0.5)
    bad = CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus), "--weight-drop", "1"])
    assert bad.exit_code == 2 and "--weight-drop must be in [0, 1)" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["--layer-lr-decay", "2.6"], ["--unfreeze-every", "5"],
                                  ["--label-smoothing", "0.1"], ["--schedule", "slanted"]])
def test_options_measured_not_to_pay_are_gone(args, runs_dir):
    """benchmarks/RESULTS.md keeps their measurements; runs that used them still load
    (tests/test_config_legacy.py)."""
    result = CliRunner().invoke(app, ["train", "--task", "classify", *args])
    assert result.exit_code == 2 and args[0] in result.stderr
    assert "slanted" not in help_text() and "--label-smoothing" not in help_text()


def test_trace_test_flag_reaches_the_run_and_needs_a_test_set(reviews_csv, runs_dir):
    result = CliRunner().invoke(app, ["train", "--task", "classify", "--corpus", str(reviews_csv),
                                      "--hidden", "8", "--max-steps", "1", "--trace-test"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: --trace-test scores the run's test set")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "for benchmarks" in help_text()
