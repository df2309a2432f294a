"""The bad-request catalogue: each mistake gets its status and a one-line message, as JSON
`{"error": {"message", "type"}}`, and the server goes on answering."""

from __future__ import annotations

import http.client
import json

import pytest

from seqcli.server.limits import ServeLimits
from tests.server.live import LiveServer, call, events

C, X = "/v1/completions", "/v1/classify"
CATALOGUE = [  # (route, raw body, status, a fragment of the message)
    (C, b'{"prompt": "the', 400, "not valid JSON"),
    (C, b"", 400, "the body is empty"),
    (C, b'["the"]', 400, "must be a JSON object; got list"),
    (C, b'{"prompt": "\xff\xfe"}', 400, "not UTF-8"),
    (C, b'{"prompt": "a", "max_tokens": NaN}', 400, "not valid JSON"),
    (C, b'{"max_tokens": 5}', 422, "prompt is required"),
    (C, b'{"prompt": "a", "frequency_penalty": 0}', 422, "unknown field 'frequency_penalty'"),
    (C, b'{"prompt": 5}', 422, "prompt must be a string; got 5"),
    (C, b'{"prompt": "a", "max_tokens": "10"}', 422, 'max_tokens must be an integer; got "10"'),
    (C, b'{"prompt": "a", "max_tokens": 2.5}', 422, "max_tokens must be an integer"),
    (C, b'{"prompt": "a", "max_tokens": true}', 422, "max_tokens must be an integer; got true"),
    (C, b'{"prompt": "a", "max_tokens": -1}', 422, "max_tokens must be from 1 to 2048"),
    (C, b'{"prompt": "a", "max_tokens": 10000000000000}', 422, "max_tokens must be from 1"),
    (C, b'{"prompt": "a", "n": 0}', 422, "n must be from 1 to 16"),
    (C, b'{"prompt": "a", "temperature": -1}', 422, "temperature must be a finite number > 0"),
    (C, b'{"prompt": "a", "temperature": 1e400}', 422, "temperature must be a finite number"),
    (C, b'{"prompt": "a", "top_p": 1.5}', 422, "top_p must be in (0, 1]; got 1.5"),
    (C, b'{"prompt": "a", "top_k": 0}', 422, "top_k must be from 1 to the vocabulary size"),
    (C, b'{"prompt": "a", "seed": -3}', 422, "seed must be an integer from 0"),
    (C, b'{"prompt": "a", "stop": ""}', 422, "stop must not be empty"),
    (C, b'{"prompt": "a", "stop": [1]}', 422, "stop must be a string or a list of strings"),
    (C, b'{"prompt": "a", "stop": ["a", "b", "c", "d", "e"]}', 422, "at most 4 (--max-stops)"),
    (C, b'{"prompt": "a", "beam": 2, "temperature": 1.0}', 422, "beam scores with the model"),
    (C, b'{"prompt": "a", "beam": 2, "temperature": 0.8}', 422, "beam scores with the model"),
    (C, b'{"prompt": "a", "beam": 2, "n": 3}', 422, "n must be at most beam (2)"),
    (C, b'{"prompt": "a", "logprobs": 6}', 422, "logprobs must be from 0 to 5"),
    (C, b'{"prompt": "a", "trace": {"units": [99]}}', 422, "trace.units must be from 0 to 15"),
    (C, b'{"prompt": "a", "trace": {"units": [1], "layer": 3}}', 422,
     "trace.layer must be from 1 to 2"),
    (C, b'{"prompt": "a", "trace": {"units": [1], "signal": "update"}}', 422,
     "trace.signal update: an LSTM has no such signal"),
    (C, b'{"prompt": "a", "trace": {"units": [1], "file": "x"}}', 422,
     "unknown field 'file' in trace"),
    (C, b'{"prompt": "a", "model": "../runs/lm"}', 404, "no model '../runs/lm' is served"),
    (C, b'{"prompt": "a", "model": "clf"}', 422, "model 'clf' is a classifier"),
    (C, json.dumps({"prompt": "x" * 9000}).encode(), 422, "the prompt has 9000 tokens"),
    (X, b'{"input": []}', 422, "input must hold at least one text"),
    (X, b'{"input": ["good", ""]}', 422, "input text 1 is empty"),
    (X, b'{"input": "good", "path": "/etc/passwd"}', 422, "unknown field 'path'"),
    ("/v1/score", b'{"input": "   "}', 422, "input text 0 is empty"),
    ("/v1/explain", b'{"input": "good", "steps": 0}', 422, "steps must be from 1 to 1000"),
    ("/v1/explain", b'{"input": "good", "label": "meh"}', 422, "label 'meh' is not one of"),
    ("/v1/inspect", b'{"input": "the", "top": 0}', 422, "top must be at least 1"),
    ("/v1/inspect", b'{"input": ["a", "b"]}', 422, "input must be a string"),
    ("/nowhere", b"{}", 404, "no route /nowhere"),
]


@pytest.mark.parametrize("route, raw, status, fragment", CATALOGUE)
def test_bad_request_catalogue(server, route, raw, status, fragment):
    got, doc = call(server.base, "POST", route, raw=raw)
    assert got == status, doc
    message = doc["error"]["message"]
    assert fragment in message and "\n" not in message and "Traceback" not in message
    assert isinstance(doc["error"]["type"], str)


def test_wrong_methods_unseen_characters_and_still_answering(server):
    status, doc = call(server.base, "GET", "/v1/completions")
    assert status == 405 and doc["error"]["type"] == "method_not_allowed"
    status, doc = call(server.base, "POST", "/health", {})
    assert status == 405
    status, doc = call(server.base, "POST", "/v1/completions",
                       {"prompt": "the ✈ time", "max_tokens": 5})
    assert status == 200 and "never seen in training ('✈')" in doc["warnings"][0]
    found = events(server.base, {"prompt": "the ✈ time", "max_tokens": 5})
    assert found[0]["warnings"] == doc["warnings"] and "warnings" not in found[1]
    status, doc = call(server.base, "POST", "/v1/completions", {"prompt": "", "max_tokens": 5})
    assert status == 200 and doc["usage"]["completion_tokens"] == 5  # as `seqcli generate`
    assert call(server.base, "GET", "/health")[0] == 200


@pytest.fixture(scope="module")
def small_body_server(served_runs):
    live = LiveServer([served_runs["lm"]], limits=ServeLimits(max_body_bytes=200))
    yield live
    live.close()


def test_a_body_over_the_limit_is_413_declared_or_chunked(small_body_server):
    body = json.dumps({"prompt": "x" * 300}).encode()
    status, doc = call(small_body_server.base, "POST", "/v1/completions", raw=body)
    assert status == 413 and "at most 200 (--max-body-bytes)" in doc["error"]["message"]
    connection = http.client.HTTPConnection("127.0.0.1", small_body_server.port, timeout=10)
    connection.request("POST", "/v1/completions", iter([body[:150], body[150:]]),
                       encode_chunked=True)
    response = connection.getresponse()
    doc = json.loads(response.read())
    assert response.status == 413 and "over 200 bytes" in doc["error"]["message"]
    assert call(small_body_server.base, "GET", "/health")[0] == 200
