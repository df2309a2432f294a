"""POST /v1/classify, /v1/score, /v1/explain, /v1/inspect: a text or a list of texts in
``input``, answered by the same library functions as `seqcli classify`, `Run.score`,
`seqcli explain` and `seqcli inspect` (whose ``--format json`` documents explain and inspect
return, with the served model's id where the CLI names the run directory)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from seqcli.server.batcher import Task
from seqcli.server.errors import ApiError
from seqcli.server.fields import MISSING, read_fields, texts_of
from seqcli.server.http import answer, api_route, json_response, read_json
from seqcli.server.models import ServedModel
from seqcli.server.requests import warnings_for
from seqcli.server.state import ServerState

TEXTS = {"model": ("string", None), "input": ("strings", MISSING)}
EXPLAIN = {**TEXTS, "label": ("string", None), "steps": ("integer", 50)}
INSPECT = {"model": ("string", None), "input": ("string", MISSING), "layer": ("integer", None),
           "signal": ("string", "hidden"), "units": ("integers", None), "top": ("integer", 3)}


@api_route
async def classify(request: Request) -> Response:
    served, fields, texts = await _request(request, "classify", TEXTS)
    predictions = await _run(request, served, "classify", texts, len(texts))
    data = [{"index": i, "label": p.label, "probability": p.probability,
             "probabilities": p.probabilities} for i, p in enumerate(predictions)]
    return _reply(served, texts, {"object": "classification", "model": served.id,
                                  "data": data})


@api_route
async def score(request: Request) -> Response:
    served, fields, texts = await _request(request, "lm", TEXTS)
    scores = await _run(request, served, "score", texts, len(texts))
    data = [{"index": i, **s.to_dict()} for i, s in enumerate(scores)]
    return _reply(served, texts, {"object": "score", "model": served.id, "data": data})


@api_route
async def explain(request: Request) -> Response:
    served, fields, texts = await _request(request, "classify", EXPLAIN)
    deadline = time.monotonic() + request.app.state.seqcli.limits.timeout
    payload = {"texts": texts, "label": fields["label"], "steps": fields["steps"],
               "deadline": deadline}
    results = await _run(request, served, "explain", payload, len(texts), deadline)
    return _reply(served, texts, {"model": served.id,
                                  "explanations": [r.to_dict() for r in results]})


@api_route
async def inspect(request: Request) -> Response:
    served, fields, texts = await _request(request, "lm", INSPECT)
    payload = {"text": texts[0], **{k: fields[k] for k in ("layer", "signal", "units", "top")}}
    result = await _run(request, served, "inspect", payload, 1)
    return _reply(served, texts, {"model": served.id, **result.to_dict()})


async def _request(request: Request, task: str,
                   spec: dict) -> tuple[ServedModel, dict[str, Any], list[str]]:
    """The model, the fields and the texts of a request, checked."""
    state: ServerState = request.app.state.seqcli
    fields = read_fields(await read_json(request, state.limits.max_body_bytes), spec)
    served = state.model(task, fields["model"])
    texts = texts_of(fields["input"], state.limits.max_texts)
    limit, tokenizer = state.limits.max_prompt_tokens, served.run.tokenizer
    for i, text in enumerate(texts):
        if not text.strip():
            raise ApiError(422, f"input text {i} is empty; each text needs some words")
        count = len(tokenizer.encode(text))
        if count > limit:
            raise ApiError(422, f"input text {i} has {count} tokens; this server takes at most "
                                f"{limit} a text (--max-prompt-tokens)")
    return served, fields, texts


async def _run(request: Request, served: ServedModel, kind: str, payload: Any, size: int,
               deadline: float | None = None) -> Any:
    state: ServerState = request.app.state.seqcli
    deadline = deadline or time.monotonic() + state.limits.timeout
    future = served.worker.submit(Task(kind, payload, size, deadline))
    return await answer(request, asyncio.wrap_future(future), deadline, future.cancel)


def _reply(served: ServedModel, texts: list[str], document: dict) -> Response:
    warnings = warnings_for(served, texts, "the input")
    return json_response({**document, **({"warnings": warnings} if warnings else {})})
