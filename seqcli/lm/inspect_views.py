"""Colours and the self-contained HTML page of `seqcli inspect`.

Gates live in [0, 1] and get a sequential scale (white to green); hidden states (tanh, in
[-1, 1]) and cell states (unbounded: scaled by the unit's largest magnitude in the text) get a
diverging one (blue below zero, white at zero, red above).
"""

from __future__ import annotations

import html

from seqcli.choices import GATES
from seqcli.lm.inspect import Inspection


def scale_of(signal: str, values: list[float]) -> float:
    """The magnitude that maps to full colour."""
    if signal in GATES or signal == "hidden":
        return 1.0
    return max(1e-6, max(abs(v) for v in values))


def colour(value: float, signal: str, scale: float = 1.0) -> tuple[int, int, int]:
    """RGB background for one value (see the module docstring)."""
    if signal in GATES:
        v = min(1.0, max(0.0, value))
        return round(255 - 190 * v), round(255 - 90 * v), round(255 - 190 * v)
    v = min(1.0, max(-1.0, value / scale))
    fade = round(255 * (1 - abs(v)))
    return (255, fade, fade) if v >= 0 else (fade, fade, 255)


def ink(background: tuple[int, int, int]) -> str:
    """Black text on light backgrounds, white on dark ones (perceived luminance)."""
    r, g, b = background
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "black"


def legend(signal: str) -> str:
    if signal in GATES:
        return "white 0 (closed) ... green 1 (open)"
    limit = "-1 ... +1" if signal == "hidden" else "-max ... +max of the unit"
    return f"blue {limit.split(' ... ')[0]} ... white 0 ... red {limit.split(' ... ')[1]}"


def _span(token: str, background: tuple[int, int, int], value: float) -> str:
    return (f'<span style="background:rgb{background};color:{ink(background)}" '
            f'title="{value:.4f}">{html.escape(token)}</span>')


def html_page(inspection: Inspection, title: str) -> str:
    """One page, no external assets: a block per unit, the value of each token on hover."""
    blocks = []
    for unit, values in inspection.units.items():
        scale = scale_of(inspection.signal, values)
        spans = "".join(_span(token, colour(v, inspection.signal, scale), v)
                        for token, v in zip(inspection.tokens, values))
        blocks.append(f"<h2>unit {unit}</h2>\n<pre>{spans}</pre>")
    top = "".join(f"<li>{html.escape(name)}: " + ", ".join(f"unit {u} (r = {r:+.2f})"
                                                            for u, r in pairs) + "</li>"
                  for name, pairs in inspection.top.items())
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}} pre{{font-size:15px;line-height:1.6;
white-space:pre-wrap}} span{{padding:1px 0}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>layer {inspection.layer}, signal <b>{inspection.signal}</b> ({inspection.cell}).
Colours: {html.escape(legend(inspection.signal))}. Hover a token for its value.</p>
<p>Units that follow properties of this text most closely:</p><ul>{top}</ul>
{chr(10).join(blocks)}
</body></html>
"""
