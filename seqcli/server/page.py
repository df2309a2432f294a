"""GET /: the live page (seqcli/server/page/: plain HTML, CSS and JavaScript, no build step).

One self-contained document: no CDN, no external asset, so it works offline and leaks nothing
to a third party. What it must share with the rest of seqcli is emitted here, from Python,
into a JSON block the script reads: the token-colouring palette and ink of
seqcli/token_view.py (the colours `seqcli inspect` and `seqcli explain` draw with), the
scales and legends each signal and an explanation are read on, the script ranges of
`language_hint`, and the path the app is mounted at (its API calls are relative to it).

The page is public even with --api-key: it holds no secret (the browser could not send a
key on a plain navigation anyway); the page asks for the key and its API calls carry it.
Its Content-Security-Policy allows only its own inline script and style (by hash) and calls to
its own origin: model or user text that slipped into the document could not run.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from seqcli.choices import GATES
from seqcli.classify.explain import Explanation
from seqcli.classify.explain_views import scale_of as explain_scale
from seqcli.data.scripts import HAN, HANGUL, KANA
from seqcli.lm.inspect_views import scale_of as signal_scale
from seqcli.token_view import SCHEME_STYLE, palette

# What the unit suggestions are computed on before any text is generated: the properties
# `seqcli inspect` ranks units by (quotes, brackets, line position, word starts) all vary here.
SAMPLE = ('He said "wait (just a moment) for me" and left.\n'
          'The [first] line ends here; the second (with {nested} brackets) is "longer".\n'
          'Then: "yes", "no" (or maybe) and the end.\n')


def _scales() -> dict:
    """How values become colours: a fixed limit, or None for "the largest magnitude shown"
    (a cell state's unit, an explanation's tokens), as inspect_views / explain_views say."""
    def scale(s, fixed: bool) -> dict:
        return {"limit": s.limit if fixed else None, "sequential": s.sequential,
                "legend": s.legend()}
    return {"gate": scale(signal_scale(GATES[0], []), True),
            "hidden": scale(signal_scale("hidden", []), True),
            "cell": scale(signal_scale("cell", [1.0]), False),
            "explain": scale(explain_scale(Explanation("", "", 0.0, "", [], 0.0)), False)}


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@functools.cache
def _parts() -> tuple[str, str, str]:
    """(template with the style and script in place, the CONFIG placeholder left; the
    static config JSON; the Content-Security-Policy)."""
    folder = resources.files("seqcli.server") / "page"
    style = SCHEME_STYLE + "\n" + (folder / "page.css").read_text(encoding="utf-8")
    script = (folder / "page.js").read_text(encoding="utf-8")
    template = (folder / "page.html").read_text(encoding="utf-8")
    template = template.replace("{{STYLE}}", style).replace("{{SCRIPT}}", script)
    config = {"palette": palette(), "scales": _scales(), "gates": list(GATES),
              "scripts": {"kana": KANA, "hangul": HANGUL, "han": HAN}, "sample": SAMPLE}
    policy = (f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; "
              "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'")
    return template, json.dumps(config, ensure_ascii=False), policy


def page_html(base: str) -> str:
    """The page for an app whose routes start at `base` ("/", or "/mount/")."""
    template, config, _ = _parts()
    full = config[:-1] + ', "base": ' + json.dumps(base) + "}"
    # a JSON block must not hold "</script>" (or "<!--"): "<" written as \u003c is the same JSON
    return template.replace("{{CONFIG}}", full.replace("<", "\\u003c"))


async def page(request: Request) -> Response:
    base = request.scope.get("root_path", "").rstrip("/") + "/"
    return Response(page_html(base), media_type="text/html; charset=utf-8", headers={
        "content-security-policy": _parts()[2], "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer", "cache-control": "no-cache"})
