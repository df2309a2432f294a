"""Continuous batching as callers see it: a seeded request gives `seqcli generate`'s text
whatever else is in the batch, and a caller that leaves frees its row at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import seqcli
from seqcli.server.limits import ServeLimits
from tests.server.live import LiveServer, call, events, metric, open_stream, streamed_texts

MIXED = [  # (request, the same options for Run.generate)
    ({"prompt": "the time", "max_tokens": 120, "seed": 1}, {}),
    ({"prompt": "he", "max_tokens": 90, "seed": 2, "temperature": 1.3}, {"temperature": 1.3}),
    ({"prompt": "", "max_tokens": 150, "seed": 3, "top_k": 5}, {"top_k": 5}),
    ({"prompt": "we sat", "max_tokens": 60, "seed": 4, "top_p": 0.7}, {"top_p": 0.7}),
    ({"prompt": "in the", "max_tokens": 130, "seed": 5, "n": 3}, {"num_samples": 3}),
    ({"prompt": "the ", "max_tokens": 100, "seed": 6, "stop": ["e m", "."]},
     {"stop": ["e m", "."]}),
    ({"prompt": "Th", "max_tokens": 80, "temperature": 0}, {"greedy": True}),
    ({"prompt": "morlocks", "max_tokens": 140, "seed": 8, "stop": "\n", "keep_stop": True},
     {"stop": "\n", "keep_stop": True}),
    ({"prompt": "a", "max_tokens": 70, "seed": 9, "logprobs": 3}, {}),
    ({"prompt": "the eloi", "max_tokens": 110, "seed": 10, "n": 2, "top_k": 3, "top_p": 0.9},
     {"num_samples": 2, "top_k": 3, "top_p": 0.9}),
    ({"prompt": "machine", "max_tokens": 95, "seed": 11,
      "trace": {"signal": "cell", "units": [1]}}, {}),
    ({"prompt": "he spoke", "max_tokens": 125, "seed": 12, "temperature": 0.5},
     {"temperature": 0.5}),
]


def _served(server, body: dict, stream: bool) -> list[str]:
    if stream:
        texts = streamed_texts(events(server.base, body))
        return [texts[k] for k in sorted(texts)]
    status, doc = call(server.base, "POST", "/v1/completions", body)
    assert status == 200, doc
    return [c["text"] for c in doc["choices"]]


def test_seeded_requests_equal_generate_under_concurrency(server, served_runs):
    peak, done = [0.0], threading.Event()

    def watch() -> None:  # the batch really holds several requests at once
        while not done.is_set():
            peak[0] = max(peak[0], metric(server.base, "seqcli_running_rows{"))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(len(MIXED)) as pool:
        futures = [pool.submit(_served, server, body, i % 2 == 1)
                   for i, (body, _) in enumerate(MIXED)]
        got = [f.result() for f in futures]
    done.set()
    watcher.join()
    run = seqcli.load(served_runs["lm"], device="cpu", precision="fp32")
    for (body, options), texts in zip(MIXED, got):
        seed = {"seed": body["seed"]} if "seed" in body else {}
        expected = run.generate(body["prompt"], length=body["max_tokens"], **seed, **options)
        expected = expected if isinstance(expected, list) else [expected]
        assert [body["prompt"] + t for t in texts] == expected, body
    assert peak[0] > 1


@pytest.fixture
def long_server(served_runs):
    live = LiveServer([served_runs["lm"]], limits=ServeLimits(max_tokens=1_000_000))
    yield live
    live.close()


def test_a_disconnect_frees_its_row(long_server):
    base = long_server.base
    connection, response = open_stream(long_server.port, {"prompt": "the", "max_tokens": 1_000_000})
    assert metric(base, "seqcli_running_rows{") == 1
    connection.close()
    until = time.monotonic() + 2
    while metric(base, "seqcli_running_rows{") != 0 and time.monotonic() < until:
        time.sleep(0.01)
    assert metric(base, "seqcli_running_rows{") == 0
    produced = metric(base, "seqcli_generated_tokens_total{")
    time.sleep(0.2)
    assert metric(base, "seqcli_generated_tokens_total{") == produced  # nothing runs on
    status, doc = call(base, "POST", "/v1/completions", {"prompt": "a", "max_tokens": 5})
    assert status == 200 and doc["usage"]["completion_tokens"] == 5
