"""Language-model text -> tokenizer (fit on the training part) -> compact id tensors, streamed.

Memory: the corpus is streamed from its file (``text_pieces``), never held as one string, and
becomes one compact integer tensor per split (uint8 for character vocabularies), so a 100 MB
text costs about 100 MB of ids. The split, the tokenizer and the ids are exactly those of
reading the whole text, lower-casing it, ``split_text`` and ``encode_chunks``: runs started
either way resume identically.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
from rich.console import Console

from seqcli.config import DataConfig
from seqcli.data.ids import char_ids, count_chars, ids_tensor
from seqcli.data.registry import resolve_corpus
from seqcli.data.text import iter_text_chunks
from seqcli.data.tokenizers import CharTokenizer, Tokenizer, train_tokenizer
from seqcli.errors import DataError
from seqcli.locations import Locations

CHUNK_CHARS = 1 << 20


def corpus_text_path(corpus: str, locations: Locations, console: Console | None) -> Path:
    """The single text file behind a corpus name or path."""
    resolved = resolve_corpus(corpus, data_dir=locations.data, cache_dir=locations.cache,
                              console=console, task="lm")
    files = list(resolved.paths.values())
    if len(files) != 1 or not files[0].is_file():
        what = "a directory" if files and files[0].is_dir() else f"{len(files)} files"
        raise DataError(f"{corpus}: a language model needs one text file, got {what}")
    return files[0]


def encode_chunks(tokenizer: Tokenizer, text: str) -> Iterator[list[int]]:
    """Encode in pieces so no Python list of ints for the whole corpus ever exists.

    Pieces end at a newline where possible so word and BPE tokens are not cut in half.
    """
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK_CHARS)
        if end < len(text):
            newline = text.rfind("\n", start, end)
            end = newline + 1 if newline > start else end
        yield tokenizer.encode(text[start:end])
        start = end


def split_ids(path: Path, d: DataConfig, tokenizer: Tokenizer | None = None
              ) -> tuple[Tokenizer, torch.Tensor, torch.Tensor]:
    """(tokenizer, train ids, validation ids) of a text file, streamed (see ``stream_ids``).

    The same split, vocabulary and ids as reading the whole text, lower-casing it when
    ``d.lowercase``, ``split_text(text, d.val_fraction)`` and ``encode_chunks``.
    """
    total = sum(len(piece) for piece in text_pieces(path, d.lowercase))
    cut = int(total * (1.0 - d.val_fraction))  # where split_text cuts the same text
    if tokenizer is None:
        tokenizer = fit_tokenizer(d, _part(path, d.lowercase, cut, train=True))
    train_ids = stream_ids(tokenizer, _part(path, d.lowercase, cut, train=True), cut)
    val_ids = stream_ids(tokenizer, _part(path, d.lowercase, cut, train=False), total - cut)
    return tokenizer, oriented(train_ids, d), oriented(val_ids, d)


def text_ids(path: Path, d: DataConfig, tokenizer: Tokenizer, split: str) -> torch.Tensor:
    """Ids of a whole text (``split="all"``) or of its held-out part (``"validation"``, the
    part training validates on), streamed exactly as training streams it: evaluating a 100 MB
    corpus takes the memory training takes."""
    total = sum(len(piece) for piece in text_pieces(path, d.lowercase))
    if split == "all":
        return oriented(stream_ids(tokenizer, text_pieces(path, d.lowercase), total), d)
    cut = int(total * (1.0 - d.val_fraction))
    return oriented(stream_ids(tokenizer, _part(path, d.lowercase, cut, train=False),
                               total - cut), d)


def oriented(ids: torch.Tensor, d: DataConfig) -> torch.Tensor:
    """The ids in reading order: last token first for a right-to-left model (`d.reverse`).

    The tokenizer is fit on the text as written, so a backward model shares its forward
    twin's vocabulary exactly and reads each text as a bidirectional classifier's backward
    direction does: its tokens from last to first. The held-out part stays the same text.
    """
    return ids.flip(0) if d.reverse else ids


# ----- streaming: the file is read three times (length, tokenizer, ids), never held whole ------
def text_pieces(path: Path, lowercase: bool = False) -> Iterator[str]:
    """The decoded file (as ``read_text`` decodes it) in pieces that end at a newline.

    Ending at newlines keeps ``lower()`` exact piece by piece (its one context rule, the Greek
    final sigma, never looks across a line break). A line longer than 8 chunks is cut at a
    space, or anywhere, rather than held whole.
    """
    carry = ""
    for chunk in iter_text_chunks(path, CHUNK_CHARS):
        text = carry + chunk
        end = text.rfind("\n") + 1
        if end == 0 and len(text) > 8 * CHUNK_CHARS:
            end = text.rfind(" ") + 1 or len(text)
        piece, carry = text[:end], text[end:]
        if piece:
            yield piece.lower() if lowercase else piece
    if carry:
        yield carry.lower() if lowercase else carry


def _part(path: Path, lowercase: bool, cut: int, train: bool) -> Iterator[str]:
    """The pieces of text[:cut] (train) or text[cut:] (validation), as ``split_text`` splits."""
    seen = 0
    for piece in text_pieces(path, lowercase):
        start, seen = seen, seen + len(piece)
        if train:
            yield piece[:max(0, cut - start)]
            if seen >= cut:
                return
        elif seen > cut:
            yield piece[max(0, cut - start):]


def fit_tokenizer(d: DataConfig, pieces: Iterator[str]) -> Tokenizer:
    """Fit ``d.tokenizer`` on streamed training text: characters are counted, word and BPE
    tokenizers read it line by line (the lines ``str.splitlines`` gives on the whole text)."""
    if d.tokenizer == "char":
        return count_chars(pieces)
    lines = (line for piece in pieces for line in piece.splitlines())
    return train_tokenizer(d.tokenizer, lines, vocab_size=d.vocab_size,
                           min_frequency=d.min_frequency)


def stream_ids(tokenizer: Tokenizer, pieces: Iterator[str], chars: int) -> torch.Tensor:
    """Compact ids of the text in ``pieces`` (``chars`` characters long).

    Characters: a vectorised table lookup into a tensor allocated once. Word and BPE: encoded
    in the same 1M-character, newline-ended blocks as ``encode_chunks``, so the ids equal
    those of encoding the whole text that way.
    """
    if isinstance(tokenizer, CharTokenizer):
        return char_ids(tokenizer, pieces, chars)
    return ids_tensor((tokenizer.encode(block) for block in rechunk(pieces)), tokenizer.vocab_size)


def rechunk(pieces: Iterator[str]) -> Iterator[str]:
    """The blocks ``encode_chunks`` would cut from the concatenated pieces."""
    buffer, size = "", CHUNK_CHARS
    for piece in pieces:
        buffer += piece
        while len(buffer) > size:
            newline = buffer.rfind("\n", 0, size)
            end = newline + 1 if newline > 0 else size
            yield buffer[:end]
            buffer = buffer[end:]
    if buffer:
        yield buffer
