"""The bytes each token stands for, where tokens are bytes rather than characters.

A byte-level BPE (the `tokenizers` library's ByteLevel pre-tokenizer and decoder, as GPT-2)
spells every token with a 256-character alphabet, one character per byte, so a token may hold
half a character, or the end of one and the start of the next. Generation needs those bytes to
keep its output valid UTF-8 (seqcli/lm/utf8.py). Which tokenizer is byte-level is read from
the tokenizer itself (its decoder), not from its kind: a BPE whose alphabet is the corpus'
characters has tokens that are whole characters, like the char and word tokenizers, and needs
no bytes at all.
"""

from __future__ import annotations

import json
from typing import Any

from seqcli.data.tokenizers import Tokenizer


def byte_alphabet() -> dict[str, int]:
    """The ByteLevel alphabet: character -> the byte it spells (GPT-2's bytes_to_unicode).

    Printable Latin-1 bytes stand for themselves; the other 68 bytes (controls, space,
    0x7F-0xA0, 0xAD) are spelled with the characters from U+0100 up, in byte order.
    """
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    spelled = {b: chr(b) for b in printable}
    extra = (b for b in range(256) if b not in spelled)
    spelled.update({b: chr(0x100 + n) for n, b in enumerate(extra)})
    return {char: b for b, char in spelled.items()}


BYTE_OF = byte_alphabet()


def is_byte_level(tokenizer: Tokenizer) -> bool:
    """True when the tokenizer's decoder turns tokens into bytes (ByteLevel, alone or in a
    Sequence); seqcli's own character tokenizer and word-level tokens are whole characters."""
    decoder = getattr(getattr(tokenizer, "backend", None), "decoder", None)
    if decoder is None:
        return False
    return _has_byte_level(json.loads(decoder.__getstate__()))  # the decoder's own JSON


def _has_byte_level(decoder: Any) -> bool:
    if not isinstance(decoder, dict):
        return False
    if decoder.get("type") == "ByteLevel":
        return True
    return any(_has_byte_level(d) for d in decoder.get("decoders") or ())


def token_bytes(tokenizer: Tokenizer) -> list[bytes] | None:
    """Token id -> its bytes, for a byte-level tokenizer; None when every token is whole
    characters (then any sequence of tokens is valid text).

    Tokens spelled outside the alphabet (added tokens such as [PAD], [UNK]) are their text.
    """
    if not is_byte_level(tokenizer):
        return None
    backend = tokenizer.backend  # type: ignore[attr-defined]
    spelled = [backend.id_to_token(i) or "" for i in range(tokenizer.vocab_size)]
    return [bytes(BYTE_OF[c] for c in token) if all(c in BYTE_OF for c in token)
            else token.encode("utf-8") for token in spelled]
