"""A completion's text released to its caller as it grows, with each token's record beside it.

Like the terminal's stream (seqcli/lm/decoding.py's TextStream), the last characters are held
back while a stop string could still begin in them, so a caller never receives text that a
stop cuts off. Here each token also carries a record (its logprobs and trace values), released
with the text it produced: a token goes out once all of its text has, and at the end every
token whose text begins inside the returned text goes out with the rest. So the records a
caller receives are exactly those of the tokens it can see, in either form of the response.
"""

from __future__ import annotations

from typing import Any


class RowStream:
    """Text and token records of one completion (`prefix`: the echoed prompt, or "")."""

    def __init__(self, prefix: str, holdback: int):
        self.text, self.shown, self.holdback = prefix, 0, holdback
        self.starts: list[int] = []  # where each token's text begins in `text`
        self.ends: list[int] = []
        self.records: list[dict[str, Any] | None] = []
        self.sent = 0  # records released

    def add(self, piece: str, record: dict[str, Any] | None) -> None:
        """Add a token's text and record, releasing nothing (the last token: see finish)."""
        self.starts.append(len(self.text))
        self.text += piece
        self.ends.append(len(self.text))
        self.records.append(record)

    def push(self, piece: str, record: dict[str, Any] | None) -> tuple[str, list]:
        """Add a token's text and record; what may be released now."""
        self.add(piece, record)
        return self._release(len(self.text) - self.holdback, lambda k: self.ends[k])

    def finish(self, final: str) -> tuple[str, list]:
        """The rest, given the final text (prefix + new text, cut at its stop string)."""
        if not final.startswith(self.text[:self.shown]):
            final = self.text[:self.shown]  # the decode changed what was shown: stop there
        self.text = final
        return self._release(len(final), lambda k: self.starts[k] + 1)

    def _release(self, upto: int, end_of) -> tuple[str, list]:
        text = self.text[self.shown:upto] if upto > self.shown else ""
        self.shown += len(text)
        first = self.sent
        while self.sent < len(self.records) and end_of(self.sent) <= upto:
            self.sent += 1
        return text, [{"offset": self.starts[k], **(self.records[k] or {})}
                      for k in range(first, self.sent)]
