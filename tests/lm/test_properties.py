"""The properties `seqcli inspect --top` correlates units with."""

from seqcli.lm.properties import PROPERTIES, text_properties


def test_quotes_brackets_columns_words_and_lines():
    text = 'He "a (b)" c\nd'
    values = text_properties(list(text))
    assert set(values) == set(PROPERTIES) and all(len(v) == len(text) for v in values.values())
    show = lambda name: "".join(str(int(v)) for v in values[name])  # noqa: E731
    assert show("in_quotes") == "000111111100" + "00"
    assert show("in_brackets") == "000000111000" + "00"
    assert show("word_start") == "100010010001" + "01"
    assert show("after_newline") == "100000000000" + "01"
    assert values["line_position"][:3] == [0, 1, 2] and values["line_position"][-1] == 0


def test_word_tokens_take_their_first_character():
    values = text_properties(["(", "hello", " ", "world", ")"])
    assert values["in_brackets"] == [1, 1, 1, 1, 1] and values["word_start"] == [0, 1, 0, 1, 0]
