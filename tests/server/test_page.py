"""GET /, the live page, over HTTP: self-contained, its colours emitted from the one
token-colouring view, its API calls relative to where it is mounted (the key: test_security).
What it does in a browser: test_page_browser.py."""

import base64
import hashlib
import json
import re
import urllib.request

from starlette.applications import Starlette
from starlette.routing import Mount

from seqcli.lm.inspect_views import scale_of
from seqcli.token_view import palette
from tests.server.live import LiveServer, call


def _config(page: str) -> dict:
    block = re.search(r'<script type="application/json" id="config">(.*?)</script>', page, re.S)
    return json.loads(block.group(1))


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_the_page_is_one_self_contained_document_with_the_shared_palette(server):
    status, page = call(server.base, "GET", "/")
    assert status == 200 and page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page and "prefers-color-scheme:dark" in page
    assert not re.search(r"https?://", page)  # no CDN, nothing fetched from elsewhere
    assert re.findall(r'(?:src|href)="([^"]*)"', page) == ["data:,"]
    config = _config(page)
    assert config["palette"] == json.loads(json.dumps(palette()))
    assert config["scales"]["gate"]["legend"] == scale_of("forget", []).legend()
    assert config["scales"]["cell"]["limit"] is None and config["base"] == "/"


def test_the_page_allows_only_its_own_script_and_style(server):
    with urllib.request.urlopen(server.base + "/") as response:
        headers, page = response.headers, response.read().decode("utf-8")
    assert headers["content-type"] == "text/html; charset=utf-8"
    policy = headers["content-security-policy"]
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert f"script-src '{_sha256(script)}'" in policy
    assert f"style-src '{_sha256(style)}'" in policy
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert headers["x-content-type-options"] == "nosniff"


def test_a_mounted_page_calls_the_api_where_it_is_mounted(served_runs):
    def outer(api):
        return Starlette(routes=[Mount("/seqcli", app=api)],
                         lifespan=api.router.lifespan_context)
    live = LiveServer([served_runs["clf"]], outer=outer, prefix="/seqcli")
    try:
        status, page = call(live.base, "GET", "/")
        assert status == 200 and _config(page)["base"] == "/seqcli/"
    finally:
        live.close()
