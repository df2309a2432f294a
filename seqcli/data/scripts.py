"""Which writing system a character belongs to, where seqcli must treat scripts differently.

Chinese (and Japanese kanji) is written without spaces, so a "word" there is best taken as
one ideograph, as BERT's basic tokenizer does; the ranges below are the ones it (and the
`tokenizers` library's ``BertNormalizer(handle_chinese_chars=True)``) uses. A page that shows
such text says which language it is in (``lang``), so a browser picks glyphs of the right
regional form (the same code point is drawn differently for Chinese, Japanese and Korean).
"""

from __future__ import annotations

IDEOGRAPHS = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
HANGUL = ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))


def _within(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)


def is_ideograph(char: str) -> bool:
    """A CJK ideograph (a Chinese character, Japanese kanji, Korean hanja): a word alone."""
    return _within(char, IDEOGRAPHS)


def language_hint(text: str) -> str:
    """A BCP 47 tag for text in an East Asian script ("ja" with kana, "ko" with hangul, "zh"
    with ideographs alone), else "" (unknown: the page does not guess between Latin-script
    languages)."""
    if any(_within(c, KANA) for c in text):
        return "ja"
    if any(_within(c, HANGUL) for c in text):
        return "ko"
    return "zh" if any(is_ideograph(c) for c in text) else ""
