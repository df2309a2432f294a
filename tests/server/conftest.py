"""Tiny runs trained once for all server tests, and a server that serves both."""

from __future__ import annotations

from pathlib import Path

import pytest

import seqcli
from tests.conftest import tiny_text, write_reviews
from tests.server.live import LiveServer

TINY_LM = dict(hidden_size=16, embedding_size=8, num_layers=2, seq_len=16, batch_size=8,
               max_steps=30, eval_every=30, device="cpu", precision="fp32")
TINY_CLF = dict(hidden_size=16, embedding_size=16, batch_size=8, eval_every=5, subwords=64,
                epochs=1, device="cpu", precision="fp32")


@pytest.fixture(scope="session")
def served_runs(tmp_path_factory) -> dict[str, Path]:
    """A 2-layer character LSTM language model and a word classifier."""
    root = tmp_path_factory.mktemp("serve")
    (root / "tiny.txt").write_text(tiny_text(), encoding="utf-8")
    lm = seqcli.train(corpus=str(root / "tiny.txt"), out=root / "runs" / "lm", **TINY_LM)
    clf = seqcli.train(task="classify", corpus=str(write_reviews(root / "reviews.csv")),
                       out=root / "runs" / "clf", **TINY_CLF)
    return {"lm": lm.path, "clf": clf.path}


@pytest.fixture(scope="module")
def server(served_runs):
    """Both runs, default limits, loopback, no key."""
    live = LiveServer([served_runs["lm"], served_runs["clf"]])
    yield live
    live.close()
