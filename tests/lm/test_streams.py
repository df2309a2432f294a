"""Streamed language-model data equals the whole-text path: same split, tokenizer and ids."""

import dataclasses

import pytest
import torch

from seqcli.config import RunConfig, default_config
from seqcli.data.ids import char_ids, count_chars, ids_tensor
from seqcli.data.text import read_text
from seqcli.data.tokenizers import CharTokenizer, train_tokenizer
from seqcli.lm import prepare as lm_prepare
from seqcli.lm import streams as lm_data
from seqcli.lm.batches import split_text
from seqcli.locations import Locations

LINES = ["ΣΊΣΥΦΟΣ ΚΑΙ ΟΔΥΣΣΕΥΣ", "The Time Traveller smiled.", "naïve café — “quoted”",
         "tabs\tand   spaces", "", "ΚΌΣΜΟΣ", "a" * 90]


def write_corpus(tmp_path, *, crlf: bool = False, bom: bool = False):
    text = "\n".join(LINES[(k * 7) % len(LINES)] + f" {k}" for k in range(300)) + "\n"
    data = text.replace("\n", "\r\n") if crlf else text
    path = tmp_path / "corpus.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return path


def whole_text(path, tokenizer_kind, lowercase, val_fraction=0.1):
    """What seqcli did before streaming: read, lower-case, split, encode in blocks."""
    text = read_text(path)
    text = text.lower() if lowercase else text
    train, val = split_text(text, val_fraction)
    tok = train_tokenizer(tokenizer_kind, [train] if tokenizer_kind == "char" else train.splitlines(),
                          vocab_size=300)
    encode = lambda t: ids_tensor(lm_data.encode_chunks(tok, t), tok.vocab_size)  # noqa: E731
    return tok, encode(train), encode(val)


def config_for(path, kind, lowercase) -> RunConfig:
    run = default_config("lm")
    data = dataclasses.replace(run.data, corpus=str(path), tokenizer=kind, lowercase=lowercase,
                               vocab_size=300, seq_len=8, batch_size=4)
    return dataclasses.replace(run, data=data)


@pytest.mark.parametrize("lowercase", [False, True])
@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
@pytest.mark.parametrize("crlf,bom", [(False, False), (True, True)])
def test_streamed_preparation_equals_whole_text(tmp_path, monkeypatch, kind, lowercase, crlf, bom):
    monkeypatch.setattr(lm_data, "CHUNK_CHARS", 97)  # many blocks, cut mid-line
    path = write_corpus(tmp_path, crlf=crlf, bom=bom)
    tok, train, val = whole_text(path, kind, lowercase)
    prepared = lm_prepare.prepare_lm(config_for(path, kind, lowercase), Locations(tmp_path, None, tmp_path / "cache"), None, None)
    assert prepared.tokenizer.to_json() == tok.to_json()
    assert torch.equal(prepared.task.batches.ids, train) and train.dtype == prepared.task.batches.ids.dtype
    assert torch.equal(prepared.task.val_ids, val)
    assert prepared.meta["train_tokens"] == train.numel()


def test_given_tokenizer_is_used_as_is(tmp_path):
    path = write_corpus(tmp_path)
    tok = CharTokenizer(list("abc "))
    prepared = lm_prepare.prepare_lm(config_for(path, "char", False), Locations(tmp_path, None, tmp_path / "cache"), tok, None)
    assert prepared.tokenizer is tok
    assert prepared.task.batches.ids.max() <= tok.vocab_size - 1


def test_char_counting_and_table_encoding_match_the_tokenizer():
    pieces = ["hello wörld\n", "", "ΣΣ 😀 zz\n", "hel"]
    counted = count_chars(pieces)
    assert counted.to_json() == CharTokenizer.train(["".join(pieces)]).to_json()
    text = "".join(pieces) + "never seen: ж"
    ids = char_ids(counted, [text[:5], text[5:]], len(text))
    assert ids.dtype == torch.uint8 and ids.tolist() == counted.encode(text)


def test_pieces_end_at_newlines_and_rechunk_reproduces_encode_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(lm_data, "CHUNK_CHARS", 50)
    path = write_corpus(tmp_path)
    pieces = list(lm_data.text_pieces(path))
    assert all(p.endswith("\n") for p in pieces[:-1]) and "".join(pieces) == read_text(path)
    text = "".join(pieces)
    tok = CharTokenizer(sorted(set(text)))
    expected = [tok.decode(ids) for ids in lm_data.encode_chunks(tok, text)]
    assert list(lm_data.rechunk(iter(pieces))) == expected


def test_a_line_longer_than_eight_chunks_is_cut_but_nothing_is_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(lm_data, "CHUNK_CHARS", 10)
    text = " ".join(f"Word{k}" for k in range(3000)) + "\nEND"  # > the 8 KiB first read
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    pieces = list(lm_data.text_pieces(path, lowercase=True))
    assert len(pieces) > 2 and "".join(pieces) == text.lower()
