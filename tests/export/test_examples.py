"""The README's onnxruntime snippet and examples/onnx_classify.py run as written, on exports
of tiny runs, and agree with seqcli."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seqcli.classify.predict import predict
from seqcli.export.exporter import export_run

pytest.importorskip("onnxruntime")
ROOT = Path(__file__).resolve().parents[2]


def readme_snippet() -> str:
    """The python block of the README's Export section."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Export\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def run_python(code_or_args: list[str], cwd: Path) -> str:
    done = subprocess.run([sys.executable, *code_or_args], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", timeout=60, check=False,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("tokenizer", ["char", "word", "bpe"])
def test_readme_snippet_generates_from_an_exported_language_model(run_factory, tmp_path,
                                                                  tokenizer):
    run = run_factory("lm", cell="lstm", tokenizer=tokenizer)
    export_run(run, fmt="onnx")
    code = readme_snippet()
    assert 'folder = "runs/lm-20261201-101500/export"' in code
    code = code.replace("runs/lm-20261201-101500/export", str(run.path / "export"))
    printed = run_python(["-c", code], tmp_path)
    assert printed.startswith("the time traveller") and len(printed.strip()) > 40
    # An untrained byte-level BPE would pick stray bytes: the sidecar's rule must keep the
    # text valid (U+FFFD is what the tokenizer's decoder makes of invalid bytes).
    assert "\ufffd" not in printed


@pytest.mark.parametrize("tokenizer", ["char", "bpe"])
def test_readme_snippet_feeds_a_right_to_left_model_backwards(run_factory, tmp_path, tokenizer):
    """The loop's first logits equal the model's own on the reversed prime, and what it
    samples is printed before the prime: valid text, a byte-level BPE's too (the sidecar's
    utf8 table for a right-to-left model reads each token's bytes last first)."""
    run = run_factory("lm", cell="gru", reverse=True, tokenizer=tokenizer)
    export_run(run, fmt="onnx")
    code = readme_snippet().replace("runs/lm-20261201-101500/export", str(run.path / "export"))
    loop = "for left in range(200, 0, -1):"
    assert loop in code
    code = code.replace(loop, "for step, left in enumerate(range(200, 0, -1)):")
    code = code.replace("    logits, *new = session.run(None, {\"ids\": ids, **state})\n",
                        "    logits, *new = session.run(None, {\"ids\": ids, **state})\n"
                        "    if step == 0: np.save('first.npy', logits[0, -1])\n")
    printed = run_python(["-c", code], tmp_path)
    assert printed.rstrip("\n").endswith("the time traveller") and len(printed.strip()) > 40
    assert "\ufffd" not in printed
    ids = torch.tensor([run.tokenizer.encode("the time traveller")[::-1]])
    with torch.no_grad():
        expected = run.model(ids, None)[0][0, -1]
    assert np.allclose(np.load(tmp_path / "first.npy"), expected.numpy(), atol=1e-4)


@pytest.mark.parametrize("features", [dict(subwords=64), dict(wide=128),
                                      dict(wide=128, subwords=16, tokenizer="char")])
def test_the_classify_example_agrees_with_seqcli(run_factory, tmp_path, features):
    run = run_factory("classify", cell="gru", bidirectional=True, **features)
    texts = ["a wonderful film", "an AWFUL, unwatchable mess", "", "warmly moving and long"]
    export_run(run, tmp_path / "clf.onnx")
    printed = run_python([str(ROOT / "examples" / "onnx_classify.py"),
                          str(tmp_path / "clf.onnx"), *texts], tmp_path)
    lines = [line.split("\t") for line in printed.splitlines()]
    assert [text for *_, text in lines] == texts
    for (label, probability, _), expected in zip(lines, predict(run, texts)):
        assert label == expected.label and float(probability) == pytest.approx(
            expected.probability, abs=1e-4)
