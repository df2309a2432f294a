"""POST /v1/completions: OpenAI-style completions, answered whole or streamed as SSE.

Sampled requests run in the model's engine (continuous batching); beam search runs on the
model's worker, alone, and a streamed beam request gets its texts in one event each once the
search is over. A stream is ``data: {chunk}`` per new piece of text, then ``data: [DONE]``;
an error after the stream has started is one ``data: {"error": ...}`` event before it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from seqcli.server.batcher import Task
from seqcli.server.errors import ApiError
from seqcli.server.fields import read_fields
from seqcli.server.http import Gone, answer, api_route, json_response, read_json, until_gone
from seqcli.server.jobs import Choice, Completion, Job
from seqcli.server.requests import COMPLETION_FIELDS, completion_of, warnings_for
from seqcli.server.state import ServerState

log = logging.getLogger("seqcli.server")


@api_route
async def completions(request: Request) -> Response:
    state: ServerState = request.app.state.seqcli
    fields = read_fields(await read_json(request, state.limits.max_body_bytes),
                         COMPLETION_FIELDS)
    served = state.model("lm", fields["model"])
    completion = completion_of(fields, served, state.limits)
    deadline = time.monotonic() + state.limits.timeout
    head = {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "object": "text_completion",
            "created": int(time.time()), "model": served.id}
    extra = {"warnings": warnings_for(served, [completion.prompt])}
    usage = bool((fields["stream_options"] or {}).get("include_usage"))
    if completion.options.beam is not None:
        queue = await _beam(request, served, completion, deadline)
    else:
        queue = asyncio.Queue()
        job = Job(completion, served.run.tokenizer, deadline, served.engine.post)
        job.queue = queue
        served.engine.submit(job)
        if not completion.stream:
            result = await answer(request, _final(queue), deadline,
                                  lambda: setattr(job, "cancelled", True))
            return json_response(_document(head, completion, result, extra))
    if completion.stream:
        return EventStream(queue, head, completion, deadline, usage,
                           None if completion.options.beam is not None else job,
                           extra["warnings"])
    return json_response(_document(head, completion, await _final(queue), extra))


async def _beam(request: Request, served, completion: Completion,
                deadline: float) -> asyncio.Queue:
    """Beam search on the model's worker; its result as the events a job would send."""
    future = served.worker.submit(Task("beam", {"prompt": completion.prompt,
                                                "options": completion.options}, 1, deadline))
    samples = await answer(request, asyncio.wrap_future(future), deadline, future.cancel)
    queue: asyncio.Queue = asyncio.Queue()
    prefix, cut = (completion.prompt if completion.echo else ""), len(completion.prompt)
    choices = [Choice(prefix + s.text[cut:], "stop" if s.stopped is not None else "length")
               for s in samples]
    for k, choice in enumerate(choices):
        queue.put_nowait(("piece", k, choice.text, [], choice.finish_reason))
    generated = sum(s.new_tokens for s in samples)
    queue.put_nowait(("done", {"choices": choices, "usage": {
        "prompt_tokens": completion.prompt_tokens, "completion_tokens": generated,
        "total_tokens": completion.prompt_tokens + generated}}))
    return queue


async def _final(queue: asyncio.Queue) -> dict[str, Any]:
    while True:
        event = await queue.get()
        if event[0] == "done":
            return event[1]
        if event[0] == "error":
            raise event[1]


def _document(head: dict, completion: Completion, result: dict, extra: dict) -> dict:
    choices = [{"index": k, "text": c.text, "finish_reason": c.finish_reason,
                **_blocks(completion, c.records)} for k, c in enumerate(result["choices"])]
    return {**head, "choices": choices, "usage": result["usage"],
            **{k: v for k, v in extra.items() if v}}


