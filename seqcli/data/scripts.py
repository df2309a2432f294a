"""Which writing system a character belongs to, where seqcli must treat scripts differently.

Words. Word tokens split on whitespace and punctuation, so Chinese, which has neither between
its words, became clause-length "words" seen once each (issue 25). As BERT's basic tokenizer
does for CJK ideographs, each character of a script written without spaces is a word of its
own here; a dictionary segmenter would do better, but needs a model of each language. The
set, and why:

- **Han** ideographs (CJK Unified Ideographs, Extension A, every ideograph of the
  supplementary planes 2 and 3, Compatibility Ideographs, and the ideographic marks 々 〆 〇,
  the Hangzhou numerals and their kin): one character is one morpheme, mostly one word.
  `is_ideograph` tells these alone.
- **Hiragana**: Japanese particles and endings between kanji, written without spaces.
- **Thai, Lao, Khmer, Myanmar**: written without spaces between words. Each letter is a word
  with the combining marks (vowel signs, tone marks) that follow it, so a mark never stands
  alone; a stacked consonant (Khmer coeng, Myanmar virama) starts a word of its own.

Not in it: **Katakana** (a run of it is mostly one loanword, ``コンピュータ``, so it stays one
word as Latin letters do), **Hangul** (Korean puts spaces between words), and the scripts'
digits and punctuation (they split as everywhere else). `is_own_word` says whether a character
starts such a word.

`is_unspaced` is wider: the characters next to which decoded words need no space (the above,
their marks, Katakana, CJK punctuation and full-width forms), so word tokens of Chinese decode
to ``我们坐在`` and not ``我 们 坐 在``.

`OWN_WORD_PATTERN` is the same set as one regular expression that Python's ``re`` and the
`tokenizers` library's Oniguruma both read (literal characters in a class, no script names):
a word tokenizer saves it in its tokenizer.json, so a run keeps the set it was trained with.

Languages. A page that shows East Asian text says which language it is in (``lang``, from
`language_hint`), so a browser picks glyphs of the right regional form (the same code point
is drawn differently for Chinese, Japanese and Korean).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

# Code point ranges whose every character is an ideograph (unassigned ones included: an
# ideograph added in a later Unicode version is still one).
HAN = ((0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B), (0x3400, 0x4DBF),
       (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFD), (0x30000, 0x3FFFD))
# Blocks of letters and combining marks: letters are words, marks join the letter before.
LETTER_BLOCKS = {"Hiragana": (0x3040, 0x309F), "Thai": (0x0E00, 0x0E7F),
                 "Lao": (0x0E80, 0x0EFF), "Myanmar": (0x1000, 0x109F),
                 "Khmer": (0x1780, 0x17FF), "Myanmar Extended-A": (0xAA60, 0xAA7F),
                 "Myanmar Extended-B": (0xA9E0, 0xA9FF)}
# Written without spaces but not words of their own: Katakana (and its half-width forms), CJK
# symbols and punctuation, full-width and vertical forms.
UNSPACED_EXTRA = ((0x3000, 0x303F), (0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFE10, 0xFE1F),
                  (0xFE30, 0xFE6F), (0xFF00, 0xFFEF))
# What language_hint looks for besides ideographs.
KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
HANGUL = ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))


def _block_chars(kind: str) -> list[tuple[int, int]]:
    """Single-character ranges of the letter blocks' letters (kind "L") or marks ("M")."""
    return [(c, c) for start, end in LETTER_BLOCKS.values() for c in range(start, end + 1)
            if unicodedata.category(chr(c)).startswith(kind)]


def _char_class(ranges: Iterable[tuple[int, int]]) -> str:
    """A regex character class of literal characters; adjacent ranges merged."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return "[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in merged) + "]"


_LETTERS = _char_class(list(HAN) + _block_chars("L"))
_MARKS = _char_class(_block_chars("M"))
# One word of its own: an ideograph or letter of the scripts above, with its combining marks.
OWN_WORD_PATTERN = f"{_LETTERS}{_MARKS}*"
_LETTER_RE = re.compile(_LETTERS)
_UNSPACED_RE = re.compile(_char_class(list(HAN) + [(a, b) for a, b in LETTER_BLOCKS.values()]
                                      + list(UNSPACED_EXTRA)))
_OWN_WORD_RE = re.compile(OWN_WORD_PATTERN)


def _within(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)


def is_ideograph(char: str) -> bool:
    """A CJK ideograph (a Chinese character, Japanese kanji, Korean hanja): a word alone."""
    return _within(char, HAN)


def language_hint(text: str) -> str:
    """A BCP 47 tag for text in an East Asian script ("ja" with kana, "ko" with hangul, "zh"
    with ideographs alone), else "" (unknown: the page does not guess between Latin-script
    languages)."""
    if any(_within(c, KANA) for c in text):
        return "ja"
    if any(_within(c, HANGUL) for c in text):
        return "ko"
    return "zh" if any(is_ideograph(c) for c in text) else ""


def is_own_word(char: str) -> bool:
    """Whether `char` starts a word of its own (see the module docstring): every Han
    ideograph, every Hiragana, Thai, Lao, Khmer or Myanmar letter; not their combining marks,
    not Katakana, Latin or digits."""
    return len(char) == 1 and _LETTER_RE.fullmatch(char) is not None


def is_unspaced(char: str) -> bool:
    """Whether decoded words need no space next to `char` (a character of a script written
    without spaces, or CJK punctuation)."""
    return len(char) == 1 and _UNSPACED_RE.fullmatch(char) is not None


def own_words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word of its own in `text`: a letter and its marks."""
    return [match.span() for match in _OWN_WORD_RE.finditer(text)]


def join_words(words: Sequence[str]) -> str:
    """Words as text: one space between two words, none next to an unspaced character."""
    parts: list[str] = []
    last = ""  # the last character written
    for word in words:
        if not word:
            continue
        if last and not (is_unspaced(last) or is_unspaced(word[0])):
            parts.append(" ")
        parts.append(word)
        last = word[-1]
    return "".join(parts)
