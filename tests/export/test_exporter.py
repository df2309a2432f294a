"""Where an export may go, what it refuses, and what it writes beside the model."""

import hashlib
import json
import os
from pathlib import Path

import pytest

from seqcli import atomic
from seqcli.errors import ExportError, OverwriteError, UsageError
from seqcli.export.exporter import export_run, resolve_target


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_default_location_is_the_runs_export_folder_and_is_replaced_freely(run_factory):
    run = run_factory("lm", cell="gru")
    before = snapshot(run.path)
    first = export_run(run, fmt="torchscript")
    assert first["path"] == str(run.path / "export" / "model.pt")
    again = export_run(run, fmt="torchscript")  # ours: no --force needed
    assert again["path"] == first["path"]
    assert snapshot(run.path) == before  # the run's own files are untouched
    assert sorted(p.name for p in (run.path / "export").iterdir()) == [
        "model.pt", "model.pt.json", "tokenizer.json"]


def test_format_comes_from_the_option_or_the_suffix(tmp_path):
    assert resolve_target(tmp_path, tmp_path / "m.onnx", None, None).format == "onnx"
    assert resolve_target(tmp_path, tmp_path / "m.onnx", None, None).opset == 17
    assert resolve_target(tmp_path, tmp_path / "m.ts", None, None).format == "torchscript"
    assert resolve_target(tmp_path, tmp_path / "m.bin", "onnx", 15).path.name == "m.bin"
    assert resolve_target(tmp_path, None, "onnx", None).path == tmp_path / "export/model.onnx"
    with pytest.raises(UsageError, match="name the export format: --to onnx or"):
        resolve_target(tmp_path, tmp_path / "m.bin", None, None)
    with pytest.raises(UsageError, match="names a torchscript file but --to is onnx"):
        resolve_target(tmp_path, tmp_path / "m.pt", "onnx", None)
    with pytest.raises(UsageError, match="unknown export format 'tflite'"):
        resolve_target(tmp_path, None, "tflite", None)


def test_user_files_are_never_replaced_without_force(run_factory, tmp_path):
    run, other = run_factory("lm"), run_factory("lm", tokenizer="word")
    out = tmp_path / "mine" / "model.pt"
    export_run(run, out)
    with pytest.raises(OverwriteError, match=r"model.pt already exists; add --force to "):
        export_run(run, out)
    export_run(run, out, overwrite=True)
    with pytest.raises(OverwriteError, match=r"tokenizer.json already exists; add --force"):
        export_run(other, out.with_name("other.pt"))
    export_run(run, out.with_name("again.pt"))  # the same tokenizer.json may stay
    assert (tmp_path / "mine" / "again.pt").is_file()


def test_the_top_of_a_run_directory_is_refused(run_factory, tmp_path):
    run = run_factory("lm")
    for out in (run.path / "best.pt", run.path):
        with pytest.raises(UsageError, match="would be written into the run directory"):
            export_run(run, out, fmt="torchscript")
    assert not (run.path / "best.pt").exists() and not (run.path / "model.pt").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"hidden_size": 8}')  # not a run's
    assert export_run(run, tmp_path / "other", fmt="torchscript")["path"] == str(
        tmp_path / "other" / "model.pt")  # an existing folder: the default name inside


def test_an_unwritable_destination_is_one_line(run_factory, tmp_path):
    run = run_factory("lm")
    (tmp_path / "file.txt").write_text("not a folder")
    with pytest.raises(ExportError, match=r"cannot write to .*file.txt"):
        export_run(run, tmp_path / "file.txt" / "model.pt")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(ExportError, match="cannot write to .*locked: Permission denied"):
            export_run(run, locked / "model.pt")


