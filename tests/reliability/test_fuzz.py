"""hypothesis fuzzing: tokenizers round-trip arbitrary Unicode under their unknown-token policy,
and every reader of user files (labelled data, texts to classify, plain text, config files,
run directories, checkpoints, tokenizer files, the corpus registry) given arbitrary bytes
either works or raises seqcli's own error type, never anything else.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from seqcli.data.tokenizers import (UNK, UNK_ID, UNKNOWN_CHAR, load_tokenizer, tokenizer_from_json,
                                    train_tokenizer)
from seqcli.errors import SeqcliError

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
TRAINING = ["the time traveller looked at the machine", "we sat in the smoking room",
            "café naïve — “quoted” 时间旅行者 🙂", "the film is good", "the film is bad"]

# Any code point, lone surrogates included (undecodable argv bytes arrive as those).
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=60)
FILE_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@pytest.fixture(scope="module")
def tokenizers():
    return {"char": train_tokenizer("char", ["\n".join(TRAINING)]),
            "word": train_tokenizer("word", TRAINING, vocab_size=200),
            "bpe": train_tokenizer("bpe", TRAINING, vocab_size=400)}


def _surrogate_free(text: str) -> str:
    return "".join(UNKNOWN_CHAR if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


@FUZZ
@given(text=ANY_TEXT)
@example(text="a\udcffb")
@example(text="\x00\r\n\t 🙂")
def test_char_tokenizer_round_trips_with_unknowns_as_replacement_char(tokenizers, text):
    tok = tokenizers["char"]
    ids = tok.encode(text)
    assert len(ids) == len(text) and all(0 < i < tok.vocab_size for i in ids)
    known = set(tok.chars[2:])
    assert tok.decode(ids) == "".join(c if c in known else UNKNOWN_CHAR for c in text)
    assert set(tok.unknown(text)) == {c for c in text if c not in known}


@FUZZ
@given(text=ANY_TEXT)
@example(text="zebra \udcff the")
def test_word_tokenizer_round_trips_words_with_unknowns_as_unk(tokenizers, text):
    tok = tokenizers["word"]
    ids = tok.encode(text)
    assert all(0 < i < tok.vocab_size for i in ids)
    words = [w for w, _ in tok.backend.pre_tokenizer.pre_tokenize_str(_surrogate_free(text))]
    vocab = tok.backend.get_vocab()
    expected = [w if w in vocab else UNK for w in words]
    assert tok.decode(ids) == " ".join(expected)
    assert [i == UNK_ID for i in ids] == [w not in vocab for w in words]
    assert set(tok.unknown(text)) == {w for w in words if w not in vocab}


@FUZZ
@given(text=ANY_TEXT)
@example(text="  leading and trailing  \n")
def test_bpe_tokenizer_round_trips_everything_byte_level(tokenizers, text):
    tok = tokenizers["bpe"]
    ids = tok.encode(text)
    assert UNK_ID not in ids and all(0 < i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == _surrogate_free(text)
    assert tok.unknown(text) == []


@settings(max_examples=40, deadline=None, database=None)
@given(texts=st.lists(FILE_TEXT, min_size=1, max_size=6), kind=st.sampled_from(["char", "word", "bpe"]),
       probe=FILE_TEXT)
def test_any_trained_tokenizer_reloads_from_json_and_encodes_the_same(texts, kind, probe):
    try:
        tok = train_tokenizer(kind, texts if kind != "char" else ["".join(texts)], vocab_size=300)
    except SeqcliError:  # empty text: refused with our own error
        assume(False)
    again = tokenizer_from_json(tok.to_json())
    assert again.kind == kind and again.vocab_size == tok.vocab_size
    assert again.encode(probe) == tok.encode(probe)


# --- readers of user files: arbitrary bytes -> a result or seqcli's own error -------------

BYTES = st.one_of(
    st.binary(max_size=400),
    FILE_TEXT.map(lambda t: t.encode("utf-8")),
    st.lists(st.sampled_from([b"text", b"label", b",", b"\t", b"\n", b'"', b"{", b"}", b":",
                              b'"text"', b'"label"', b"pos", b"neg", b"\r", b" ", b"\xff",
                              b"\x00", b"[", b"]", b"1", b"null", b"\xef\xbb\xbf"]),
             max_size=40).map(b"".join),
)


_SCRATCH = Path(tempfile.mkdtemp(prefix="seqcli-fuzz-"))


@pytest.fixture(scope="module", autouse=True)
def _clean_scratch():
    yield
    shutil.rmtree(_SCRATCH, ignore_errors=True)


def _file(data: bytes, name: str) -> Path:
    """`data` as the only file of a fresh scratch folder, named `name`."""
    shutil.rmtree(_SCRATCH / "example", ignore_errors=True)
    folder = _SCRATCH / "example"
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _only_seqcli_errors(call):
    try:
        return call()
    except SeqcliError as err:
        assert "\n" not in str(err), "errors are one line"
        return err


SUFFIXES = st.sampled_from(["data.csv", "data.tsv", "data.jsonl", "data.ndjson", "data.txt"])


@FUZZ
@given(data=BYTES, name=SUFFIXES)
def test_labelled_readers_raise_only_seqcli_errors(data, name):
    from seqcli.data.labelled import read_labelled

    path = _file(data, name)
    result = _only_seqcli_errors(lambda: read_labelled(path))
    if not isinstance(result, SeqcliError):
        assert len(result.texts) == len(result.labels) >= 2
        assert len(set(result.labels)) >= 2 and all(t.strip() for t in result.texts)


@FUZZ
@given(pos=BYTES, neg=BYTES)
def test_paired_label_files_raise_only_seqcli_errors(pos, neg):
    from seqcli.data.labelled import read_labelled

    folder = _file(pos, "reviews.pos").parent
    (folder / "reviews.neg").write_bytes(neg)
    _only_seqcli_errors(lambda: read_labelled(folder))


@FUZZ
@given(data=BYTES, name=SUFFIXES, document=st.booleans())
def test_texts_to_classify_raise_only_seqcli_errors(data, name, document):
    from seqcli.data.inputs import iter_inputs

    path = _file(data, name)
    result = _only_seqcli_errors(lambda: list(iter_inputs([str(path)], document=document)))
    if not isinstance(result, SeqcliError):
        assert all(item.text and item.text == item.text.strip() for item in result)


@FUZZ
@given(data=BYTES, chunk=st.integers(1, 64))
def test_text_reader_returns_text_or_a_data_error(data, chunk):
    from seqcli.data.text import iter_text_chunks, read_text

    path = _file(data, "corpus.txt")
    whole = _only_seqcli_errors(lambda: read_text(path))
    pieces = _only_seqcli_errors(lambda: "".join(iter_text_chunks(path, chunk_chars=chunk)))
    if isinstance(whole, str):
        assert "\r" not in whole and whole.strip()
        if isinstance(pieces, str):
            assert pieces == whole


@FUZZ
@given(data=BYTES)
def test_config_files_raise_only_config_errors(data):
    from seqcli.config import config_from_toml, load_toml
    from seqcli.errors import ConfigError

    path = _file(data, "run.toml")
    try:
        raw = load_toml(path)
        config_from_toml(raw, None)
    except ConfigError:
        pass


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(
                                ["task", "model", "data", "train", "hidden_size", "cell", "lr",
                                 "seq_len", "dropout", "seed", "meta", "labels", "config",
                                 "format_version", "kind", "vocab", "x"]), inner, max_size=5)),
    max_leaves=12)


@FUZZ
@given(raw=JSONISH)
def test_run_config_from_any_json_raises_only_config_errors(raw):
    from seqcli.config import RunConfig
    from seqcli.errors import ConfigError

    try:
        RunConfig.from_dict(raw)
    except ConfigError:
        pass


@FUZZ
@given(document=st.one_of(BYTES, JSONISH.map(lambda d: json.dumps(d).encode())))
def test_run_directory_files_raise_only_checkpoint_errors(document):
    from seqcli import runs
    from seqcli.errors import CheckpointError
    from seqcli.training import checkpoint as ckpt

    path = _file(document, runs.CONFIG_FILE)
    for call in (lambda: runs.read_run_config(path.parent),
                 lambda: runs.resolved_config(path.parent),
                 lambda: ckpt.load_checkpoint(path),
                 lambda: load_tokenizer(path)):
        try:
            call()
        except CheckpointError:
            pass


@settings(max_examples=200, deadline=None, database=None)
@given(raw=JSONISH)
def test_registry_documents_raise_only_data_errors(raw):
    from seqcli.data.registry_file import parse_registry
    from seqcli.errors import DataError

    document = {"schema_version": 1, "corpora": raw if isinstance(raw, list) else [raw]}
    try:
        parse_registry(document)
    except DataError:
        pass
