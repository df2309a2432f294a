"""GET /health, /info, /metrics and /v1/models: what a server is serving and how it is doing."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from seqcli.server.errors import ApiError
from seqcli.server.http import api_route, json_response
from seqcli.server.state import ServerState
from seqcli.version import __version__


def _state(request: Request) -> ServerState:
    return request.app.state.seqcli


@api_route
async def health(request: Request) -> Response:
    """200 once the models are loaded; 503 while loading, after a failed load, and while
    stopping (load balancers and scripts wait on this one)."""
    state = _state(request)
    document = {"status": state.status, "models": [m.id for m in state.models]}
    if state.error:
        document["error"] = state.error
    return json_response(document, 200 if state.status == "ready" else 503)


@api_route
async def info(request: Request) -> Response:
    state = _state(request)
    if state.status != "ready":
        state.model("lm", None)  # the 503 that says why
    return json_response({"seqcli": __version__, "status": state.status,
                          "models": [m.info() for m in state.models],
                          "limits": state.limits.to_dict(),
                          "loopback_only": state.loopback_only})


@api_route
async def models(request: Request) -> Response:
    state = _state(request)
    if state.status != "ready":
        state.model("lm", None)  # the 503 that says why
    created = int(time.time())
    return json_response({"object": "list", "data": [
        {"id": m.id, "object": "model", "created": created, "owned_by": "seqcli",
         "task": m.task} for m in state.models]})


@api_route
async def metrics(request: Request) -> Response:
    state = _state(request)
    return Response(state.metrics.render(), media_type=state.metrics.content_type)


async def not_found(request: Request, exc: Exception) -> Response:
    """404 and 405 as JSON errors, like every other answer."""
    status = getattr(exc, "status_code", 404)
    if status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    elif status == 404:
        message = f"no route {request.url.path} (see GET /info and the README's API section)"
    else:
        message = str(getattr(exc, "detail", "")) or "bad request"
    return json_response(ApiError(status, message).to_dict(), status)


async def internal_error(request: Request, exc: Exception) -> Response:
    """The last resort (a bug outside any route): a JSON 500, never a traceback."""
    return json_response(ApiError(500, f"internal error ({type(exc).__name__}); the server log "
                                       "has the details", "internal").to_dict(), 500)
