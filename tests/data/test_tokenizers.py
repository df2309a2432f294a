import json

import pytest
from tokenizers import Tokenizer as LibraryBackend

from seqcli.data.tokenizers import (PAD_ID, UNK_ID, UNKNOWN_CHAR, CharTokenizer,
                                    tokenizer_from_json, train_tokenizer)
from seqcli.errors import CheckpointError, DataError

CHINESE = "时间旅行者看着桌上的小机器。我们坐在吸烟室里听他讲奇怪的故事。"


def test_char_round_trip_any_script():
    text = "Time traveller — café, naïve; " + CHINESE + " Ωμέγα 🙂\n"
    tok = train_tokenizer("char", [text])
    ids = tok.encode(text)
    assert len(ids) == len(text)
    assert tok.decode(ids) == text
    assert PAD_ID not in ids and UNK_ID not in ids


def test_char_unknown_maps_to_unk_and_never_raises():
    tok = train_tokenizer("char", ["abc abc"])
    ids = tok.encode("abz时")
    assert ids[2] == UNK_ID and ids[3] == UNK_ID
    assert tok.decode(ids) == "ab" + UNKNOWN_CHAR * 2
    assert tok.unknown("abz时") == ["z", "时"]


def test_char_json_round_trip():
    tok = train_tokenizer("char", [CHINESE])
    again = tokenizer_from_json(tok.to_json())
    assert isinstance(again, CharTokenizer)
    assert again.encode(CHINESE) == tok.encode(CHINESE)
    assert again.vocab_size == tok.vocab_size


def test_char_vocab_is_ordered_by_frequency():
    tok = train_tokenizer("char", ["aaabbc"])
    assert tok.encode("abc") == [2, 3, 4]


@pytest.mark.parametrize("kind", ["word", "bpe"])
def test_library_tokenizers_round_trip_and_reload(kind, tmp_path):
    texts = ["the film is good", "the film is bad", "a good film", "not a good film"] * 5
    tok = train_tokenizer(kind, texts, vocab_size=200)
    path = tmp_path / "tokenizer.json"
    path.write_text(tok.to_json(), encoding="utf-8")
    backend = LibraryBackend.from_file(str(path))  # the library itself loads our file
    assert backend.encode("the film is good").ids == tok.encode("the film is good")
    again = tokenizer_from_json(path.read_text())
    assert again.kind == kind
    assert again.encode("a bad film") == tok.encode("a bad film")
    if kind == "bpe":
        assert tok.decode(tok.encode("the film is good")) == "the film is good"
    else:
        assert tok.decode(tok.encode("the film is good")) == "the film is good"
        assert tok.encode("zebra")[0] == UNK_ID


def test_bpe_never_produces_unknown_for_new_bytes():
    tok = train_tokenizer("bpe", ["hello world"] * 3, vocab_size=300)
    assert UNK_ID not in tok.encode("héllo 时间")
    assert tok.decode(tok.encode("héllo 时间")) == "héllo 时间"


def test_errors_are_seqcli_errors():
    with pytest.raises(DataError):
        train_tokenizer("char", [""])
    with pytest.raises(DataError):
        train_tokenizer("sentencepiece", ["x"])
    with pytest.raises(CheckpointError):
        tokenizer_from_json("{not json")
    with pytest.raises(CheckpointError):
        tokenizer_from_json(json.dumps({"kind": "char", "vocab": 3}))
    with pytest.raises(CheckpointError):
        tokenizer_from_json(json.dumps({"model": {"type": "Unigram"}}))
