"""Inputs for the benchmarks: the real corpora when they are at hand, stand-ins when not.

Corpora are looked up like any seqcli corpus (a ``SEQCLI_DATA`` mirror or the cache, passed in
as directories) but never downloaded: a benchmark must not depend on the network. Without
them, seeded synthetic text of a similar shape is used and the report says so (``source``),
because speed depends on the shape of the data (vocabulary, lengths), not on its meaning.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import torch

from seqcli.classify.splits import read_split
from seqcli.data.registry import resolve_corpus
from seqcli.data.text import read_text
from seqcli.errors import SeqcliError

_NON_LETTERS = re.compile("[^A-Za-z]+")
SYNTHETIC = "synthetic"
_NO_CACHE = Path("/nonexistent-seqcli-cache")  # no cache given: look in the mirror only


@dataclass(frozen=True)
class CharStream:
    """A character corpus as d2l prepares it: ids [N] (uint8), its vocabulary, its source."""

    ids: torch.Tensor
    vocab: list[str]  # id -> token; id 0 is d2l's "<unk>"
    text: str
    source: str

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)


def corpus_text(name: str, data_dir: Path | None, cache_dir: Path | None) -> str | None:
    """The text of a registry corpus if it is already on this machine, else None."""
    try:
        resolved = resolve_corpus(name, data_dir=data_dir, cache_dir=cache_dir or _NO_CACHE,
                                  allow_download=False)
        return read_text(resolved.path())
    except (SeqcliError, ValueError, OSError):
        return None


def d2l_chars(data_dir: Path | None, cache_dir: Path | None) -> CharStream:
    """The Time Machine as d2l tokenizes it: letters lower-cased, every other run a space.

    That leaves 26 letters and the space; with d2l's ``<unk>`` the vocabulary has 28 entries.
    """
    text = corpus_text("timemachine", data_dir, cache_dir)
    source = "timemachine"
    if text is None:
        text, source = synthetic_text(180_000), SYNTHETIC
    text = _NON_LETTERS.sub(" ", text).lower()
    counts = Counter(text)
    vocab = ["<unk>", *sorted(counts, key=lambda c: (-counts[c], c))]
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.uint8)
    return CharStream(ids, vocab, text, source)


def synthetic_text(chars: int, seed: int = 0) -> str:
    """Seeded pseudo-English: Zipf-distributed words of 1-9 letters, lines of about 60 chars."""
    rng = random.Random(seed)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    lexicon = ["".join(rng.choices(letters, weights=range(26, 0, -1), k=rng.randint(1, 9)))
               for _ in range(2000)]
    cumulative = list(accumulate(1.0 / (rank + 1) for rank in range(len(lexicon))))
    words = rng.choices(lexicon, cum_weights=cumulative, k=chars // 3 + 10)
    lines = [" ".join(words[k:k + 10]) for k in range(0, len(words), 10)]
    return "\n".join(lines)[:chars]


def sentences(data_dir: Path | None, cache_dir: Path | None,
              count: int) -> tuple[list[str], list[str], str]:
    """``count`` SST-2 validation sentences (repeated as needed), the training texts to fit a
    tokenizer on, and the source name; synthetic sentences of SST-2-like lengths otherwise."""
    found = _sst2(data_dir, cache_dir)
    if found is None:
        rng = random.Random(1)
        words = synthetic_text(400_000, seed=2).split()
        pool = [" ".join(rng.choices(words, k=max(2, min(55, int(rng.gammavariate(4.0, 4.8))))))
                for _ in range(4000)]
        train, val, source = pool, pool[:872], SYNTHETIC
    else:
        train, val = found
        source = "sst2 (validation sentences)"
    repeated = [val[k % len(val)] for k in range(count)]
    return repeated, train, source


def _sst2(data_dir: Path | None, cache_dir: Path | None) -> tuple[list[str], list[str]] | None:
    try:
        resolved = resolve_corpus("sst2", data_dir=data_dir, cache_dir=cache_dir or _NO_CACHE,
                                  allow_download=False)
        train = read_split(resolved, "train")
        val = read_split(resolved, "validation")
    except (SeqcliError, ValueError, OSError):
        return None
    if train is None or val is None:
        return None
    return list(train.texts), list(val.texts)


def corpus_lines(data_dir: Path | None, cache_dir: Path | None) -> Iterator[str]:
    """Every non-empty line of the shared plain-text and labelled corpora found locally."""
    for name in ("timemachine", "tinyshakespeare"):
        text = corpus_text(name, data_dir, cache_dir)
        if text is not None:
            yield from (line for line in text.splitlines() if line.strip())
    found = _sst2(data_dir, cache_dir)
    if found is not None:
        yield from found[0]


def build_large_corpus(dest: Path, size_bytes: int, data_dir: Path | None,
                       cache_dir: Path | None, seed: int = 0) -> Path:
    """Write ``dest``: lines of the local corpora, shuffled again on every pass, until the file
    holds ``size_bytes`` (UTF-8). Synthetic lines stand in when no corpus is found."""
    lines = list(corpus_lines(data_dir, cache_dir)) or synthetic_text(2_000_000).splitlines()
    rng = random.Random(seed)
    written = 0
    with open(dest, "w", encoding="utf-8") as handle:
        while written < size_bytes:
            rng.shuffle(lines)
            for line in lines:
                data = line + "\n"
                handle.write(data)
                written += len(data.encode("utf-8"))
                if written >= size_bytes:
                    break
    return dest
