"""The one token-colouring view: scales, contrast, the text kept as written, terminal cells and
a page that reads in light and dark colour schemes."""

import re

from rich.cells import cell_len
from rich.console import Console

from seqcli.token_view import (DARK, LIGHT, NEGATIVE, POSITIVE, Scale, aligned, blend,
                               html_page, html_text, ink, palette, pieces, terminal_text)


def test_diverging_and_sequential_scales_share_one_palette():
    diverging, gates = Scale(2.0), Scale(1.0, sequential=True, below="closed", above="open")
    assert diverging.intensity(1.0) == 0.5 and diverging.intensity(-9) == -1.0
    assert gates.intensity(-0.5) == 0.0 and gates.intensity(0.25) == 0.25
    assert diverging.rgb(0.0) == LIGHT and diverging.rgb(2.0) == POSITIVE
    assert diverging.rgb(-2.0) == NEGATIVE and gates.rgb(1.0) == POSITIVE
    assert Scale(0.0).intensity(1.0) == 0.0 and Scale().intensity(float("nan")) == 0.0
    assert "purple" in diverging.legend() and "closed" in gates.legend()


def test_ink_is_chosen_for_contrast():
    assert ink(POSITIVE) == ink(NEGATIVE) == ink(DARK) == "white"
    assert ink(LIGHT) == ink(blend(POSITIVE, 0.2, LIGHT)) == "black"


def test_pieces_keep_the_gaps_and_show_shared_characters_once():
    text = "not   great!中"
    spans = [(0, 3), (6, 11), (12, 13), (12, 13)]  # byte-level BPE: two tokens, one character
    assert pieces(text, spans) == [("not", 0), ("   ", None), ("great", 1), ("!", None),
                                   ("中", 2)]


def test_the_terminal_text_reads_as_written_and_columns_align_in_cells():
    text = "他说 hello"
    line = terminal_text(text, [(0, 1), (1, 2), (3, 8)], [1.0, -1.0, 0.1], Scale())
    assert line.plain == text
    styles = [span.style for span in line.spans]
    assert str(styles[0].color.name) == "white" and str(styles[2].color.name) == "black"
    rows = aligned([("'他说'", "+0.1000"), ("'ab'", "-0.2000"), ("'x'", "+1.0000")])
    columns = {cell_len(row.split("+")[0].split("-")[0]) for row in rows.splitlines()}
    assert len(columns) == 1  # the values start in the same terminal column
    console = Console(width=40, record=True, color_system="truecolor")
    console.print(line)
    assert "他说 hello" in console.export_text()


def test_the_page_is_self_contained_escaped_and_reads_in_both_schemes():
    text = '<b>"你好"</b> & world'
    spans = [(3, 7), (12, 13), (14, 19)]
    block = html_text(text, spans, [1.0, 0.0, -0.05], Scale(), ['a "title"', "b", "c"])
    assert 'lang="zh"' in block and "&lt;b&gt;" in block and "<b>" not in block
    assert 'title="a &quot;title&quot;"' in block
    assert 'class="lw dw"' in block  # full colour: white ink in either scheme
    assert 'class="lb dw"' in block  # faint: black ink on a light page, white on a dark one
    assert html_text("plain words", [(0, 5)], [0.5], Scale(), ["x"]).count('lang=""') == 1
    page = html_page("run <1> & 2", block)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "prefers-color-scheme:dark" in page and "color-scheme" in page
    assert "run &lt;1&gt; &amp; 2" in page and not re.search(r"(src|href)=", page)


def test_the_palette_a_page_colours_with_is_this_scale():
    """seqcli serve's page colours tokens in the browser from `palette()`: the same colours,
    backgrounds and, at each opacity, the ink `html_text` gives a token of that value."""
    shades = palette(steps=100)
    assert (shades["positive"], shades["negative"]) == (POSITIVE, NEGATIVE)
    assert (shades["light"], shades["dark"]) == (LIGHT, DARK)
    values = [1.0, -0.1, 0.5, -0.9, 0.02]
    block = html_text("abcde", [(k, k + 1) for k in range(5)], values, Scale(), [""] * 5)
    drawn = re.findall(r'class="l(.) d(.)"', block)
    for value, (light, dark) in zip(values, drawn):
        sign, step = ("positive" if value >= 0 else "negative"), round(abs(value) * 100)
        assert (shades["ink"]["light"][sign][step], shades["ink"]["dark"][sign][step]) \
            == (light, dark)
    assert {ink for pair in drawn for ink in pair} == {"b", "w"}  # both inks are exercised
