import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Regex, pre_tokenizers

from seqcli.data.scripts import (OWN_WORD_PATTERN, is_ideograph, is_own_word, is_unspaced,
                                 join_words, language_hint, own_words)


@pytest.mark.parametrize("char", ["我", "們", "々", "〇", "㐀", "𠀀", "𪚥", "丽", "あ", "の",
                                  "ก", "า", "ສ", "ក", "က"])
def test_letters_of_unsegmented_scripts_are_words_of_their_own(char):
    assert is_own_word(char)
    assert is_unspaced(char)


@pytest.mark.parametrize("char", ["a", "Z", "é", "1", "٣", "๓", "-", " ", "\n", "한", "ア",
                                  "ー", "，", "。", "Ａ", "😀", "\u0e48", "\u17d2"])
def test_other_characters_are_not(char):
    # Latin, digits (Thai ones too), Hangul (spaced), Katakana (runs are loanwords),
    # punctuation, emoji and combining marks (Thai tone mark, Khmer coeng) start no word.
    assert not is_own_word(char)


def test_is_own_word_takes_one_character_only():
    assert not is_own_word("我们") and not is_own_word("") and not is_unspaced("")


@pytest.mark.parametrize("char", ["，", "。", "「", "ア", "ー", "ｱ", "Ａ", "\u0e48"])
def test_punctuation_kana_and_marks_need_no_space(char):
    assert is_unspaced(char)


@pytest.mark.parametrize("char", ["a", "1", ",", "😀", "한", " "])
def test_latin_emoji_and_hangul_are_spaced(char):
    assert not is_unspaced(char)


def test_own_words_keep_combining_marks_with_their_letter():
    text = "ก่อน 我们 the"
    assert [text[a:b] for a, b in own_words(text)] == ["ก่", "อ", "น", "我", "们"]


def test_join_words_spaces_only_between_spaced_words():
    assert join_words(["我", "们", "坐", "在"]) == "我们坐在"
    assert join_words(["the", "film", "is", "good"]) == "the film is good"
    assert join_words(["我", "爱", "Python", "和", "C", "，", "good", "film", "😀"]) == \
        "我爱Python和C，good film 😀"
    assert join_words(["日", "本", "の", "テキスト"]) == "日本のテキスト"
    assert join_words(["a", "", "b"]) == "a b" and join_words([]) == ""


def test_the_pattern_reads_the_same_in_the_tokenizers_library():
    # Python's re and the library's Oniguruma must agree: tokenizer.json saves the pattern.
    text = "时间𠀀旅行ก่อนの the テキスト，ສະບາຍ 々〇 ကြ ១២ abc"
    split = pre_tokenizers.Split(Regex(OWN_WORD_PATTERN), behavior="isolated")
    pieces = split.pre_tokenize_str(text)
    library = [span for piece, span in pieces if own_words(piece) == [(0, len(piece))]]
    assert library == own_words(text)
    assert "".join(piece for piece, _ in pieces) == text


def test_ideographs_are_the_han_words_and_language_hints_name_the_script():
    assert is_ideograph("我") and is_ideograph("𪚥") and is_ideograph("々")
    assert not is_ideograph("あ") and not is_ideograph("ก") and not is_ideograph("a")
    assert language_hint("日本のテキスト") == "ja" and language_hint("한국어") == "ko"
    assert language_hint("我们") == "zh" and language_hint("the film") == ""


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="时间旅行者々〇𠀀あのアーกา่ำ\u0e48ສ\u0ec8ក\u17d2ကြ한abc Z1,，。 \n😀", max_size=30))
def test_python_and_the_library_always_agree_on_the_words(text):
    split = pre_tokenizers.Split(Regex(OWN_WORD_PATTERN), behavior="isolated")
    pieces = split.pre_tokenize_str(text)
    assert "".join(piece for piece, _ in pieces) == text
    library = [span for piece, span in pieces if own_words(piece) == [(0, len(piece))]]
    assert library == own_words(text)
    assert all(is_own_word(text[a]) for a, _ in own_words(text))
