"""seqcli inspect's views: the scale of each signal, the page and the terminal lines, drawn
with the shared token-colouring view."""

import re

from rich.cells import cell_len
from rich.text import Text

from seqcli.lm.inspect import Inspection
from seqcli.lm.inspect_views import html_page, scale_of, terminal_view, top_lines


def inspection(text, spans, values, signal="hidden", direction="left_to_right"):
    return Inspection(text, spans, "lstm", 1, signal, {4: values}, {"in_quotes": [(4, 0.9)]},
                      direction)


def test_gates_are_sequential_and_states_diverging():
    assert scale_of("forget", [0.3]).sequential and not scale_of("hidden", [0.3]).sequential
    assert scale_of("cell", [0.5, -3.0]).limit == 3.0 and scale_of("hidden", [0.5]).limit == 1
    assert "open" in scale_of("input", []).legend() and "max" in scale_of("cell", [1]).legend()


def test_html_is_one_page_with_values_on_hover():
    page = html_page(inspection("<a\n", [(0, 1), (1, 2), (2, 3)], [0.5, -0.25, 0.0]),
                     "run & test")
    assert page.startswith("<!DOCTYPE html>") and "run &amp; test" in page
    assert not re.search(r"(src|href)=", page)  # no external assets
    assert page.count('title="') == 3 and 'title="-0.2500"' in page and "&lt;" in page
    assert "in_quotes: unit 4 (r +0.90)" in page


def test_word_tokens_show_with_their_spacing():
    text = "the time  traveller"
    shown = terminal_view(inspection(text, [(0, 3), (4, 8), (10, 19)], [0.1, 0.2, 0.3]),
                          plain=False)
    assert [s.plain for s in shown if isinstance(s, Text)] == [text]
    assert ">the</span> <span" in html_page(inspection(text, [(0, 3), (4, 8), (10, 19)],
                                                       [0.1, 0.2, 0.3]), "t")


def test_chinese_text_aligns_in_the_terminal_and_is_tagged_on_the_page():
    text = "他说“你好”"
    result = inspection(text, [(i, i + 1) for i in range(len(text))], [0.1] * len(text))
    plain = terminal_view(result, plain=True)[-1]
    starts = {cell_len(line[:line.index("+")]) for line in plain.splitlines()}
    assert len(starts) == 1, plain  # values in one column although 他 takes two cells
    assert 'lang="zh"' in html_page(result, "t")
    assert top_lines(result) == ["in_quotes: unit 4 (r +0.90)"]


def test_a_right_to_left_model_says_so():
    backward = inspection("ab", [(0, 1), (1, 2)], [0.1, 0.2], direction="right_to_left")
    assert "right to left" in terminal_view(backward, plain=True)[0]
    assert "right to left" in html_page(backward, "t")
    assert "right to left" not in html_page(inspection("ab", [(0, 1), (1, 2)], [0, 0]), "t")
