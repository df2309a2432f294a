"""`seqcli export` end to end on tiny trained runs: one line (or --format json) and one-line
errors."""

import json

import pytest
from typer.testing import CliRunner

import seqcli
from seqcli.cli.main import app
from seqcli.export import onnx_file

TINY = ["--hidden", "8", "--embedding", "8", "--layers", "1", "--max-steps", "2",
        "--format", "json"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("export-cli")
    (root / "text.txt").write_text("the time traveller spoke of the machine.\n" * 50)
    rows = [f"a wonderful film {i},positive" if i % 2 else f"an awful mess {i},negative"
            for i in range(24)]
    (root / "reviews.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    env = {"SEQCLI_RUNS": str(root / "runs"), "SEQCLI_CACHE": str(root / "cache")}
    found = {}
    for task, args in (("lm", ["--corpus", str(root / "text.txt")]),
                       ("classify", ["--task", "classify", "--corpus",
                                     str(root / "reviews.csv"), "--subwords", "32"])):
        result = CliRunner().invoke(app, ["train", *args, *TINY], env=env)
        assert result.exit_code == 0, result.output
        found[task] = json.loads(result.stdout)["run_dir"]
    return root, env, found


def invoke(env, *args):
    return CliRunner().invoke(app, ["export", *map(str, args)], env=env)


def test_newest_run_to_its_export_folder_in_one_line(trained):
    _, env, runs = trained
    pytest.importorskip("onnxruntime")
    result = invoke(env, "--model", runs["lm"], "--to", "onnx")
    assert result.exit_code == 0, result.output
    line, = result.stdout.strip().splitlines()
    assert line.startswith(f"wrote {runs['lm']}/export/model.onnx (onnx, opset 17, ")
    assert "verified against PyTorch on 36 outputs: max |error|" in line


def test_json_report_and_format_from_the_suffix(trained, tmp_path):
    _, env, runs = trained
    result = invoke(env, "--out", tmp_path / "clf.pt", "--format", "json")  # newest: classifier
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["task"] == "classify" and report["format"] == "torchscript"
    assert report["run"] == runs["classify"] and report["bytes"] > 1000
    assert report["verified"]["max_abs_error"] < 1e-4
    assert {p.name for p in tmp_path.iterdir()} == {"clf.pt", "clf.pt.json", "tokenizer.json"}


def test_the_old_spellings_json_and_format_onnx(trained, tmp_path):
    """seqcli 0.1's --json still gives the JSON report, with a note; --format onnx (the file
    type, now --to) is refused in one line that names the new spelling."""
    _, env, runs = trained
    result = invoke(env, "--model", runs["classify"], "--out", tmp_path / "clf.pt", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["format"] == "torchscript"
    assert result.stderr.strip() == "note: --json is now --format json"
    refused = invoke(env, "--model", runs["classify"], "--format", "onnx")
    assert refused.exit_code == 2
    assert "the export's file type is now --to onnx" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_python_api(trained, tmp_path):
    _, _, runs = trained
    run = seqcli.load(runs["classify"], device="cpu")
    report = run.export(tmp_path / "clf.pt")
    assert report["path"] == str(tmp_path / "clf.pt") and report["task"] == "classify"
    assert run.export(format="torchscript")["path"] == f"{runs['classify']}/export/model.pt"


@pytest.mark.parametrize("args, code, message", [
    (["--model", "{root}", "--to", "onnx"], 1, "is not a seqcli run (no config.json)"),
    (["--model", "{lm}", "--to", "tflite"], 2, "Invalid value for '--to'"),
    (["--model", "{lm}"], 2, "name the export format: --to onnx or --to torchscript"),
    (["--model", "{lm}", "--to", "onnx", "--opset", "99"], 2,
     "--opset must be an integer from 14 to 20; got 99"),
    (["--model", "{lm}", "--out", "{root}/text.txt/model.pt"], 1, "cannot write to"),
], ids=["not-a-run", "unknown-format", "no-format", "opset", "unwritable"])
def test_bad_inputs_are_one_line(trained, args, code, message):
    root, env, runs = trained
    argv = [a.format(root=root, lm=runs["lm"]) for a in args]
    result = invoke(env, *argv)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_missing_onnx_is_one_line_naming_the_extra(trained, monkeypatch):
    _, env, runs = trained

    def missing(name, *args):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(onnx_file.importlib, "import_module", missing)
    result = invoke(env, "--model", runs["lm"], "--to", "onnx")
    assert result.exit_code == 1
    assert result.stderr.strip() == ('error: ONNX export needs onnx and onnxruntime (onnx is not '
                                     'installed): pip install onnx onnxruntime onnxscript (the '
                                     'export extra)')
