"""Request bodies: one JSON object, each field checked by name and type before anything runs.

A body that is not UTF-8 JSON holding an object is a 400; an unknown field, a value of the
wrong type or out of range is a 422 naming the field, in one line. Ranges that the library
already checks (sampling options, inspect's layer, explain's steps) are left to the library,
so the rules live in one place; see errors.py for how its messages name the fields.
"""

from __future__ import annotations

import json
import math
from typing import Any

from seqcli.server.errors import ApiError

# A field's kind -> (test, how a message names it)
KINDS = {
    "integer": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
               and math.isfinite(v), "a finite number"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "boolean": (lambda v: isinstance(v, bool), "true or false"),
    "strings": (lambda v: isinstance(v, str) or (isinstance(v, list)
                                                  and all(isinstance(s, str) for s in v)),
                "a string or a list of strings"),
    "integers": (lambda v: isinstance(v, list) and all(KINDS["integer"][0](u) for u in v),
                 "a list of integers"),
    "object": (lambda v: isinstance(v, dict), "an object"),
}
MISSING = object()  # the default of a field that must be given


def parse_body(raw: bytes) -> dict[str, Any]:
    """The body's JSON object, or a 400 saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ApiError(400, f"the body is not UTF-8 (byte {err.start} is not valid)") from None
    if not text.strip():
        raise ApiError(400, "the body is empty; send a JSON object")
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise ApiError(400, f"the body is not valid JSON ({err.msg} at line {err.lineno}, "
                            f"column {err.colno})") from None
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the body must be a JSON object; got {type(body).__name__}")
    return body


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def read_fields(body: dict[str, Any], spec: dict[str, tuple[str, Any]],
                where: str = "the request") -> dict[str, Any]:
    """Every field of `spec` (name -> (kind, default)), from `body` or its default. A default
    of None also allows null; MISSING makes the field required."""
    unknown = [name for name in body if name not in spec]
    if unknown:
        raise ApiError(422, f"unknown field {unknown[0]!r} in {where} (it takes: "
                            f"{', '.join(spec)})")
    values = {}
    for name, (kind, default) in spec.items():
        value = body.get(name, default)
        if value is MISSING:
            raise ApiError(422, f"{name} is required in {where}")
        if value is not None or default is not None:
            test, described = KINDS[kind]
            if not test(value):
                raise ApiError(422, f"{name} must be {described}; got {shown(value)}")
        values[name] = value
    return values


def shown(value: Any, width: int = 40) -> str:
    """A value as a message quotes it: its JSON, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[:width - 1] + "…"


def at_most(name: str, value: int, limit: int, flag: str, smallest: int = 1) -> None:
    """A 422 when an integer field is outside [smallest, limit] (limit: a server flag)."""
    if not smallest <= value <= limit:
        raise ApiError(422, f"{name} must be from {smallest} to {limit} (this server's "
                            f"{flag}); got {value}")


def texts_of(value: str | list[str], limit: int, name: str = "input") -> list[str]:
    """A text or a non-empty list of at most `limit` texts."""
    texts = [value] if isinstance(value, str) else value
    if not texts:
        raise ApiError(422, f"{name} must hold at least one text")
    if len(texts) > limit:
        raise ApiError(422, f"{name} holds {len(texts)} texts; this server takes at most "
                            f"{limit} a request (--max-texts)")
    return texts
