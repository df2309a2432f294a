"""A wrong export is an error, and leaves nothing that looks like a model behind."""

import pytest
import torch

from seqcli.errors import ExportError
from seqcli.export import exporter, onnx_file
from seqcli.export.verify import ATOL, Checker
from seqcli.export.wrappers import ClassifierGraph, LanguageModelStep


@pytest.mark.parametrize("suffix", ["pt", "onnx"])
def test_a_classifier_export_off_by_a_little_is_refused(run_factory, tmp_path, monkeypatch,
                                                        suffix):
    if suffix == "onnx":
        pytest.importorskip("onnxruntime")
    run = run_factory("classify", cell="lstm", bidirectional=True, subwords=16)
    original = ClassifierGraph.forward
    monkeypatch.setattr(ClassifierGraph, "forward",
                        lambda self, *inputs: original(self, *inputs) + 10 * ATOL)
    out = tmp_path / "out" / f"model.{suffix}"
    with pytest.raises(ExportError, match=r"does not match PyTorch on logits of a batch of "
                                          r"\d+ \(lengths \[.*nothing was written"):
        exporter.export_run(run, out)
    assert list(out.parent.iterdir()) == []  # no model, no sidecars, no temp files


def test_a_language_model_whose_carried_state_drifts_is_refused(run_factory, tmp_path,
                                                                monkeypatch):
    run = run_factory("lm", cell="lstm", layers=2)
    original = LanguageModelStep.forward

    def drifting(self, ids, h0, c0=None):
        logits, h, c = original(self, ids, h0, c0)
        return logits, h, c + 10 * ATOL

    monkeypatch.setattr(LanguageModelStep, "forward", drifting)
    with pytest.raises(ExportError, match="does not match PyTorch on cn of a 3x9 prime"):
        exporter.export_run(run, tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


def test_a_gru_read_with_the_other_reset_formula_is_caught(run_factory, tmp_path, monkeypatch):
    """The exporters' known slip: GRU's linear_before_reset. Flip it in the written graph."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    real = onnx_file.onnx_bytes

    def flipped(graph, spec, opset):
        model = onnx.load_from_string(real(graph, spec, opset))
        grus = [node for node in model.graph.node if node.op_type == "GRU"]
        assert grus
        for node in grus:
            for attribute in node.attribute:
                if attribute.name == "linear_before_reset":
                    attribute.i = 0
        return model.SerializeToString()

    monkeypatch.setitem(exporter.WRITERS, "onnx", (flipped, onnx_file.onnx_runner))
    with pytest.raises(ExportError, match="does not match PyTorch on logits of a 3x9 prime"):
        exporter.export_run(run_factory("lm", cell="gru"), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("suffix", ["pt", "onnx"])
def test_a_runtime_failure_is_one_line(run_factory, tmp_path, monkeypatch, suffix):
    if suffix == "onnx":
        pytest.importorskip("onnxruntime")
    fmt = {"pt": "torchscript", "onnx": "onnx"}[suffix]
    to_bytes, to_runner = exporter.WRITERS[fmt]

    def fixed_length(data, spec):  # as if the time axis had been fixed to the example's
        run = to_runner(data, spec)
        return lambda inputs: run(inputs) if inputs[0].shape[1] == 9 else 1 / 0

    monkeypatch.setitem(exporter.WRITERS, fmt, (to_bytes, fixed_length))
    with pytest.raises(ExportError, match="the exported model fails on step 1 after a 3x9 "
                                          "prime: division by zero; nothing was written"):
        exporter.export_run(run_factory("lm", cell="rnn"), tmp_path / f"m.{suffix}")
    assert not (tmp_path / f"m.{suffix}").exists()


def test_an_exporter_failure_is_one_line(run_factory, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")

    def unsupported(*args, **kwargs):
        raise RuntimeError("Exporting the operator 'aten::foo' to ONNX opset 17 is not "
                           "supported.\nPlease feel free to request support")

    monkeypatch.setattr(onnx_file.torch.onnx, "export", unsupported)
    with pytest.raises(ExportError, match=r"^torch.onnx cannot export this model: Exporting "
                                          r"the operator 'aten::foo' .* not supported.$"):
        exporter.export_run(run_factory("classify"), tmp_path / "m.onnx")


def test_checker_rules():
    checker = Checker()
    ref = torch.tensor([[1.0, 2.0]])
    checker.compare("case", ("y",), [ref], [ref + 1e-6])
    assert checker.outputs == 1 and 0 < checker.max_abs_error < 1e-5
    with pytest.raises(ExportError, match=r"gives y of case the shape \[2, 1\], PyTorch \[1, 2\]"):
        checker.compare("case", ("y",), [ref], [ref.t()])
    with pytest.raises(ExportError, match="does not match PyTorch on y of case"):
        checker.compare("case", ("y",), [ref], [torch.tensor([[1.0, float("nan")]])])
    with pytest.raises(ExportError, match="returns 2 outputs, PyTorch 1"):
        checker.compare("case", ("y",), [ref], [ref, ref])
