"""Character, word and BPE tokenizers behind one small protocol.

Every tokenizer reserves id 0 for padding and id 1 for the unknown token, so models,
batching and classification never need to know which kind they hold. Unknown input (a
character or word never seen in training) maps to id 1 and decodes to U+FFFD for characters
or ``[UNK]`` for words and BPE: it never raises. Character vocabularies are ours; word and BPE
use the `tokenizers` library, and their saved JSON is that library's own format, so
``tokenizers.Tokenizer.from_file`` loads it too.

The kinds:

- ``char``: one token per character.
- ``word``: words split at whitespace and punctuation, and every character of a script written
  without spaces (Chinese, Japanese kana, Thai...: `seqcli.data.scripts`) a word of its own.
  Runs trained before that rule keep their own splitting: it is saved in their JSON.
- ``bpe``: byte-level BPE (GPT-2's): its alphabet is the 256 bytes, so it spells any text, but
  a Chinese character is three bytes and a model may emit bytes that are no valid UTF-8.
- ``bpe-char``: BPE whose alphabet is the training text's characters (and the newline), with
  the same pre-tokenization as ``bpe``; a character never seen in training is ``[UNK]``. It
  decodes back to exactly the text it encoded (spaces, tabs and newlines included) when every
  character is in its vocabulary.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from seqcli.atomic import write_text
from seqcli.data.scripts import OWN_WORD_PATTERN, join_words
from seqcli.errors import CheckpointError, DataError

PAD, UNK = "[PAD]", "[UNK]"
PAD_ID, UNK_ID = 0, 1
UNKNOWN_CHAR = "\ufffd"
# GPT-2's pre-tokenization, as the library's ByteLevel pre-tokenizer applies it: contractions,
# letters, digits and other symbols, each run with the space before it; trailing whitespace.
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LIBRARY_KINDS = ("word", "bpe", "bpe-char")


@runtime_checkable
class Tokenizer(Protocol):
    kind: str

    @property
    def vocab_size(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    def encode_batch_words(self, texts: list[str]) -> tuple[list[list[int]], list[list[str]]]:
        ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where each token of `encode(text)` sits in `text`: (start, end) offsets."""
        ...

    def to_json(self) -> str: ...


class CharTokenizer:
    """One id per Unicode code point seen in training (any script), most frequent first."""

    kind = "char"

    def __init__(self, chars: Sequence[str]):
        if len(set(chars)) != len(chars) or any(len(c) != 1 for c in chars):
            raise DataError("character vocabulary must hold distinct single characters")
        self.chars = [PAD, UNK, *chars]
        self._ids = {c: i for i, c in enumerate(self.chars) if i > UNK_ID}

    @classmethod
    def train(cls, texts: Iterable[str]) -> "CharTokenizer":
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text)
        if not counts:
            raise DataError("cannot build a character vocabulary from empty text")
        return cls([c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))])

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        ids = self._ids
        return [ids.get(c, UNK_ID) for c in text]

    def encode_batch_words(self, texts: list[str]) -> tuple[list[list[int]], list[list[str]]]:
        """Ids and each token's text (here: its character), as LibraryTokenizer gives them."""
        return [self.encode(t) for t in texts], [list(t) for t in texts]

    def decode(self, ids: Sequence[int]) -> str:
        chars = self.chars
        return "".join(UNKNOWN_CHAR if i == UNK_ID else ("" if i == PAD_ID else chars[i])
                       for i in ids)

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [(i, i + 1) for i in range(len(text))]

    def unknown(self, text: str) -> list[str]:
        """Characters of `text` that the vocabulary lacks (for warnings, not errors)."""
        return sorted({c for c in text if c not in self._ids})

    def to_json(self) -> str:
        return json.dumps({"kind": "char", "version": 1, "vocab": self.chars[2:]},
                          ensure_ascii=False)


