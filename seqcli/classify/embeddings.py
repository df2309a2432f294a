"""Pretrained word vectors (GloVe or word2vec text format) copied into an embedding layer.

Both formats are one word per line followed by its numbers, separated by spaces; word2vec's
text form adds a first line ``<count> <dimensions>``. The file is streamed and only the words of
the vocabulary are kept, so even an 840B-token GloVe file needs little memory. Words the file
lacks keep their random initialisation and are learned from scratch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from seqcli.errors import DataError, UsageError


def read_vectors(path: Path, vocab: Mapping[str, int], dim: int, *,
                 lowercase: bool = False) -> dict[int, torch.Tensor]:
    """Token id -> vector for every vocabulary word found in `path` (first match wins)."""
    path = Path(path)
    found: dict[int, torch.Tensor] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line_no, line in enumerate(handle, start=1):
                parts = line.rstrip("\n").rstrip().split(" ")
                if line_no == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    _check_dim(int(parts[1]), dim, path)  # word2vec header
                    continue
                if len(parts) < 2:
                    continue
                if len(parts) - 1 < dim or line_no == 1:
                    _check_dim(_vector_size(parts), dim, path)
                word = " ".join(parts[:-dim])
                index = vocab.get(word.lower() if lowercase else word)
                if index is None or index in found:
                    continue
                try:
                    found[index] = torch.tensor([float(v) for v in parts[-dim:]])
                except ValueError:
                    raise DataError(f"{path}:{line_no}: not a word followed by {dim} "
                                    f"numbers") from None
    except FileNotFoundError:
        raise DataError(f"{path}: no such embeddings file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    return found


def _vector_size(parts: list[str]) -> int:
    """Count the trailing numeric fields of a line (a GloVe word may itself hold spaces)."""
    size = 0
    for value in reversed(parts[1:]):
        try:
            float(value)
        except ValueError:
            break
        size += 1
    return size


def _check_dim(found: int, dim: int, path: Path) -> None:
    if found != dim:
        raise DataError(f"{path}: vectors have {found} dimensions but the embedding has {dim}; "
                        f"pass --embedding {found}")


def load_pretrained(embedding: nn.Embedding, path: Path, vocab: Mapping[str, int], *,
                    lowercase: bool = False, skip: tuple[int, ...] = (0,)) -> int:
    """Copy the vectors of `path` into `embedding` rows; returns how many words were found."""
    vectors = read_vectors(path, vocab, embedding.embedding_dim, lowercase=lowercase)
    for index in skip:
        vectors.pop(index, None)
    if not vectors:
        raise DataError(f"{path}: none of the {len(vocab)} vocabulary words has a vector there")
    with torch.no_grad():
        ids = torch.tensor(sorted(vectors))
        embedding.weight[ids] = torch.stack([vectors[i] for i in sorted(vectors)]).to(
            embedding.weight.dtype)
    return len(vectors)


def tokenizer_vocab(tokenizer) -> dict[str, int]:
    """The token -> id mapping of a word tokenizer (pretrained vectors are per word)."""
    if getattr(tokenizer, "kind", None) != "word":
        raise UsageError("--embeddings needs --tokenizer word (vectors are looked up by word)")
    return dict(tokenizer.backend.get_vocab())
