"""The checks every request passes before a route sees it, as two small ASGI middlewares.

`Guard` (outermost): when the server is bound to loopback, a request whose Host header is
not a loopback name or address is refused (403): a web page elsewhere cannot reach a local
server through DNS rebinding (the fix for that CVE in a popular local model server). It also
refuses a declared body over --max-body-bytes (413) before it is read, and counts every
answer by route and status for /metrics.

`KeyCheck` (inside CORS, so a browser can read its refusals): with --api-key, every route
but /health and the page (/, which holds no secret and asks for the key its calls send) needs
``Authorization: Bearer KEY`` (401 otherwise; compared in constant time).

Both read a request's path inside the app: mounted at /seqcli, /seqcli/health is /health.
"""

from __future__ import annotations

import hmac
import ipaddress
import json

from seqcli.server.errors import ApiError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
OPEN_ROUTES = {"/health", "/"}


def is_loopback(host: str) -> bool:
    """A loopback name or address: localhost (and *.localhost), 127.0.0.0/8, ::1."""
    name = host.strip().lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The host of a Host header, without its port ([::1]:8000 -> ::1)."""
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def route_path(scope) -> str:
    """The path inside this app (a mounted app's requests carry the mount in root_path)."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return (path[len(root):] or "/") if root and path.startswith(root) else path


async def send_error(send, error: ApiError, headers: list | None = None) -> None:
    body = json.dumps(error.to_dict()).encode()
    await send({"type": "http.response.start", "status": error.status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Host check, declared body size, and request counting (see the module docstring)."""

    def __init__(self, app, *, loopback_only: bool, max_body_bytes: int, metrics, routes):
        self.app, self.loopback_only, self.max_body = app, loopback_only, max_body_bytes
        self.metrics, self.routes = metrics, set(routes)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = route_path(scope)
        route = path if path in self.routes else "other"
        status = {"code": 500}

        async def counted(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            refusal = self._refusal(dict(scope.get("headers") or []))
            if refusal is not None:
                await send_error(counted, refusal)
            else:
                await self.app(scope, receive, counted)
        finally:
            self.metrics.requests.labels(route, str(status["code"])).inc()

    def _refusal(self, headers: dict[bytes, bytes]) -> ApiError | None:
        host = headers.get(b"host", b"").decode("latin-1")
        if self.loopback_only and not is_loopback(host_name(host)):
            return ApiError(403, f"Host {host!r} is not a loopback name: this server is bound "
                                 "to loopback and answers only requests addressed to it "
                                 "(DNS rebinding guard)", "forbidden_host")
        length = headers.get(b"content-length", b"").decode("latin-1")
        if length.isdigit() and int(length) > self.max_body:
            return ApiError(413, f"the body is {int(length)} bytes; this server takes at most "
                                 f"{self.max_body} (--max-body-bytes)")
        return None


class KeyCheck:
    """Bearer-key check on every route but /health (see the module docstring)."""

    def __init__(self, app, *, api_key: str):
        self.app, self.expected = app, f"Bearer {api_key}".encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and route_path(scope) not in OPEN_ROUTES \
                and scope.get("method") != "OPTIONS":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                error = ApiError(401, "this server needs an API key: send the header "
                                      "'Authorization: Bearer KEY'" if not given else
                                 "the API key is not valid", "unauthorized")
                return await send_error(send, error, [(b"www-authenticate", b"Bearer")])
        await self.app(scope, receive, send)
