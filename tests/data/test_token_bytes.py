"""Token bytes: which tokenizers spell bytes, and the bytes each of their tokens stands for."""

from tokenizers import Tokenizer as Backend
from tokenizers import models, pre_tokenizers, trainers

from seqcli.data.token_bytes import BYTE_OF, is_byte_level, token_bytes
from seqcli.data.tokenizers import LibraryTokenizer, train_tokenizer

# Our own text: Chinese with ASCII and punctuation, plus characters whose UTF-8 starts with the
# lead bytes that narrow the next byte (E0: Thai, ED: Hangul, F0: emoji, F4: plane 16).
ZH = ("循环神经网络把上一步的隐藏状态传给下一步。长短期记忆网络用门控制细胞状态，"
      "遗忘门决定保留多少旧的信息，输入门决定写入多少新的信息。"
      "我们在中文笔记上训练语言模型，然后生成文本：每个样本都必须是合法的文本。"
      "The LSTM reads one token at a time. กข 한국어 😀 \U00100000 好的！\n")


def bpe_over_characters(texts: list[str]) -> LibraryTokenizer:
    """A BPE whose alphabet is the text's characters (no ByteLevel pre-tokenizer or decoder)."""
    backend = Backend(models.BPE(unk_token="[UNK]"))
    backend.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=200, special_tokens=["[PAD]", "[UNK]"], show_progress=False))
    return LibraryTokenizer(backend, "bpe")


def test_the_alphabet_is_the_libraries_and_spells_every_byte():
    assert set(BYTE_OF) == set(pre_tokenizers.ByteLevel.alphabet())
    assert sorted(BYTE_OF.values()) == list(range(256))
    spelled = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    assert bytes(BYTE_OF[c] for c in spelled.pre_tokenize_str(ZH)[0][0]) == ZH.encode()


def test_byte_level_tokens_give_back_the_texts_bytes():
    tok = train_tokenizer("bpe", [ZH] * 4, vocab_size=320)
    spelled = token_bytes(tok)
    assert len(spelled) == tok.vocab_size and spelled[:2] == [b"[PAD]", b"[UNK]"]
    assert b"".join(spelled[i] for i in tok.encode(ZH)) == ZH.encode()
    assert any(0x80 <= data[0] <= 0xBF for data in spelled[2:])  # pieces of characters


def test_byte_level_is_read_from_the_tokenizer_not_its_kind():
    """char and word tokens are whole characters; so is a BPE over characters, kind "bpe"."""
    assert is_byte_level(train_tokenizer("bpe", [ZH], vocab_size=300))
    for tok in (train_tokenizer("char", [ZH]), train_tokenizer("word", [ZH]),
                bpe_over_characters([ZH] * 4)):
        assert not is_byte_level(tok) and token_bytes(tok) is None
