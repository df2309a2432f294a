"""A completion's text released as it grows, with each token's record beside it."""

from seqcli.server.stream import RowStream


def test_holdback_keeps_back_what_a_stop_could_begin_in():
    stream = RowStream("", holdback=1)  # longest stop: 2 characters
    assert stream.push("a", {"k": 0}) == ("", [])
    assert stream.push("b", {"k": 1}) == ("a", [{"offset": 0, "k": 0}])
    stream.add("\n", {"k": 2})  # the token that completes the stop is never pushed
    assert stream.finish("ab") == ("b", [{"offset": 1, "k": 1}])


def test_a_token_cut_by_a_stop_inside_it_is_reported_with_its_visible_part():
    stream = RowStream("", holdback=1)
    assert stream.push(" the", None) == (" th", [])
    stream.add(" traveller", {"k": 1})  # stop "ll" inside the token
    text, records = stream.finish(" the trave")
    assert text == "e trave" and records == [{"offset": 0}, {"offset": 4, "k": 1}]


def test_echo_prefix_and_a_final_text_longer_than_the_pieces():
    stream = RowStream("pr", holdback=0)
    assert stream.push("", {"k": 0}) == ("pr", [{"offset": 2, "k": 0}])  # partial UTF-8
    text, records = stream.finish("pr\u00e9")  # the full decode completes the character
    assert text == "\u00e9" and records == []
