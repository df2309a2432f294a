"""memory.json and memory.png: written whole, never over an earlier result, two panels."""

import json

import pytest

from seqcli.errors import OverwriteError
from seqcli.experiments import MemoryConfig, MemoryResult, Trial, memory_outputs
from seqcli.experiments.memory_outputs import draw_memory, output_folder, relative, save_memory

from tests.training.test_curves import png_size


def _result():
    config = MemoryConfig(cells=("rnn", "gru"), distances=(5, 10))
    trials = [Trial("rnn", 5, 1.0, 0.1), Trial("rnn", 10, 0.5, 0.1),
              Trial("gru", 5, 1.0, 0.1), Trial("gru", 10, 1.0, 0.1)]
    norms = {"rnn": [2.0 * 0.1 ** k for k in range(12)], "gru": [1e-4] * 12}
    return MemoryResult(config, trials, norms)


def test_the_picture_has_the_two_panels(tmp_path, monkeypatch):
    drawn = []
    monkeypatch.setattr(memory_outputs, "save_figure", lambda figure, dest: drawn.append(figure))
    draw_memory(_result(), tmp_path / "memory.png")
    left, right = drawn[0].axes
    assert left.get_ylabel() == "held-out accuracy" and right.get_yscale() == "log"
    assert [line.get_label() for line in left.lines] == ["RNN (tanh)", "GRU", "chance"]
    assert list(left.lines[0].get_ydata()) == [1.0, 0.5]
    assert list(right.lines[0].get_ydata())[:3] == pytest.approx([1.0, 0.1, 0.01])
    assert list(right.lines[1].get_ydata()) == [1.0] * 12  # relative to k = 0


def test_files_are_real_and_never_written_over(tmp_path):
    folder = output_folder(tmp_path / "exp", tmp_path / "runs")
    document, picture = save_memory(_result(), folder)
    assert png_size(picture) == (1100, 450)
    assert json.loads(document.read_text())["accuracy"]["rnn"] == {"5": 1.0, "10": 0.5}
    with pytest.raises(OverwriteError, match="memory.json already exists; add --force"):
        output_folder(folder, tmp_path / "runs")
    assert output_folder(folder, tmp_path / "runs", overwrite=True) == folder
    fresh = output_folder(None, tmp_path / "runs")
    assert fresh.parent == tmp_path / "runs" and fresh.name.startswith("memory-")


def test_relative_norms_survive_a_zero_first_value():
    assert relative([0.0, 1.0]) == [1e-30, 1.0]
    assert relative([4.0, 2.0, 0.0]) == [1.0, 0.5, 1e-30]