def test_sidecar_of_a_language_model(run_factory, tmp_path):
    run = run_factory("lm", cell="lstm", layers=2)
    report = export_run(run, tmp_path / "lm.pt")
    meta = json.loads((tmp_path / "lm.pt.json").read_text())
    assert report["metadata"] == str(tmp_path / "lm.pt.json")
    assert meta["task"] == "lm" and meta["file"] == "lm.pt" and meta["format"] == "torchscript"
    assert meta["model"] == {"cell": "lstm", "num_layers": 2, "hidden_size": 12,
                                  "embedding_size": 8, "bidirectional": False,
                                  "vocab_size": run.tokenizer.vocab_size}
    assert [i["name"] for i in meta["inputs"]] == ["ids", "h0", "c0"]
    assert meta["inputs"][0] == {"name": "ids", "dtype": "int64", "shape": ["batch", "time"]}
    assert [o["name"] for o in meta["outputs"]] == ["logits", "hn", "cn"]
    assert meta["state"] == [{"input": "h0", "output": "hn", "shape": [2, "batch", 12]},
                             {"input": "c0", "output": "cn", "shape": [2, "batch", 12]}]
    assert meta["tokenizer"] == {"file": "tokenizer.json", "kind": "char", "pad_id": 0,
                                 "unk_id": 1, "lowercase": False}
    assert meta["direction"] == "left_to_right" and "right to left" not in meta["usage"]
    assert meta["verified"]["atol"] == 1e-4 and meta["verified"]["max_abs_error"] < 1e-5
    assert len(meta["verified"]["cases"]) == 12 and meta["seqcli_version"]
    assert (tmp_path / "tokenizer.json").read_bytes() == (run.path / "tokenizer.json").read_bytes()


def test_sidecar_says_a_language_model_reads_right_to_left(run_factory, tmp_path):
    export_run(run_factory("lm", cell="gru", reverse=True), tmp_path / "back.onnx")
    meta = json.loads((tmp_path / "back.onnx.json").read_text())
    assert meta["direction"] == "right_to_left"
    assert "reads right to left" in meta["usage"] and "last first" in meta["usage"]


def test_sidecar_of_a_classifier(run_factory, tmp_path):
    run = run_factory("classify", cell="gru", bidirectional=True, subwords=32, pooling="last")
    export_run(run, tmp_path / "clf.pt")
    meta = json.loads((tmp_path / "clf.pt.json").read_text())
    assert meta["task"] == "classify" and meta["labels"] == ["negative", "positive"]
    assert [i["name"] for i in meta["inputs"]] == ["ids", "lengths", "ngrams"]
    assert meta["inputs"][2]["shape"] == ["batch", "time", "ngrams"]
    assert meta["outputs"] == [{"name": "logits", "dtype": "float32", "shape": ["batch", 2]}]
    assert meta["subwords"]["buckets"] == 32 and "crc32" in meta["subwords"]["recipe"]
    assert meta["max_length"] == run.config.data.max_length and meta["pooling"] == "last"
    assert meta["tokenizer"]["kind"] == "word" and meta["tokenizer"]["lowercase"] is True
    assert "state" not in meta


def test_sidecar_of_a_wide_classifier_says_how_to_compute_its_input(run_factory, tmp_path):
    run = run_factory("classify", wide=64)
    export_run(run, tmp_path / "clf.pt")
    meta = json.loads((tmp_path / "clf.pt.json").read_text())
    assert [i["name"] for i in meta["inputs"]] == ["ids", "lengths", "wide"]
    assert meta["inputs"][2] == {"name": "wide", "dtype": "int64", "shape": ["batch", "features"]}
    assert meta["wide"]["buckets"] == 64 and meta["wide"]["separator"] == " "
    assert "crc32" in meta["wide"]["recipe"] and "adjacent tokens" in meta["wide"]["recipe"]
    assert meta["subwords"] is None


class Crash(Exception):
    """A kill between two files, as far as the folder can tell."""


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_force_replaces_the_three_files_as_one_set(run_factory, tmp_path, monkeypatch,
                                                   crash_at):
    """`export --force` over another run's export, killed between files: the folder holds the
    old export whole or files without a description, never a description beside a model or
    tokenizer it does not describe; the next export completes the set, whose description names
    the generation (the SHA-256 of the model and the tokenizer)."""
    first, second = run_factory("lm"), run_factory("lm", tokenizer="word", seed=1)
    out = tmp_path / "out" / "model.pt"
    export_run(first, out)
    old = snapshot(out.parent)
    real, calls = os.replace, []

    def crash(src, dst):
        if Path(dst).parent == out.parent:
            calls.append(dst)
            if len(calls) == crash_at:
                raise Crash
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(Crash):
        export_run(second, out, overwrite=True)
    monkeypatch.undo()
    after = snapshot(out.parent)
    assert after == old or "model.pt.json" not in after
    export_run(second, out, overwrite=True)
    files = snapshot(out.parent)
    described = json.loads(files["model.pt.json"])
    assert described["run"] == str(second.path)
    digest = {name: hashlib.sha256(files[name]).hexdigest()
              for name in ("model.pt", "tokenizer.json")}
    assert described["sha256"] == {"model": digest["model.pt"],
                                   "tokenizer": digest["tokenizer.json"]}
