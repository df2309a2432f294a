"""The one token-colouring view: a text shown as written, each token's background coloured by a
value, in a terminal (rich) or on a self-contained HTML page. `seqcli inspect` (a unit's value
per token) and `seqcli explain` (each token's attribution) both draw with it.

One palette, ColorBrewer's PRGn (readable with the common colour-vision deficiencies, unlike
red against green): a diverging `Scale` runs from purple (below zero) through no colour (zero)
to green (above zero); a sequential one (gates, in [0, 1]) is its green half. A value's
intensity is value / limit, capped at 1 in size. On the page the colour is laid over the page's
background with that intensity as its opacity, so zero is the background in the light and the
dark colour scheme alike (`prefers-color-scheme`), and each token's ink is chosen, per scheme,
for contrast with the colour it ends up on. A terminal's background is unknown, so there the
colour is laid over white and the ink chosen the same way. Widths are terminal cells, not
characters: a Chinese character takes two.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from rich.cells import cell_len
from rich.color import Color
from rich.style import Style
from rich.text import Text

from seqcli.data.scripts import language_hint

RGB = tuple[int, int, int]
NEGATIVE, POSITIVE = (118, 42, 131), (27, 120, 55)  # PRGn's ends: purple, green
LIGHT, DARK = (255, 255, 255), (24, 24, 27)  # the page's background in each colour scheme


@dataclass(frozen=True)
class Scale:
    """How a value becomes a colour (see the module docstring); `below` and `above` say what
    the two ends mean, for the legend."""

    limit: float = 1.0  # the magnitude that gets full colour
    sequential: bool = False  # values in [0, limit]: the positive colour alone
    below: str = "-1"
    above: str = "+1"

    def intensity(self, value: float) -> float:
        """value / limit, in [-1, 1] ([0, 1] when sequential); 0 for a non-finite value."""
        if not (math.isfinite(value) and self.limit > 0):
            return 0.0
        return min(1.0, max(0.0 if self.sequential else -1.0, value / self.limit))

    def colour(self, value: float) -> tuple[RGB, float]:
        """The colour and its opacity."""
        v = self.intensity(value)
        return (POSITIVE if v >= 0 else NEGATIVE), abs(v)

    def rgb(self, value: float, over: RGB = LIGHT) -> RGB:
        """The colour as seen over the background `over`."""
        return blend(*self.colour(value), over)

    def legend(self) -> str:
        if self.sequential:
            return f"no colour {self.below} ... green {self.above}"
        return f"purple {self.below} ... no colour 0 ... green {self.above}"


def blend(colour: RGB, opacity: float, over: RGB) -> RGB:
    return tuple(round(o + opacity * (c - o)) for c, o in zip(colour, over))  # type: ignore


def ink(background: RGB) -> str:
    """"black" or "white", whichever contrasts more with `background` (WCAG 2 luminance)."""
    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = map(linear, background)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "white"


def pieces(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, int | None]]:
    """`text` cut into (piece, token index), the text between tokens as (piece, None), so it
    reads exactly as written. Tokens that share characters (byte-level BPE splits a character
    into several) show the shared part once, with the first of them."""
    out: list[tuple[str, int | None]] = []
    end = 0
    for k, (start, stop) in enumerate(spans):
        if start > end:
            out.append((text[end:start], None))
        begin = max(start, end)
        if stop > begin:
            out.append((text[begin:stop], k))
        end = max(end, stop)
    if end < len(text):
        out.append((text[end:], None))
    return out


def terminal_text(text: str, spans: list[tuple[int, int]], values: list[float],
                  scale: Scale) -> Text:
    """The text for a rich console, each token on its colour."""
    line = Text()
    for piece, k in pieces(text, spans):
        if k is None:
            line.append(piece)
            continue
        background = scale.rgb(values[k])
        line.append(piece, style=Style(color=ink(background),
                                       bgcolor=Color.from_rgb(*background)))
    return line


def aligned(rows: list[tuple[str, str]]) -> str:
    """Two columns, the second aligned in terminal cells (wide characters count two)."""
    width = max((cell_len(left) for left, _ in rows), default=0)
    return "\n".join(f"{left}{' ' * (width - cell_len(left) + 2)}{right}"
                     for left, right in rows)


def html_text(text: str, spans: list[tuple[int, int]], values: list[float], scale: Scale,
              titles: list[str], mono: bool = False) -> str:
    """One block of the page: the text, each token on its colour, `titles[k]` on hover."""
    out = []
    for piece, k in pieces(text, spans):
        if k is None:
            out.append(html.escape(piece))
            continue
        colour, opacity = scale.colour(values[k])
        light, dark = ink(blend(colour, opacity, LIGHT)), ink(blend(colour, opacity, DARK))
        out.append(f'<span class="l{light[0]} d{dark[0]}" style="background:rgba'
                   f'({colour[0]},{colour[1]},{colour[2]},{opacity:.3f})" '
                   f'title="{html.escape(titles[k])}">{html.escape(piece)}</span>')
    kind = "text mono" if mono else "text"
    return f'<div class="{kind}" lang="{language_hint(text)}">{"".join(out)}</div>'


def palette(steps: int = 100) -> dict:
    """The scale as data, for a page that colours tokens in the browser (`seqcli serve`'s live
    page): the two colours, the two backgrounds, and the ink `html_text` picks ("b" black, "w"
    white) for each opacity k / steps of each colour over each background, so that page draws
    exactly what `seqcli inspect` and `seqcli explain` draw."""
    def inks(colour: RGB, over: RGB) -> str:
        return "".join(ink(blend(colour, k / steps, over))[0] for k in range(steps + 1))
    return {"negative": NEGATIVE, "positive": POSITIVE, "light": LIGHT, "dark": DARK,
            "steps": steps,
            "ink": {scheme: {"negative": inks(NEGATIVE, over), "positive": inks(POSITIVE, over)}
                    for scheme, over in (("light", LIGHT), ("dark", DARK))}}


def _rgb(colour: RGB) -> str:
    return f"rgb({colour[0]},{colour[1]},{colour[2]})"


# A token's ink (`html_text`'s classes l<ink on light> d<ink on dark>), and the two backgrounds
# the ink was chosen against: every page that shows coloured tokens includes this.
SCHEME_STYLE = f""":root{{color-scheme:light dark}}
body{{background:{_rgb(LIGHT)};color:#000}} .lb{{color:#000}} .lw{{color:#fff}}
@media (prefers-color-scheme:dark){{body{{background:{_rgb(DARK)};color:#fff}}
.db{{color:#000}} .dw{{color:#fff}}}}"""

STYLE = SCHEME_STYLE + """
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}
.text{font-size:17px;line-height:1.9;white-space:pre-wrap;overflow-wrap:anywhere;margin:1em 0}
.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:15px}
.text span{padding:2px 0;border-radius:2px} .note{opacity:.75}"""


def html_page(title: str, body: str) -> str:
    """A whole page, no external assets; `body` is HTML (its texts from `html_text`)."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
{body}
</body></html>
"""
