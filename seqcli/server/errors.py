"""Errors as a caller of the HTTP API sees them: `{"error": {"message", "type"}}` and a status.

The library's checks raise `SeqcliError`s whose one-line messages name the CLI's options
(``--length must be ...``); over HTTP the same message names the request's field
(``max_tokens must be ...``), so a caller reads the line `seqcli generate` would print, in the
words of the request it sent.
"""

from __future__ import annotations

import re

from seqcli.errors import SeqcliError, UsageError

# The CLI option each request field stands for (the page and clients see the field names).
FIELD_OF_FLAG = {"--length": "max_tokens", "--num-samples": "n", "--temperature": "temperature",
                 "--top-k": "top_k", "--top-p": "top_p", "--seed": "seed", "--stop": "stop",
                 "--keep-stop": "keep_stop", "--beam": "beam", "--greedy": "temperature 0",
                 "--layer": "layer", "--unit": "units", "--signal": "signal", "--top": "top",
                 "--label": "label", "--steps": "steps"}
_FLAG = re.compile(r"--[a-z][a-z-]*")

STATUS_TYPES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type",
                422: "invalid_field", 429: "queue_full", 500: "internal", 503: "unavailable",
                504: "timeout"}


class ApiError(Exception):
    """A failure with its HTTP status; `kind` defaults to the status's usual type."""

    def __init__(self, status: int, message: str, kind: str | None = None):
        super().__init__(message)
        self.status, self.message = status, message
        self.kind = kind or STATUS_TYPES.get(status, "error")

    def to_dict(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind}}


def field_message(message: str, prefix: str = "") -> str:
    """A library message with the CLI's option names turned into request field names
    (`prefix`: the object holding them, as ``trace.``)."""
    return _FLAG.sub(lambda m: prefix + FIELD_OF_FLAG[m.group(0)]
                     if m.group(0) in FIELD_OF_FLAG else m.group(0), message)


def from_seqcli(err: SeqcliError) -> ApiError:
    """A library error for the caller: a bad value (422) or a failure to serve it (500)."""
    message = field_message(str(err).replace("\n", " "))
    if isinstance(err, UsageError):
        return ApiError(422, message)
    return ApiError(500, message, "internal")


def unavailable(why: str) -> ApiError:
    return ApiError(503, why)


STOPPING = "the server is shutting down"
