"""The properties `seqcli inspect --top` correlates units with: computed on the characters of
the text as written, given to tokens of any kind, reported only where they vary."""

from seqcli.data.tokenizers import train_tokenizer
from seqcli.lm.properties import PROPERTIES, informative, token_properties


def chars(text):
    return [(i, i + 1) for i in range(len(text))]


def show(values, name):
    return "".join(str(int(v)) for v in values[name])


def test_quotes_brackets_columns_words_and_lines():
    text = 'He "a (b)" c\nd'
    values = token_properties(text, chars(text))
    assert set(values) == set(PROPERTIES) and all(len(v) == len(text) for v in values.values())
    assert show(values, "in_quotes") == "000111111100" + "00"
    assert show(values, "in_brackets") == "000000111000" + "00"
    assert show(values, "word_start") == "100010010001" + "01"
    assert show(values, "after_newline") == "000000000000" + "01"  # the start is no break
    assert values["line_position"][:3] == [0, 1, 2] and values["line_position"][-1] == 0


def test_word_tokens_keep_what_the_tokenizer_drops():
    """A word model's tokens: [UNK] is the word it stands for (no bracket), and the spaces and
    line breaks between tokens still count."""
    tok = train_tokenizer("word", ["the (time) machine"])
    text = "the zyzzyva (time)\n  machine"
    assert tok.decode(tok.encode(text)).count("[UNK]") == 1
    values = token_properties(text, tok.spans(text))
    assert values["in_brackets"] == [0, 0, 1, 1, 1, 0]
    assert values["word_start"] == [1, 1, 0, 1, 0, 1]
    assert values["after_newline"] == [0, 0, 0, 0, 0, 1]
    assert values["line_position"][-1] == 2


def test_a_bpe_token_is_taken_at_its_first_character_that_is_not_a_space():
    tok = train_tokenizer("bpe", ["the time the time the time\n"] * 5, vocab_size=280)
    text = "the time\nthe time"
    spans = tok.spans(text)
    assert any(text[s:e] == " time" for s, e in spans)
    values = token_properties(text, spans)
    starts = [text[s:e] for (s, e), v in zip(spans, values["word_start"]) if v]
    assert [w.strip() for w in starts] == ["the", "time", "the", "time"]
    assert sum(values["after_newline"]) == 1


def test_chinese_ideographs_are_words_and_its_quotes_and_brackets_count():
    text = "他说“你好（世界）”和「再见」ok"
    values = token_properties(text, chars(text))
    assert show(values, "word_start") == "11" + "0" + "11" + "0" + "11" + "00" + "1" + "0" + \
        "11" + "0" + "10"
    assert show(values, "in_quotes") == "00" + "1" * 8 + "0" + "1" * 4 + "00"
    assert show(values, "in_brackets") == "00" + "0" + "00" + "1111" + "0" + "0" + "0000" + "00"


def test_only_properties_that_vary_enough_are_reported():
    one_line = 'He said "hi" (once) and left.'
    values = informative(token_properties(one_line, chars(one_line)))
    assert "after_newline" not in values  # never set on one line
    assert {"in_quotes", "in_brackets", "word_start", "line_position"} <= set(values)
    single = informative(token_properties("abc (b c", chars("abc (b c")))
    assert "in_brackets" in single  # 4 characters from "(" on
    assert "in_brackets" not in informative(token_properties("abc(", chars("abc(")))
