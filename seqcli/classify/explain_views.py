"""Colours and the self-contained HTML page of `seqcli explain`.

A token that pushed toward the explained label is green, one that pushed against it red,
the intensity its |score| relative to the text's largest, so each text is read on its own
scale. The terminal view and the page use the same colours.
"""

from __future__ import annotations

import html

from seqcli.classify.explain import Explanation


def attribution_colour(score: float, largest: float) -> tuple[int, int, int]:
    """RGB background: white at 0, full green (toward) or red (against) at `largest`."""
    fade = round(255 * (1 - min(1.0, abs(score) / largest))) if largest > 0 else 255
    return (fade, 255, fade) if score >= 0 else (255, fade, fade)


def largest_score(result: Explanation) -> float:
    return max((abs(t["score"]) for t in result.tokens), default=0.0)


def pieces(result: Explanation) -> list[tuple[str, dict | None]]:
    """The text cut into (piece, token or None): tokens with the gaps between them, so the
    text reads exactly as written."""
    out: list[tuple[str, dict | None]] = []
    end = 0
    for token in result.tokens:
        if token["start"] > end:
            out.append((result.text[end:token["start"]], None))
        out.append((result.text[token["start"]:token["end"]] or token["token"], token))
        end = max(end, token["end"])
    if end < len(result.text):
        out.append((result.text[end:], None))
    return out


def _block(result: Explanation) -> str:
    largest = largest_score(result)
    spans = []
    for piece, token in pieces(result):
        if token is None:
            spans.append(html.escape(piece))
            continue
        rgb = attribution_colour(token["score"], largest)
        spans.append(f'<span style="background:rgb{rgb}" title="{html.escape(token["token"])}:'
                     f' {token["score"]:+.4f}">{html.escape(piece)}</span>')
    return (f"<h2>{html.escape(result.label)} {result.probability:.3f}</h2>\n"
            f"<p class=note>scores toward <b>{html.escape(result.target)}</b>; completeness gap "
            f"{result.delta:.3g}</p>\n<p class=text>{''.join(spans)}</p>")


def html_page(results: list[Explanation], title: str) -> str:
    """One page, no external assets: a block per text, each token's score on hover."""
    blocks = "\n".join(_block(r) for r in results)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}} .text{{font-size:18px;
line-height:1.8;white-space:pre-wrap}} .note{{color:#555}} span{{padding:2px 1px}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p>Green pushed toward the label, red against it; the stronger the colour, the larger the
token's share (Integrated Gradients, scaled per text). Hover a token for its score. A large
completeness gap means more <code>--steps</code> are needed.</p>
{blocks}
</body></html>
"""
