"""A real server for the tests: uvicorn on a free port of 127.0.0.1 in a thread of the test
process, and a real HTTP client (urllib / http.client) that speaks to it."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import uvicorn

from seqcli.server.app import create_app
from seqcli.server.launch import SeqcliServer, bind


class LiveServer:
    """`create_app(models, **options)` served until `close()`; waits until /health is 200."""

    def __init__(self, models, *, outer=None, prefix: str = "", **options: Any):
        """`outer(app)`: an application of the user's that mounts the app at `prefix`."""
        options = {"device": "cpu", "precision": "fp32", **options}
        self.app = create_app(models, **options)
        sock = bind("127.0.0.1", 0)
        self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}{prefix}"
        config = uvicorn.Config(self.app if outer is None else outer(self.app),
                                log_level="warning", access_log=False,
                                timeout_graceful_shutdown=2)
        self.server = SeqcliServer(config, self.app.state.seqcli)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        self.wait_ready()

    def wait_ready(self, seconds: float = 60) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            try:
                if call(self.base, "GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError("the server did not become ready")

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def call(base: str, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, Any]:
    """(status, parsed JSON body, or the text when it is not JSON)."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, payload = err.code, err.read()
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode("utf-8", "replace")


def events(base: str, body: dict, headers: dict[str, str] | None = None) -> list[Any]:
    """A streamed completion's events, read to the end ("[DONE]" included as a string)."""
    request = urllib.request.Request(base + "/v1/completions",
                                     data=json.dumps({**body, "stream": True}).encode(),
                                     method="POST", headers=headers or {})
    found = []
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response:
            line = line.decode("utf-8").rstrip("\n")
            if line.startswith("data: "):
                payload = line[len("data: "):]
                found.append(payload if payload == "[DONE]" else json.loads(payload))
    return found


def streamed_texts(found: list[Any]) -> dict[int, str]:
    """Each choice's text, joined from its events."""
    texts: dict[int, str] = {}
    for event in found:
        for choice in event.get("choices", []) if isinstance(event, dict) else []:
            texts[choice["index"]] = texts.get(choice["index"], "") + choice["text"]
    return texts


def open_stream(port: int, body: dict) -> tuple[http.client.HTTPConnection, Any]:
    """A streamed completion left open: the connection and its response (first line read)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/v1/completions", json.dumps({**body, "stream": True}),
                       {"content-type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200
    response.readline()
    return connection, response


def metric(base: str, name: str) -> float:
    """The sum of a metric's samples in /metrics (0 when absent)."""
    status, text = call(base, "GET", "/metrics")
    assert status == 200
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name) and not line.startswith("#"))
