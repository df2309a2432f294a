"""Simple properties of a text, per token, for `seqcli inspect --top`: what a unit of a
character model is often found to track (Karpathy, Johnson and Fei-Fei, "Visualizing and
Understanding Recurrent Networks", 2015).

- ``in_quotes``: 1 inside double quotes (after an opening ``"``, up to and with the closing one);
- ``in_brackets``: the depth of (), [] and {} nesting at the token;
- ``line_position``: how many characters into its line the token starts;
- ``word_start``: 1 where a word begins (a letter or digit after anything else);
- ``after_newline``: 1 for the first token of a line.

Each token gets the value at its first character, so the same set serves word and BPE models.
"""

from __future__ import annotations

OPENING, CLOSING = "([{", ")]}"
PROPERTIES = ("in_quotes", "in_brackets", "line_position", "word_start", "after_newline")


def text_properties(tokens: list[str]) -> dict[str, list[float]]:
    """{property: one value per token} (see the module docstring)."""
    values: dict[str, list[float]] = {name: [] for name in PROPERTIES}
    quoted, depth, column, previous = False, 0, 0, "\n"
    for token in tokens:
        first = token[:1]
        closing_quote = quoted and first == '"'
        values["in_quotes"].append(float(quoted or closing_quote or first == '"'))
        values["in_brackets"].append(float(depth + (first in OPENING)))
        values["line_position"].append(float(column))
        values["word_start"].append(float(first.isalnum() and not previous.isalnum()))
        values["after_newline"].append(float(previous == "\n"))
        for char in token:
            if char == '"':
                quoted = not quoted
            depth = depth + 1 if char in OPENING else max(0, depth - (char in CLOSING))
            column = 0 if char == "\n" else column + 1
            previous = char
    return values
