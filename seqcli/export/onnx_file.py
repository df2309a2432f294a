"""ONNX: write an export graph with torch.onnx, and run such a file in onnxruntime.

Exporter: torch.onnx's TorchScript-based one (``dynamo=False``), chosen by verification. It maps
torch.nn's sequence operators onto ONNX's own RNN, LSTM and GRU operators (GRU with
``linear_before_reset=1``, which is torch's formula), one node per layer and direction, taking
any batch and length: all 18 cells of the matrix (rnn/lstm/gru x language model, classifier
uni- and bidirectional x 1 and 2 layers) verify, with errors of 2e-8 to 3e-7. The
torch.export-based exporter (``dynamo=True``, torch's default since 2.9) was tried on the same
graphs with torch 2.13 and onnxscript 0.7: torch.export specialises the time axis of recurrent
layers to the example's length ("Constraints violated (time)") for 16 of the 18 cells, and the
two that exported (1-layer LSTM and GRU language models) took 2.3 s instead of 0.02 s and
wrote files 3.5 times as large. torch deprecates the TorchScript-based exporter; when it goes,
the verification will say whether its successor is right.

onnx and onnxruntime are optional (the ``export`` extra) and imported when an ONNX
export is asked for, so ``import seqcli`` and the other commands never pay for them.
"""

from __future__ import annotations

import importlib
import io
import warnings
from collections.abc import Callable
from types import ModuleType

import torch
from torch import Tensor, nn

from seqcli.errors import ExportError, UsageError
from seqcli.export.wrappers import GraphSpec

Runner = Callable[[tuple[Tensor, ...]], list[Tensor]]
MIN_OPSET, MAX_OPSET = 14, 20  # tested at both ends; 20 is the TorchScript exporter's newest
DEFAULT_OPSET = 17  # read by onnxruntime >= 1.14 and most other runtimes
# the export extra's packages, named: `seqcli[export]` from a registry would not be this checkout
INSTALL_HINT = "pip install onnx onnxruntime onnxscript (the export extra)"
EXPORTER = "torch.onnx.export(dynamo=False)"


def require_onnx() -> tuple[ModuleType, ModuleType]:
    """The onnx and onnxruntime modules, or one line saying how to install them."""
    try:
        return importlib.import_module("onnx"), importlib.import_module("onnxruntime")
    except ImportError as err:
        raise ExportError(f"ONNX export needs onnx and onnxruntime ({err.name} is not "
                          f"installed): {INSTALL_HINT}") from None


def check_opset(opset: int | None) -> int:
    """The opset to write: DEFAULT_OPSET, or the one asked for when in range."""
    if opset is None:
        return DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, int) or \
            not MIN_OPSET <= opset <= MAX_OPSET:
        raise UsageError(f"--opset must be an integer from {MIN_OPSET} to {MAX_OPSET}; "
                         f"got {opset!r}")
    return opset


def onnx_bytes(graph: nn.Module, spec: GraphSpec, opset: int) -> bytes:
    """The graph as an ONNX model (weights inside), checked by onnx.checker."""
    onnx, _ = require_onnx()
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # The exporter warns about its own deprecation and about recurrent layers with batch
        # sizes other than 1 (our states are inputs, so that does not apply); the
        # verification, not the exporter's warnings, decides whether the file is right.
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(graph, spec.example, buffer, dynamo=False, opset_version=opset,
                              input_names=list(spec.inputs), output_names=list(spec.outputs),
                              dynamic_axes=spec.dynamic_axes())
        except Exception as err:  # torch.onnx raises several types; each is the export's end
            raise ExportError(f"torch.onnx cannot export this model: {first_line(err)}") \
                from None
    data = buffer.getvalue()
    try:
        onnx.checker.check_model(onnx.load_from_string(data))
    except onnx.checker.ValidationError as err:
        raise ExportError(f"torch.onnx wrote an invalid model: {str(err).splitlines()[0]}") \
            from None
    return data


def onnx_runner(data: bytes, spec: GraphSpec) -> Runner:
    """Inputs in `spec.inputs` order -> outputs in `spec.outputs` order, in onnxruntime."""
    _, ort = require_onnx()
    try:
        session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime's own exception types
        raise ExportError(f"onnxruntime cannot load the exported model: {first_line(err)}") \
            from None

    def run(inputs: tuple[Tensor, ...]) -> list[Tensor]:
        feeds = {name: tensor.numpy() for name, tensor in zip(spec.inputs, inputs)}
        return [torch.from_numpy(array) for array in session.run(list(spec.outputs), feeds)]

    return run


def first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:300]


def runtime_version() -> str:
    return f"onnxruntime {require_onnx()[1].__version__}"
