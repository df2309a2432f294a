"""Stop strings: a sample ends where its new text first contains one of them.

Stop strings are looked for in the decoded text, not in token ids, so a stop that straddles
two tokens (a character model's "\\n\\n"), lies inside one (a word model's "ll" inside
"traveller") or spans several BPE pieces is caught alike. Each step searches only a window:
the last `longest stop - 1` characters already seen plus the text the new token added, so the
cost per token does not grow with the length of the sample.

"First" means the occurrence that ends first, as if the text arrived one character at a
time (the result does not depend on how the text was cut into tokens); of two that end at
the same character, the longer. The text is cut where that occurrence begins (or after it,
with keep_stop); whatever followed it, even inside the same token, is dropped.
"""

from __future__ import annotations


def first_stop(text: str, stops: tuple[str, ...]) -> tuple[int, str] | None:
    """(start, stop) of the stop occurrence in `text` that ends first, or None."""
    best: tuple[int, int, str] | None = None  # (end, -length, stop)
    for stop in stops:
        at = text.find(stop)
        if at >= 0:
            key = (at + len(stop), -len(stop), stop)
            best = key if best is None or key < best else best
    return None if best is None else (best[0] + best[1], best[2])


def cut_at_stop(text: str, stops: tuple[str, ...], keep_stop: bool) -> tuple[str, str | None]:
    """`text` up to its first stop string (and including it with keep_stop), and that stop."""
    found = first_stop(text, stops) if stops else None
    if found is None:
        return text, None
    start, stop = found
    return text[:start + len(stop) if keep_stop else start], stop


class StopWatch:
    """Fed a row's new text piece by piece; says when a stop string has appeared."""

    def __init__(self, stops: tuple[str, ...]):
        self.stops = stops
        self.keep = max(map(len, stops)) - 1  # characters a stop can still start in
        self.tail = ""

    def feed(self, piece: str) -> str | None:
        """The stop string completed by `piece` (searched in tail + piece only), if any."""
        if not piece:
            return None
        window = self.tail + piece
        found = first_stop(window, self.stops)
        self.tail = window[-self.keep:] if self.keep else ""
        return None if found is None else found[1]

    def copy(self) -> StopWatch:
        twin = StopWatch.__new__(StopWatch)
        twin.stops, twin.keep, twin.tail = self.stops, self.keep, self.tail
        return twin
