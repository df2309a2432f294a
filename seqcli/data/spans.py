"""Which training texts lie inside which: the text structure a held-out slice must respect.

Phrase-level corpora hold a sentence *and* many of its sub-phrases as rows of their own (GLUE's
SST-2 train.tsv: 67k rows from ~7k sentences). A random slice of rows then validates on phrases
whose sentence, or whose own sub-phrases, are trained on, and scores far above a set of unseen
sentences. `index_texts` finds the *roots*: the distinct texts that are no contiguous span of
whitespace tokens of a longer training text; `spans_inside` lists the texts inside given ones.

Texts are compared after the run's lowercasing (NFKC, then lower case, as the tokenizers do)
and with runs of whitespace as one space. Finding spans costs about L^2/2 look-ups for a text
of L tokens; above `MAX_SPAN_WORK` in all (documents, not phrases: IMDB's reviews) containment
is not looked for and every distinct text is a root, exact duplicates still grouped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_SPAN_WORK = 30_000_000  # look-ups; SST-2's train.tsv would need 5.2 million


@dataclass(frozen=True)
class TextIndex:
    keys: list[str]  # distinct normalised texts, in order of first appearance
    rows: list[list[int]]  # the rows holding each distinct text
    roots: list[int]  # distinct texts inside no longer one, in order of first appearance
    checked: bool  # False: the cost guard skipped containment; every distinct text is a root
    lookup: dict[str, int]  # normalised text -> its index in keys


def normalise(text: str, lowercase: bool) -> str:
    """The form in which two texts are the same text: whitespace tokens, one space apart."""
    if lowercase:
        text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(text.split())


def index_texts(texts: Sequence[str], lowercase: bool,
                max_work: int = MAX_SPAN_WORK) -> TextIndex:
    """Distinct texts, the rows of each, and which are roots (see the module docstring)."""
    lookup: dict[str, int] = {}
    rows: list[list[int]] = []
    for row, text in enumerate(texts):
        key = normalise(text, lowercase)
        if key not in lookup:
            lookup[key] = len(rows)
            rows.append([])
        rows[lookup[key]].append(row)
    keys = list(lookup)
    lengths = [key.count(" ") + 1 for key in keys]
    if sum(n * n for n in lengths) / 2 > max_work:
        return TextIndex(keys, rows, list(range(len(keys))), False, lookup)
    inside = _contained(keys, lengths, lookup)
    roots = [i for i in range(len(keys)) if not inside[i]]
    return TextIndex(keys, rows, roots, True, lookup)


def spans_inside(index: TextIndex, ids: Iterable[int]) -> set[int]:
    """The distinct texts that are proper spans of any of `ids` (none if containment was
    skipped)."""
    if not index.checked:
        return set()
    sizes = sorted({key.count(" ") + 1 for key in index.keys})
    found: set[int] = set()
    for i in ids:
        found |= _spans_found(index.keys[i], sizes, index.lookup)
    return found


def _contained(keys: list[str], lengths: list[int], lookup: dict[str, int]) -> list[bool]:
    """Whether each distinct text lies inside a longer one.

    Longest first, and a text already found inside another is not searched: its spans are
    spans of that longer text too, already marked. So only the roots are enumerated (SST-2:
    about a tenth of its texts).
    """
    inside = [False] * len(keys)
    sizes = sorted(set(lengths))
    for i in sorted(range(len(keys)), key=lengths.__getitem__, reverse=True):
        if not inside[i]:
            for j in _spans_found(keys[i], sizes, lookup):
                inside[j] = True
    return inside


def _spans_found(key: str, sizes: list[int], lookup: dict[str, int]) -> set[int]:
    """Indices of the known texts that are proper token spans of `key`.

    Spans are slices of the joined string between token boundaries (no re-joining), and only
    of lengths some text has.
    """
    starts = [0]
    ends = []
    at = key.find(" ")
    while at >= 0:
        ends.append(at)
        starts.append(at + 1)
        at = key.find(" ", at + 1)
    ends.append(len(key))
    length = len(starts)
    hits = [lookup.get(key[starts[a]:ends[a + n - 1]])
            for n in sizes if n < length for a in range(length - n + 1)]
    return {j for j in hits if j is not None}