class LibraryTokenizer:
    """Word-level or BPE tokens from the `tokenizers` library."""

    def __init__(self, backend, kind: str):
        # Text that happens to read "[PAD]" or "[UNK]" is text, not our special ids (the
        # library would otherwise turn it into padding). Not saved in the JSON: set on load.
        backend.encode_special_tokens = True
        self.backend = backend
        self.kind = kind
        # Word tokens that split unsegmented scripts (a Sequence of pre-tokenizers, where
        # older runs have Whitespace alone) decode without spaces between such characters.
        self.script_words = kind == "word" and \
            type(backend.pre_tokenizer).__name__ == "Sequence"

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        return self.backend.encode(_no_surrogates(text), add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        texts = [_no_surrogates(t) for t in texts]
        return [e.ids for e in self.backend.encode_batch(texts, add_special_tokens=False)]

    def encode_batch_words(self, texts: list[str]) -> tuple[list[list[int]], list[list[str]]]:
        """Ids and, parallel to them, each token's text as written (an unknown word's id
        reads [UNK], its text does not: subword features need it)."""
        texts = [_no_surrogates(t) for t in texts]
        encodings = self.backend.encode_batch(texts, add_special_tokens=False)
        return ([e.ids for e in encodings],
                [[t[start:end] for start, end in e.offsets] for t, e in zip(texts, encodings)])

    def decode(self, ids: Sequence[int]) -> str:
        if self.script_words:
            tokens = (self.backend.id_to_token(i) for i in ids)
            return join_words([t for t in tokens if t is not None])
        return self.backend.decode(list(ids), skip_special_tokens=False)

    def spans(self, text: str) -> list[tuple[int, int]]:
        return list(self.backend.encode(_no_surrogates(text), add_special_tokens=False).offsets)

    def unknown(self, text: str) -> list[str]:
        text = _no_surrogates(text)
        encoding = self.backend.encode(text, add_special_tokens=False)
        # The words as the user wrote them (the token itself reads "[UNK]").
        return sorted({text[start:end] for (start, end), i in zip(encoding.offsets, encoding.ids)
                       if i == UNK_ID})

    def to_json(self) -> str:
        return self.backend.to_str()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(text: str) -> str:
    """Lone surrogates (undecodable bytes smuggled in by argv's surrogateescape) are not
    characters; the `tokenizers` library refuses them, so they become U+FFFD, as unknown."""
    return _SURROGATE.sub(UNKNOWN_CHAR, text)


def train_tokenizer(kind: str, texts: Iterable[str], *, vocab_size: int = 8000,
                    min_frequency: int = 1, lowercase: bool = False) -> Tokenizer:
    """Fit a tokenizer on training texts only (never on validation data)."""
    if kind == "char":
        return CharTokenizer.train((t.lower() for t in texts) if lowercase else texts)
    if kind in LIBRARY_KINDS:
        return _train_library(kind, texts, vocab_size, min_frequency, lowercase)
    raise DataError(f"unknown tokenizer {kind!r} (choose char, {', '.join(LIBRARY_KINDS)})")


def _train_library(kind: str, texts: Iterable[str], vocab_size: int, min_frequency: int,
                   lowercase: bool) -> LibraryTokenizer:
    from tokenizers import Regex
    from tokenizers import Tokenizer as Backend
    from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

    specials = [PAD, UNK]
    if kind == "word":
        backend = Backend(models.WordLevel(unk_token=UNK))
        backend.pre_tokenizer = word_pre_tokenizer()
        trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                            special_tokens=specials, show_progress=False)
    else:
        backend = Backend(models.BPE(unk_token=UNK))
        if kind == "bpe":
            backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            backend.decoder = decoders.ByteLevel()
            alphabet = pre_tokenizers.ByteLevel.alphabet()
        else:  # the text's own characters, every one kept (limit_alphabet unset)
            backend.pre_tokenizer = pre_tokenizers.Split(Regex(GPT2_PATTERN), "isolated")
            backend.decoder = decoders.Fuse()  # tokens hold their spaces: concatenate them
            alphabet = ["\n"]  # language-model text is trained on line by line
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                      special_tokens=specials, show_progress=False,
                                      initial_alphabet=alphabet)
    if lowercase:
        backend.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    backend.encode_special_tokens = True  # as LibraryTokenizer does: "[PAD]" in text is text
    backend.train_from_iterator(texts, trainer=trainer)
    if backend.token_to_id(PAD) != PAD_ID or backend.token_to_id(UNK) != UNK_ID:
        raise DataError("tokenizer training did not reserve [PAD]=0 and [UNK]=1")
    if backend.get_vocab_size() <= 2:
        raise DataError("tokenizer training found no tokens (is the text empty?)")
    return LibraryTokenizer(backend, kind)


def word_pre_tokenizer():
    r"""How new word tokenizers split text: every character of a script written without
    spaces alone (`seqcli.data.scripts`), then the library's Whitespace rule
    (``\w+|[^\w\s]+``) as before, so Latin text splits exactly as older runs split it."""
    from tokenizers import Regex, pre_tokenizers

    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(OWN_WORD_PATTERN), behavior="isolated"),
        pre_tokenizers.Whitespace()])


def tokenizer_from_json(text: str) -> Tokenizer:
    """Rebuild any tokenizer from its saved JSON (ours for char, the library's otherwise)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CheckpointError(f"tokenizer JSON is corrupt: {err}") from None
    if isinstance(data, dict) and data.get("kind") == "char":
        vocab = data.get("vocab")
        if not isinstance(vocab, list) or not all(isinstance(c, str) for c in vocab):
            raise CheckpointError("character tokenizer JSON has no valid 'vocab' list")
        return CharTokenizer(vocab)
    try:
        from tokenizers import Tokenizer as Backend

        backend = Backend.from_str(text)
        model_type = data["model"]["type"]
    except Exception as err:  # the library raises plain Exceptions for malformed JSON
        raise CheckpointError(f"tokenizer JSON is not a valid tokenizer: {err}") from None
    if model_type == "WordLevel":
        return LibraryTokenizer(backend, "word")
    if model_type == "BPE":  # byte-level (every run before bpe-char) or over characters
        byte_level = (data.get("decoder") or {}).get("type") == "ByteLevel"
        return LibraryTokenizer(backend, "bpe" if byte_level else "bpe-char")
    raise CheckpointError(f"unsupported tokenizer model {model_type!r}")


def save_tokenizer(tokenizer: Tokenizer, path: Path) -> None:
    write_text(path, tokenizer.to_json())


def load_tokenizer(path: Path) -> Tokenizer:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CheckpointError(f"cannot read tokenizer {path}: {err}") from None
    try:
        return tokenizer_from_json(text)
    except (CheckpointError, DataError) as err:
        raise CheckpointError(f"{path}: {err}") from None
