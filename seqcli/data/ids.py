"""Text -> compact id tensors, shared by both tasks.

A corpus of 100M tokens must fit in about 100-200 MB: ids are kept in the smallest integer
dtype that holds the vocabulary, built from chunks without ever holding Python int lists for
the whole text, and characters are looked up through one code-point table.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from seqcli.data.tokenizers import UNK_ID, CharTokenizer
from seqcli.errors import DataError


def compact_dtype(vocab_size: int) -> torch.dtype:
    """Smallest integer dtype that holds every id: a 100M-token corpus stays ~100-200 MB."""
    if vocab_size <= 255:
        return torch.uint8
    if vocab_size <= 32767:
        return torch.int16
    return torch.int32


def ids_tensor(chunks: Iterable[list[int]], vocab_size: int) -> torch.Tensor:
    """Concatenate id chunks into one compact tensor without keeping Python int lists."""
    dtype = compact_dtype(vocab_size)
    parts = [torch.tensor(chunk, dtype=torch.int32).to(dtype) for chunk in chunks if chunk]
    if not parts:
        return torch.empty(0, dtype=dtype)
    return torch.cat(parts)


_CODE_POINTS = 0x110000


def code_points(text: str) -> torch.Tensor:
    """Unicode code points of ``text`` as an int32 tensor (via UTF-32, no Python ints)."""
    return torch.frombuffer(bytearray(text.encode("utf-32-le")), dtype=torch.int32)


def count_chars(pieces: Iterable[str]) -> CharTokenizer:
    """A CharTokenizer fit on streamed text: the same vocabulary and order as
    ``CharTokenizer.train`` (most frequent first, ties by character), counted with bincount."""
    counts = torch.zeros(_CODE_POINTS, dtype=torch.int64)
    for piece in pieces:
        if piece:
            counts += torch.bincount(code_points(piece).long(), minlength=_CODE_POINTS)
    seen = counts.nonzero().flatten().tolist()
    if not seen:
        raise DataError("cannot build a character vocabulary from empty text")
    frequency = counts[seen].tolist()
    order = sorted(zip(seen, frequency), key=lambda cf: (-cf[1], cf[0]))
    return CharTokenizer([chr(c) for c, _ in order])


def char_ids(tokenizer: CharTokenizer, pieces: Iterable[str], chars: int) -> torch.Tensor:
    """``tokenizer.encode`` of the concatenated pieces (``chars`` long) as one compact tensor,
    by table lookup: every code point maps to its id, unknown ones to UNK."""
    dtype = compact_dtype(tokenizer.vocab_size)
    table = torch.full((_CODE_POINTS,), UNK_ID, dtype=dtype)
    table[[ord(c) for c in tokenizer.chars[UNK_ID + 1:]]] = torch.arange(
        UNK_ID + 1, tokenizer.vocab_size).to(dtype)
    ids, filled = torch.empty(chars, dtype=dtype), 0
    for piece in pieces:
        if piece:
            ids[filled:filled + len(piece)] = table[code_points(piece)]
            filled += len(piece)
    if filled != chars:
        raise DataError(f"the text changed while it was read ({filled} characters, "
                        f"expected {chars})")
    return ids