def _blocks(completion: Completion, records: list[dict]) -> dict[str, Any]:
    """A choice's per-token extensions: OpenAI's logprobs block, seqcli's trace block."""
    blocks: dict[str, Any] = {"logprobs": None}
    if completion.logprobs is not None:
        blocks["logprobs"] = {
            "tokens": [r["token"] for r in records],
            "token_logprobs": [r["logprob"] for r in records],
            "top_logprobs": [r.get("top_logprobs") for r in records] if completion.logprobs
            else None,
            "text_offset": [r["offset"] for r in records]}
    if completion.trace is not None:
        blocks["trace"] = {**completion.trace.to_dict(),
                           "tokens": [r["token"] for r in records],
                           "text_offset": [r["offset"] for r in records],
                           "values": [r["trace"] for r in records]}
    return blocks


def _sse(document: Any) -> bytes:
    return b"data: " + json.dumps(document, ensure_ascii=False).encode() + b"\n\n"


class EventStream(Response):
    """The SSE answer of a streamed completion (see the module docstring). A caller that
    disconnects cancels its job at once: its rows leave the batch at the next step."""

    media_type = "text/event-stream"

    def __init__(self, queue: asyncio.Queue, head: dict, completion: Completion,
                 deadline: float, usage: bool, job: Job | None, warnings: list[str]):
        self.status_code, self.background = 200, None  # no body: no content-length
        self.init_headers({"cache-control": "no-cache", "x-accel-buffering": "no"})
        self.queue, self.head, self.completion = queue, head, completion
        self.deadline, self.usage, self.job = deadline, usage, job
        self.warnings = warnings  # sent once, with the first chunk

    async def __call__(self, scope, receive, send) -> None:
        watch = asyncio.ensure_future(until_gone(receive))
        try:
            await send({"type": "http.response.start", "status": 200,
                        "headers": self.raw_headers})
            try:
                await self._events(send, watch)
            except (Gone, OSError):
                raise
            except Exception as err:  # a bug: the caller still gets an error event
                log.exception("a stream failed")
                await _send(send, _sse(ApiError(500, f"internal error ({type(err).__name__})",
                                                "internal").to_dict()))
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        except (Gone, OSError):
            return
        finally:
            watch.cancel()
            if self.job is not None and not self.job.over:
                self.job.cancelled = True

    async def _events(self, send, watch: asyncio.Future) -> None:
        while True:
            body, finished = self._encode(await self._waiting(watch))
            if body:  # a plain end brings nothing before [DONE]
                await _send(send, body)
            if finished:
                return

    async def _waiting(self, watch: asyncio.Future) -> list[tuple]:
        """Every event waiting now, at least one. Under load the engine steps faster than the
        event loop writes, so a stream's pieces queue up: they go out as one write (still one
        SSE event each), and a piece already waiting skips the wait machinery."""
        if watch.done():
            raise Gone
        events = [] if not self.queue.empty() else [await self._next(watch)]
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events

    def _encode(self, events: list[tuple]) -> tuple[bytes, bool]:
        """The SSE bytes of `events`, and whether the stream ends with them."""
        chunks = []
        for event in events:
            if event[0] == "piece":
                _, k, text, records, reason = event
                choice = {"index": k, "text": text, "finish_reason": reason,
                          **_blocks(self.completion, records)}
                first = {"warnings": self.warnings} if self.warnings else {}
                self.warnings = []
                chunks.append(_sse({**self.head, "choices": [choice], **first}))
            elif event[0] == "done":
                if self.usage:
                    chunks.append(_sse({**self.head, "choices": [],
                                        "usage": event[1]["usage"]}))
                return b"".join(chunks), True
            else:
                chunks.append(_sse(event[1].to_dict()))
                return b"".join(chunks), True
        return b"".join(chunks), False

    async def _next(self, watch: asyncio.Future) -> tuple:
        get = asyncio.ensure_future(self.queue.get())
        timeout = max(0.0, self.deadline - time.monotonic()) + 1.0
        done, _ = await asyncio.wait({get, watch}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if get in done:
            return get.result()
        get.cancel()
        if watch in done:
            raise Gone
        return ("error", ApiError(504, "the request took longer than this server's time "
                                       "limit (--timeout)"))


async def _send(send, body: bytes) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": True})
