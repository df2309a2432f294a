"""Where each token a model reads sits in the text as the user wrote it.

A run that lower-cases (``--lowercase``) reads ``text.lower()``, and lower-casing can change a
text's length: 'İ' (U+0130) becomes 'i' and a combining dot, two characters. The tokenizer's
offsets are offsets into the text it was given; applied to the original they would cut every
later token in the wrong place. `lowered` keeps, for each character of the lower-cased text,
the index of the character it came from, and `original_spans` maps the spans back through it,
so a view can show (and colour) exactly what the user wrote.
"""

from __future__ import annotations

from seqcli.data.tokenizers import Tokenizer


def lowered(text: str) -> tuple[str, list[int]]:
    """``text.lower()`` and, per character of it, the index of its source character.

    Python's only context rule in ``lower()`` (the Greek final sigma) picks between two
    one-character forms, so each character grows by ``len(char.lower())`` in context too.
    """
    origin = [i for i, char in enumerate(text) for _ in range(len(char.lower()))]
    return text.lower(), origin


def original_spans(tokenizer: Tokenizer, text: str,
                   lowercase: bool) -> list[tuple[int, int]]:
    """(start, end) in `text` of each token of the text as the model reads it (lower-cased
    when `lowercase`): the spans of ``tokenizer.encode(text.lower() if lowercase else text)``."""
    if not lowercase:
        return [(start, end) for start, end in tokenizer.spans(text)]
    source, origin = lowered(text)
    return [_back(origin, start, end, len(text)) for start, end in tokenizer.spans(source)]


def _back(origin: list[int], start: int, end: int, size: int) -> tuple[int, int]:
    """A span of the lower-cased text as a span of the original (whole source characters)."""
    first = origin[start] if start < len(origin) else size
    last = origin[end - 1] + 1 if start < end <= len(origin) else first
    return first, max(first, last)
