"""What `seqcli explain` shows, drawn with the one token-colouring view (seqcli/token_view.py).

A token that pushed toward the explained label is green, one that pushed against it purple,
the intensity its |score| relative to the text's largest, so each text is read on its own
scale. The terminal view and the page use the same colours.
"""

from __future__ import annotations

import html

from rich.text import Text

from seqcli.classify.explain import Explanation
from seqcli.token_view import Scale, aligned, html_text, terminal_text
from seqcli.token_view import html_page as whole_page


def largest_score(result: Explanation) -> float:
    return max((abs(t["score"]) for t in result.tokens), default=0.0)


def scale_of(result: Explanation) -> Scale:
    return Scale(largest_score(result), below="pushed against the label",
                 above="pushed toward it")


def _spans(result: Explanation) -> list[tuple[int, int]]:
    return [(t["start"], t["end"]) for t in result.tokens]


def heading(result: Explanation) -> str:
    return (f"{result.label} {result.probability:.3f}   (scores toward {result.target}; "
            f"gap {result.delta:.3g})")


def terminal_view(result: Explanation, plain: bool) -> list[str | Text]:
    """The heading and the coloured text; `plain` (NO_COLOR): each token and its score in two
    columns aligned in terminal cells."""
    scores = [t["score"] for t in result.tokens]
    if plain:
        return [heading(result), aligned([(repr(t["token"]), f"{t['score']:+.4f}")
                                          for t in result.tokens])]
    return [heading(result), terminal_text(result.text, _spans(result), scores,
                                           scale_of(result))]


def _block(result: Explanation) -> str:
    titles = [f"{t['token']}: {t['score']:+.4f}" for t in result.tokens]
    text = html_text(result.text, _spans(result), [t["score"] for t in result.tokens],
                     scale_of(result), titles)
    return (f"<h2>{html.escape(result.label)} {result.probability:.3f}</h2>\n"
            f"<p class=note>scores toward <b>{html.escape(result.target)}</b>; completeness gap "
            f"{result.delta:.3g}</p>\n{text}")


def html_page(results: list[Explanation], title: str) -> str:
    """One page, no external assets: a block per text, each token's score on hover."""
    intro = ("<p>Green pushed toward the label, purple against it; the stronger the colour, "
             "the larger the token's share (Integrated Gradients, scaled per text). Hover a "
             "token for its score. A large completeness gap means more <code>--steps</code> "
             "are needed.</p>")
    return whole_page(title, intro + "\n" + "\n".join(_block(r) for r in results))
