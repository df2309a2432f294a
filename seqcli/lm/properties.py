"""Simple properties of a text, per token, for `seqcli inspect --top`: what a unit of a
character model is often found to track (Karpathy, Johnson and Fei-Fei, "Visualizing and
Understanding Recurrent Networks", 2015).

- ``in_quotes``: 1 inside double quotes ("...", “...”, 「...」, 『...』, «...»), quotes included;
- ``in_brackets``: the depth of bracket nesting ((), [], {} and their full-width and CJK
  forms （）［］｛｝【】《》〈〉), brackets included;
- ``line_position``: how many characters into its line the token starts;
- ``word_start``: 1 where a word begins: a letter or digit after anything else, and every CJK
  ideograph (Chinese is written without spaces: each ideograph is taken as a word, as the word
  tokenizer does);
- ``after_newline``: 1 for the first token after a line break (not the first of the text).

They are computed on the characters of the text as written and given to each token at its
first character that is not a space (a BPE token " the" is about "t"), so the same set serves
character, word and BPE models: a word model's [UNK] is the word it stands for, and spaces and
newlines the tokenizer drops still count. A property reported with a correlation must vary
enough in the text to mean something (`informative`).
"""

from __future__ import annotations

from collections import Counter

from seqcli.data.scripts import is_ideograph

OPENING, CLOSING = "([{（［｛【《〈", ")]}）］｝】》〉"
QUOTES = {"“": "”", "「": "」", "『": "』", "«": "»"}  # opening -> closing; '"' toggles
PROPERTIES = ("in_quotes", "in_brackets", "line_position", "word_start", "after_newline")
MIN_SUPPORT = 3  # tokens that must differ from a property's most common value to report it


def char_properties(text: str) -> dict[str, list[float]]:
    """{property: one value per character} (``after_newline`` is per token: see
    `token_properties`)."""
    values: dict[str, list[float]] = {name: [] for name in PROPERTIES[:4]}
    straight, curly, depth, column, previous = False, 0, 0, 0, "\n"
    for char in text:
        quote = char == '"' or char in QUOTES or char in QUOTES.values()
        values["in_quotes"].append(float(straight or curly > 0 or quote))
        values["in_brackets"].append(float(depth + (char in OPENING)))
        values["line_position"].append(float(column))
        values["word_start"].append(float(char.isalnum() and (
            not previous.isalnum() or is_ideograph(char) or is_ideograph(previous))))
        straight = straight != (char == '"')
        curly = curly + (char in QUOTES) - (curly > 0 and char in QUOTES.values())
        depth = depth + 1 if char in OPENING else max(0, depth - (char in CLOSING))
        column = 0 if char == "\n" else column + 1
        previous = char
    return values


def token_properties(text: str, spans: list[tuple[int, int]]) -> dict[str, list[float]]:
    """{property: one value per token}, tokens given by their (start, end) in `text`."""
    chars = char_properties(text)
    anchors = [_anchor(text, start, end) for start, end in spans]
    values = {name: [series[i] if i < len(text) else 0.0 for i in anchors]
              for name, series in chars.items()}
    starts = [start for start, _ in spans]
    values["after_newline"] = [float(k > 0 and "\n" in text[starts[k - 1]:start])
                               for k, start in enumerate(starts)]
    return values


def _anchor(text: str, start: int, end: int) -> int:
    """The token's first character that is not a space (its first one when all are)."""
    for i in range(start, end):
        if not text[i].isspace():
            return i
    return start


def informative(values: dict[str, list[float]]) -> dict[str, list[float]]:
    """The properties that vary enough to correlate with: at least `MIN_SUPPORT` tokens away
    from the most common value. A property set at one token only (a one-line text's single
    line start, one bracket) would rank units by how they react to that token alone."""
    kept = {}
    for name, series in values.items():
        most = Counter(series).most_common(1)[0][1] if series else 0
        if len(series) - most >= MIN_SUPPORT:
            kept[name] = series
    return kept
