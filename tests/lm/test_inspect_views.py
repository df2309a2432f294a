"""Colour scales and the self-contained HTML page of seqcli inspect."""

import re

from seqcli.lm.inspect import Inspection
from seqcli.lm.inspect_views import colour, html_page, ink, legend, scale_of


def test_gates_are_sequential_and_states_diverging():
    assert colour(0.0, "forget") == (255, 255, 255) and colour(1.0, "forget")[1] > \
        colour(1.0, "forget")[0]
    assert colour(0.0, "hidden") == (255, 255, 255)
    red, blue = colour(0.9, "hidden"), colour(-0.9, "hidden")
    assert red[0] == 255 and red[2] < 100 and blue[2] == 255 and blue[0] < 100
    assert scale_of("cell", [0.5, -3.0]) == 3.0 and scale_of("hidden", [0.5]) == 1.0
    assert "green" in legend("input") and "blue" in legend("cell")


def test_html_is_one_page_with_values_on_hover():
    inspection = Inspection(["<", "a", "\n"], "lstm", 1, "hidden", {4: [0.5, -0.25, 0.0]},
                            {"in_quotes": [(4, 0.9)]})
    page = html_page(inspection, "run & test")
    assert page.startswith("<!DOCTYPE html>") and "run &amp; test" in page
    assert not re.search(r"(src|href)=", page)  # no external assets
    assert page.count('title="') == 3 and 'title="-0.2500"' in page and "&lt;" in page
    assert "unit 4 (r = +0.90)" in page


def test_text_stays_readable_on_dark_backgrounds():
    assert ink(colour(-1.0, "hidden")) == "white" and ink(colour(0.1, "hidden")) == "black"
