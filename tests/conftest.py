"""Shared fixtures: tiny corpora written here, and the real mirror when SEQCLI_DATA has it."""

import os
from pathlib import Path

import pytest
import torch

# Test models are tiny: one thread is as fast, and on a busy 2-core machine extra OpenMP
# threads only spin. Subprocess tests (the real CLI) keep torch's default.
torch.set_num_threads(1)

# A few sentences of our own, repeated with small changes so a model can learn something.
_LINES = [
    "the time traveller looked at the small machine on the table.",
    "we sat in the smoking room and listened to his strange story.",
    "the psychologist smiled, but the medical man did not say a word.",
    "in the morning the laboratory was quiet and the machine was gone.",
    "he spoke of the future, of the eloi and of the dark morlocks below.",
]


def tiny_text(repeats: int = 12) -> str:
    lines = []
    for r in range(repeats):
        for i, line in enumerate(_LINES):
            lines.append(line if (r + i) % 3 else line.capitalize())
    return "\n".join(lines) + "\n"


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.txt"
    path.write_text(tiny_text(), encoding="utf-8")
    return path


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "runs"
    monkeypatch.setenv("SEQCLI_RUNS", str(path))
    monkeypatch.setenv("SEQCLI_CACHE", str(tmp_path / "cache"))
    return path


@pytest.fixture
def real_corpora() -> Path:
    """The shared corpus mirror, through the same variable a user would set."""
    value = os.environ.get("SEQCLI_DATA")
    if not value or not (Path(value) / "timemachine.txt").is_file():
        pytest.skip("SEQCLI_DATA does not point at a corpus mirror")
    return Path(value)


_REVIEWS = [("a wonderful film, moving and warm", "positive"),
            ("an awful mess, dull and long", "negative"),
            ("a great cast and a lovely story", "positive"),
            ("a boring plot and terrible acting", "negative")]


def write_reviews(path: Path, repeats: int = 12) -> Path:
    """A tiny labelled CSV of our own (two classes, easy to learn)."""
    lines = ["text,label"] + [f'"{text}",{label}' for text, label in _REVIEWS * repeats]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def reviews_csv(tmp_path: Path) -> Path:
    return write_reviews(tmp_path / "reviews.csv")
