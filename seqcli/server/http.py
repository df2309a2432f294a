"""What every route does with HTTP: read a bounded body, answer JSON, turn any failure into
the error document, and notice a caller that went away while its answer was being made."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from seqcli.errors import SeqcliError
from seqcli.server.errors import ApiError, from_seqcli
from seqcli.server.fields import parse_body

log = logging.getLogger("seqcli.server")
GRACE = 1.0  # seconds past a deadline before a route gives up on its thread's answer


class Gone(Exception):
    """The caller disconnected: nothing more is sent."""


def json_response(document: Any, status: int = 200) -> Response:
    body = json.dumps(document, ensure_ascii=False, allow_nan=False, default=str)
    return Response(body, status, media_type="application/json")


def error_response(error: ApiError) -> Response:
    return json_response(error.to_dict(), error.status)


def api_route(handler: Callable[[Request], Awaitable[Response]]):
    """A route whose every failure is a JSON error (never a traceback): ApiErrors as they
    are, the library's SeqcliErrors by their kind, anything else a logged 500."""
    @functools.wraps(handler)
    async def route(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as err:
            return error_response(err)
        except SeqcliError as err:
            return error_response(from_seqcli(err))
        except (Gone, ClientDisconnect):
            return Response(status_code=499)  # nobody reads it; counted in /metrics
        except Exception as err:
            log.exception("%s failed", request.url.path)
            return error_response(ApiError(500, f"internal error ({type(err).__name__}); "
                                                "the server log has the details", "internal"))
    return route


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object, read up to `limit` bytes (413 beyond it)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the body is over {limit} bytes, this server's limit "
                                f"(--max-body-bytes)")
        chunks.append(chunk)
    return parse_body(b"".join(chunks))


async def until_gone(receive) -> None:
    """Returns when the caller disconnects (its body must have been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def answer(request: Request, work: Awaitable[Any], deadline: float,
                 on_gone: Callable[[], None]) -> Any:
    """`work`'s result, unless the caller leaves first (Gone, after `on_gone`) or the
    deadline passes (504)."""
    task, watch = asyncio.ensure_future(work), asyncio.ensure_future(until_gone(request.receive))
    try:
        timeout = max(0.0, deadline - time.monotonic()) + GRACE
        done, _ = await asyncio.wait({task, watch}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        on_gone()
        if watch in done:
            raise Gone
        raise ApiError(504, "the request took longer than this server's time limit "
                            "(--timeout)")
    finally:
        for pending in (task, watch):
            pending.cancel()
