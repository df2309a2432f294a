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


@pytest.mark.parametrize("kind", ["word", "bpe", "bpe-char"])
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
    assert tok.decode(tok.encode("the film is good")) == "the film is good"
    if kind == "word":
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


NOTES = ["时间旅行者看着桌上的小机器。", "我们坐在吸烟室里，听他讲 LSTM 的故事！",
         "The Time Traveller smiled:\tit's 2 o'clock.", "  indented  twice  ", "门 = sigmoid(x)"]


def test_bpe_char_round_trips_spaces_tabs_and_newlines_exactly():
    tok = train_tokenizer("bpe-char", NOTES, vocab_size=120)
    assert tok.kind == "bpe-char"
    text = "\n".join(NOTES) + "\n\n"  # newlines never seen: lines are trained one by one
    ids = tok.encode(text)
    assert UNK_ID not in ids
    assert tok.decode(ids) == text
    assert "".join(text[a:b] for a, b in tok.spans(text)) == text


def test_bpe_char_alphabet_is_the_texts_characters():
    tok = train_tokenizer("bpe-char", NOTES, vocab_size=30)  # fewer than the characters
    vocab = tok.backend.get_vocab()
    assert set("".join(NOTES)) <= set(vocab)  # every character kept, beyond --vocab-size
    assert "Ġ" not in vocab and "æ" not in vocab  # no byte symbols
    ids = tok.encode("龙时")  # a character never seen is unknown, not bytes of others
    assert ids[0] == UNK_ID and ids[1] != UNK_ID
    assert tok.unknown("龙时间") == ["龙"]


def test_bpe_char_merges_characters_of_unsegmented_text():
    tok = train_tokenizer("bpe-char", ["时间旅行者。时间旅行者！时间"] * 4, vocab_size=40)
    assert len(tok.encode("时间旅行者")) < 5


def test_byte_level_bpe_json_loads_as_bpe_and_char_bpe_as_bpe_char():
    byte = train_tokenizer("bpe", NOTES, vocab_size=300)
    chars = train_tokenizer("bpe-char", NOTES, vocab_size=120)
    assert tokenizer_from_json(byte.to_json()).kind == "bpe"
    again = tokenizer_from_json(chars.to_json())
    assert again.kind == "bpe-char"
    assert again.decode(again.encode(NOTES[1])) == NOTES[1]


def test_word_tokens_of_chinese_are_characters_and_latin_words_stay_whole():
    tok = train_tokenizer("word", NOTES, vocab_size=500)
    ids, words = tok.encode_batch_words(["我们坐在吸烟室里，听他讲 LSTM 的故事！"])
    assert words[0] == ["我", "们", "坐", "在", "吸", "烟", "室", "里", "，", "听", "他", "讲",
                        "LSTM", "的", "故", "事", "！"]
    assert UNK_ID not in ids[0]
    assert tok.encode("吸烟")[0] == tok.encode("吸")[0]  # a character is one known word


def test_word_tokens_of_latin_text_split_as_before():
    from tokenizers import pre_tokenizers

    english = "It's a good film... really -- 10/10, (don't) miss it! café naïve 😀 x_y"
    old = [piece for piece, _ in pre_tokenizers.Whitespace().pre_tokenize_str(english)]
    tok = train_tokenizer("word", [english])
    assert tok.encode_batch_words([english])[1][0] == old


def test_word_tokens_of_chinese_decode_without_spaces():
    tok = train_tokenizer("word", NOTES, vocab_size=500)
    text = "我们坐在吸烟室里，听他讲 LSTM 的故事！"
    assert tok.decode(tok.encode(text)) == "我们坐在吸烟室里，听他讲LSTM的故事！"
    assert tok.decode(tok.encode("The Time Traveller smiled")) == "The Time Traveller smiled"


def _old_word_tokenizer(texts):
    """A word tokenizer as seqcli built them before scripts were split: Whitespace alone."""
    from tokenizers import Tokenizer as Backend
    from tokenizers import models, pre_tokenizers, trainers

    backend = Backend(models.WordLevel(unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.train_from_iterator(texts, trainer=trainers.WordLevelTrainer(
        special_tokens=["[PAD]", "[UNK]"], show_progress=False))
    return backend


def test_old_word_runs_load_and_split_as_they_were_trained():
    backend = _old_word_tokenizer(NOTES)
    tok = tokenizer_from_json(backend.to_str())
    assert tok.kind == "word" and not tok.script_words
    text = "我们坐在吸烟室里，听他讲 LSTM 的故事！"
    ids = tok.encode(text)
    assert ids == backend.encode(text).ids
    assert tok.spans(text)[0] == (0, 8)  # the clause-long word it learnt
    assert tok.decode(ids) == backend.decode(ids) == "我们坐在吸烟室里 ， 听他讲 LSTM 的故事 ！"
