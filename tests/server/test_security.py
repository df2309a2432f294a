"""Safe by default: the API key, the Host check against DNS rebinding, CORS only when asked,
and the one-line warning for a server exposed without a key."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from seqcli.server.launch import exposure_warning
from seqcli.server.security import host_name, is_loopback
from tests.server.live import LiveServer, call

KEY = "s3cret-key"


@pytest.fixture(scope="module")
def keyed(served_runs):
    live = LiveServer([served_runs["lm"]], api_key=KEY, cors_origins=["http://app.example"])
    yield live
    live.close()


def test_the_key_guards_every_route_but_health_and_the_page(keyed):
    for method, path, body in [("GET", "/info", None), ("GET", "/metrics", None),
                               ("GET", "/v1/models", None),
                               ("POST", "/v1/completions", {"prompt": "a", "max_tokens": 3}),
                               ("POST", "/v1/score", {"input": "the"})]:
        status, doc = call(keyed.base, method, path, body)
        assert status == 401 and "Authorization: Bearer KEY" in doc["error"]["message"]
        status, doc = call(keyed.base, method, path, body,
                           headers={"Authorization": "Bearer wrong"})
        assert status == 401 and doc["error"]["message"] == "the API key is not valid"
        status, _ = call(keyed.base, method, path, body,
                         headers={"Authorization": f"Bearer {KEY}"})
        assert status == 200, path
    assert call(keyed.base, "GET", "/health")[0] == 200
    assert call(keyed.base, "GET", "/")[0] == 200  # it holds no secret; its calls need the key


def test_a_mounted_app_checks_its_own_paths(served_runs):
    """Mounted at /seqcli, /seqcli/health is /health: open under a key (the check read the
    full path, so a mounted /health needed the key, and a load balancer got 401)."""
    def outer(api):
        return Starlette(routes=[Mount("/seqcli", app=api)],
                         lifespan=api.router.lifespan_context)
    live = LiveServer([served_runs["lm"]], api_key=KEY, outer=outer, prefix="/seqcli")
    try:
        assert call(live.base, "GET", "/health")[0] == 200
        assert call(live.base, "GET", "/")[0] == 200
        assert call(live.base, "GET", "/info")[0] == 401
        assert call(live.base, "GET", "/info", headers={"Authorization": f"Bearer {KEY}"})[0] \
            == 200
    finally:
        live.close()


def test_loopback_server_refuses_other_host_names(server, keyed):
    for host in ("evil.example", "evil.example:80", "10.0.0.5:8000", "localhost.evil.example"):
        status, doc = call(server.base, "GET", "/health", headers={"Host": host})
        assert status == 403 and doc["error"]["type"] == "forbidden_host", host
    for host in ("localhost:1234", "127.0.0.1", "[::1]:8000", "app.localhost"):
        assert call(server.base, "GET", "/health", headers={"Host": host})[0] == 200, host
    assert call(keyed.base, "GET", "/health", headers={"Host": "evil.example"})[0] == 403


def test_cors_headers_only_for_the_origins_given(server, keyed):
    import urllib.request
    asked = {"Origin": "http://app.example", "Authorization": f"Bearer {KEY}"}
    with urllib.request.urlopen(urllib.request.Request(keyed.base + "/info",
                                                       headers=asked)) as response:
        assert response.headers["access-control-allow-origin"] == "http://app.example"
    other = {"Origin": "http://elsewhere.example", "Authorization": f"Bearer {KEY}"}
    with urllib.request.urlopen(urllib.request.Request(keyed.base + "/info",
                                                       headers=other)) as response:
        assert response.headers["access-control-allow-origin"] is None
    with urllib.request.urlopen(urllib.request.Request(
            server.base + "/info", headers={"Origin": "http://app.example"})) as response:
        assert response.headers["access-control-allow-origin"] is None
    preflight = urllib.request.Request(keyed.base + "/v1/completions", method="OPTIONS",
                                       headers={"Origin": "http://app.example",
                                                "Access-Control-Request-Method": "POST"})
    with urllib.request.urlopen(preflight) as response:  # no key needed for a preflight
        assert response.status == 200


def test_loopback_names_and_the_exposure_warning():
    assert is_loopback("localhost") and is_loopback("127.8.9.1") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    assert host_name("[::1]:80") == "::1" and host_name("example.com:80") == "example.com"
    assert exposure_warning("127.0.0.1", None) is None
    assert exposure_warning("0.0.0.0", "key") is None
    warning = exposure_warning("0.0.0.0", None)
    assert "--host 0.0.0.0" in warning and "--api-key" in warning and "\n" not in warning
