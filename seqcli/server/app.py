"""The ASGI app: `create_app(models, ...)` -> a Starlette application.

Run it with `seqcli serve` / `seqcli.serve(...)`, or mount it in your own application::

    from seqcli.server.app import create_app
    api = create_app(["runs/lm-A"], host="127.0.0.1")
    outer = Starlette(routes=[Mount("/seqcli", app=api)], lifespan=api.router.lifespan_context)

(Without that lifespan the models start loading at the first request, and are not stopped.)

Starlette and uvicorn rather than FastAPI: every body check here must give the CLI's
one-line messages (fields.py, requests.py), so FastAPI's pydantic validation and its generated
422 documents would be replaced, not used; Starlette is the part of it we need.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from seqcli.errors import UsageError
from seqcli.server import page, routes_completions, routes_info, routes_tasks
from seqcli.server.limits import ServeLimits, check_limits
from seqcli.server.security import Guard, KeyCheck, is_loopback
from seqcli.server.state import ServerState

ROUTES = [
    Route("/", page.page, methods=["GET"]),
    Route("/health", routes_info.health, methods=["GET"]),
    Route("/info", routes_info.info, methods=["GET"]),
    Route("/metrics", routes_info.metrics, methods=["GET"]),
    Route("/v1/models", routes_info.models, methods=["GET"]),
    Route("/v1/completions", routes_completions.completions, methods=["POST"]),
    Route("/v1/classify", routes_tasks.classify, methods=["POST"]),
    Route("/v1/score", routes_tasks.score, methods=["POST"]),
    Route("/v1/explain", routes_tasks.explain, methods=["POST"]),
    Route("/v1/inspect", routes_tasks.inspect, methods=["POST"]),
]


def create_app(models: Sequence[str | Path], *, host: str = "127.0.0.1",
               api_key: str | None = None, cors_origins: Sequence[str] = (),
               limits: ServeLimits = ServeLimits(), device: str = "auto",
               precision: str = "fp32") -> Starlette:
    """An app serving these run directories (chosen here, once: no request names a path).

    `host` is where it is bound: on loopback, only requests addressed to a loopback name are
    answered. `api_key` protects every route but /health and the page (`GET /`,
    seqcli/server/page.py); `cors_origins` (none by default) may call it from a browser page
    of theirs.
    """
    if not models:
        raise UsageError("serve needs at least one model: --model DIR (a run directory)")
    if api_key is not None and not api_key.strip():
        raise UsageError("--api-key must not be empty")
    check_limits(limits)
    state = ServerState([Path(m) for m in models], device, precision, limits,
                        loopback_only=is_loopback(host))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        state.ensure_started()
        yield
        state.stop()

    middleware = [Middleware(Guard, loopback_only=state.loopback_only,
                             max_body_bytes=limits.max_body_bytes, metrics=state.metrics,
                             routes=[r.path for r in ROUTES]),
                  Middleware(_Starter, state=state)]
    if cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins),
                                     allow_methods=["GET", "POST"],
                                     allow_headers=["authorization", "content-type"]))
    if api_key is not None:
        middleware.append(Middleware(KeyCheck, api_key=api_key))
    app = Starlette(routes=ROUTES, middleware=middleware, lifespan=lifespan,
                    exception_handlers={HTTPException: routes_info.not_found,
                                        Exception: routes_info.internal_error})
    app.state.seqcli = state
    return app


class _Starter:
    """Starts loading at the first request when no lifespan did (a mounted app)."""

    def __init__(self, app, *, state: ServerState):
        self.app, self.state = app, state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and self.state.status == "idle":
            self.state.ensure_started()
        await self.app(scope, receive, send)
