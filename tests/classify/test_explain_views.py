"""explain's colours and page: green toward, red against, the text kept as written."""

from seqcli.classify.explain import Explanation
from seqcli.classify.explain_views import attribution_colour, html_page, pieces


def _explanation():
    tokens = [{"token": "not", "start": 0, "end": 3, "score": -0.5},
              {"token": "great", "start": 6, "end": 11, "score": 1.0}]
    return Explanation("not   great!", "positive", 0.8, "positive", tokens, 0.01)


def test_colours_by_sign_and_share_of_the_largest():
    assert attribution_colour(1.0, 1.0) == (0, 255, 0)
    assert attribution_colour(-0.5, 1.0) == (255, 128, 128)
    assert attribution_colour(0.0, 1.0) == (255, 255, 255)
    assert attribution_colour(0.3, 0.0) == (255, 255, 255)  # all scores zero


def test_pieces_keep_the_gaps_and_the_page_shows_every_token():
    assert [p for p, _ in pieces(_explanation())] == ["not", "   ", "great", "!"]
    page = html_page([_explanation()], "t")
    assert 'title="not: -0.5000"' in page and "rgb(0, 255, 0)" in page
    assert "completeness gap 0.01" in page
