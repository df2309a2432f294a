"""What `seqcli inspect` shows, drawn with the one token-colouring view (seqcli/token_view.py):
the terminal lines, the self-contained HTML page, and the scale each signal is read on.

Gates live in [0, 1] and get the sequential scale; hidden states (tanh, in [-1, 1]) and cell
states (unbounded: scaled by the unit's largest magnitude in the text) the diverging one.
"""

from __future__ import annotations

import html

from rich.text import Text

from seqcli.choices import DIRECTIONS, GATES
from seqcli.lm.inspect import Inspection
from seqcli.token_view import Scale, aligned, html_text, terminal_text
from seqcli.token_view import html_page as whole_page

BACKWARD_NOTE = ("the model reads right to left: a token's value is its state after reading "
                 "from the end of the text back to that token")


def scale_of(signal: str, values: list[float]) -> Scale:
    """The scale `values` of `signal` are coloured on (see the module docstring)."""
    if signal in GATES:
        return Scale(1.0, sequential=True, below="0 (closed)", above="1 (open)")
    if signal == "hidden":
        return Scale(1.0)
    return Scale(max(1e-6, max((abs(v) for v in values), default=0.0)), below="-max",
                 above="+max of the unit")


def top_lines(inspection: Inspection) -> list[str]:
    """'in_quotes: unit 3 (r +0.91), ...', one line per property that varies in the text."""
    return [f"{name}: " + ", ".join(f"unit {u} (r {r:+.2f})" for u, r in pairs)
            for name, pairs in inspection.top.items()]


def terminal_view(inspection: Inspection, plain: bool) -> list[str | Text]:
    """A heading and the text per unit, coloured; `plain` (NO_COLOR): each token and its value
    in two columns aligned in terminal cells, so wide characters keep the values in line."""
    shown: list[str | Text] = []
    if inspection.direction != DIRECTIONS[0]:
        shown.append(f"({BACKWARD_NOTE})")
    for unit, values in inspection.units.items():
        shown.append(f"\n── layer {inspection.layer}, {inspection.signal}, unit {unit} ──")
        if plain:
            shown.append(aligned([(repr(token), f"{value:+.4f}")
                                  for token, value in zip(inspection.tokens, values)]))
        else:
            shown.append(terminal_text(inspection.text, inspection.spans, values,
                                       scale_of(inspection.signal, values)))
    if not plain and inspection.units:
        first = next(iter(inspection.units.values()))
        shown.append("\n" + scale_of(inspection.signal, first).legend())
    return shown


def html_page(inspection: Inspection, title: str) -> str:
    """One page, no external assets: a block per unit, each token's value on hover."""
    blocks = []
    for unit, values in inspection.units.items():
        text = html_text(inspection.text, inspection.spans, values,
                         scale_of(inspection.signal, values),
                         [f"{v:+.4f}" for v in values], mono=True)
        blocks.append(f"<h2>unit {unit}</h2>\n{text}")
    top = "".join(f"<li>{html.escape(line)}</li>" for line in top_lines(inspection))
    first = next(iter(inspection.units.values()), [])
    backward = f"<p>{BACKWARD_NOTE}.</p>" if inspection.direction != DIRECTIONS[0] else ""
    intro = (f"<p>layer {inspection.layer}, signal <b>{html.escape(inspection.signal)}</b> "
             f"({html.escape(inspection.cell)}). Colours: "
             f"{html.escape(scale_of(inspection.signal, first).legend())}. Hover a token for "
             f"its value.</p>{backward}\n<p>Units that follow properties of this text most "
             f"closely:</p><ul>{top or '<li>none: no property varies enough here</li>'}</ul>")
    return whole_page(title, intro + "\n" + "\n".join(blocks))
