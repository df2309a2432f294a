"""Back-pressure and limits give their statuses: 429 when the queue is full, 504 past the
time limit, 422 past the sizes; each limit is a flag and shows in /info."""

from __future__ import annotations

import threading
import time

import pytest

from seqcli.errors import UsageError
from seqcli.server.limits import ServeLimits, check_limits
from tests.server.live import LiveServer, call, metric, open_stream

LIMITS = ServeLimits(max_rows=1, max_queue=1, max_tokens=1_000_000, max_prompt_tokens=20,
                     max_texts=2, timeout=1.5)


@pytest.fixture(scope="module")
def tight(served_runs):
    live = LiveServer([served_runs["lm"], served_runs["clf"]], limits=LIMITS)
    yield live
    live.close()


def test_queue_full_is_429_and_the_waiting_request_runs_later(tight):
    connection, _ = open_stream(tight.port, {"prompt": "a", "max_tokens": 1_000_000})
    waiting: dict = {}
    thread = threading.Thread(target=lambda: waiting.update(
        doc=call(tight.base, "POST", "/v1/completions", {"prompt": "b", "max_tokens": 4})))
    thread.start()
    until = time.monotonic() + 5
    while metric(tight.base, "seqcli_queue_length{") < 1 and time.monotonic() < until:
        time.sleep(0.01)
    status, doc = call(tight.base, "POST", "/v1/completions", {"prompt": "c", "max_tokens": 4})
    assert status == 429 and doc["error"]["type"] == "queue_full"
    connection.close()  # the running row leaves; the waiting request gets it
    thread.join(10)
    assert waiting["doc"][0] == 200


def test_time_limit_is_504_and_sizes_are_422(tight):
    started = time.monotonic()
    status, doc = call(tight.base, "POST", "/v1/completions",
                       {"prompt": "a", "max_tokens": 1_000_000})
    assert status == 504 and "--timeout" in doc["error"]["message"]
    assert time.monotonic() - started < 5
    status, doc = call(tight.base, "POST", "/v1/completions", {"prompt": "x" * 21})
    assert status == 422 and "--max-prompt-tokens" in doc["error"]["message"]
    status, doc = call(tight.base, "POST", "/v1/classify", {"input": ["a", "b", "c"]})
    assert status == 422 and "--max-texts" in doc["error"]["message"]
    status, doc = call(tight.base, "POST", "/v1/completions", {"prompt": "a", "n": 2})
    assert status == 422 and "n must be from 1 to 1 (this server's --max-rows)" in \
        doc["error"]["message"]
    assert call(tight.base, "GET", "/info")[1]["limits"]["max_rows"] == 1


def test_limits_that_cannot_serve_are_refused():
    with pytest.raises(UsageError, match="--max-rows must be a finite number >= 1"):
        check_limits(ServeLimits(max_rows=0))
    with pytest.raises(UsageError, match="--batch-window-ms must be at most 1000"):
        check_limits(ServeLimits(batch_window_ms=5000))
    with pytest.raises(UsageError, match="--timeout"):
        check_limits(ServeLimits(timeout=float("nan")))


def test_a_long_explain_stops_at_its_deadline_and_frees_the_model(served_runs):
    live = LiveServer([served_runs["clf"]], limits=ServeLimits(timeout=1))
    try:
        texts = ["a wonderful film, moving and warm"] * 200
        status, doc = call(live.base, "POST", "/v1/explain", {"input": texts, "steps": 1000})
        assert status == 504
        started = time.monotonic()
        status, _ = call(live.base, "POST", "/v1/classify", {"input": "a lovely story"})
        assert status == 200 and time.monotonic() - started < 2
    finally:
        live.close()
