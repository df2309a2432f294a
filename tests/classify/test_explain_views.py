"""explain's views, drawn with the shared token-colouring view: green toward, purple against,
ink chosen for contrast, the text kept as written, Chinese aligned and tagged."""

from rich.cells import cell_len
from rich.text import Text

from seqcli.classify.explain import Explanation
from seqcli.classify.explain_views import html_page, scale_of, terminal_view
from seqcli.token_view import NEGATIVE, POSITIVE


def _explanation(text="not   great!", tokens=None):
    tokens = tokens or [{"token": "not", "start": 0, "end": 3, "score": -0.5},
                        {"token": "great", "start": 6, "end": 11, "score": 1.0}]
    return Explanation(text, "positive", 0.8, "positive", tokens, 0.01)


def test_colours_by_sign_and_share_of_the_largest():
    scale = scale_of(_explanation())
    assert scale.rgb(1.0) == POSITIVE and scale.rgb(-1.0) == NEGATIVE
    assert scale.intensity(-0.5) == -0.5 and scale.intensity(0.0) == 0.0
    zero = _explanation(tokens=[{"token": "not", "start": 0, "end": 3, "score": 0.0}])
    assert scale_of(zero).intensity(0.0) == 0.0  # all scores zero: no colour, no error


def test_the_text_is_kept_as_written_and_dark_colours_get_light_ink():
    heading, line = terminal_view(_explanation(), plain=False)
    assert "scores toward positive" in heading and isinstance(line, Text)
    assert line.plain == "not   great!"
    assert {str(span.style.color.name) for span in line.spans} == {"white", "black"}


def test_the_page_shows_every_token_with_its_score():
    page = html_page([_explanation()], "t")
    assert 'title="not: -0.5000"' in page and "rgba(27,120,55,1.000)" in page
    assert "completeness gap 0.01" in page and ">not</span>   <span" in page


def test_chinese_scores_align_in_cells_and_the_page_says_chinese():
    text = "这部电影很好"
    tokens = [{"token": c, "start": i, "end": i + 1, "score": 0.1 * i} for i, c in
              enumerate(text)]
    _, rows = terminal_view(_explanation(text, tokens), plain=True)
    assert len({cell_len(row[:row.index("+")]) for row in rows.splitlines()}) == 1
    assert 'lang="zh"' in html_page([_explanation(text, tokens)], "t")
