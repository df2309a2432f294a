"""Figures draw with no display and are written atomically."""

from seqcli.figures import pyplot, save_figure

from tests.training.test_curves import png_size


def test_a_figure_is_saved_whole_with_no_display(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(3, 2))
    axes.plot([0, 1], [1, 0])
    save_figure(figure, tmp_path / "a.png")
    assert png_size(tmp_path / "a.png") == (300, 200)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temporary left behind
