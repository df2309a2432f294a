"""TorchScript: trace an export graph to bytes, and load such bytes back to run them.

Traced, not scripted: the graphs (wrappers.py) are straight-line code over torch.nn's sequence
operators, and tracing records their shape arithmetic (``x.shape[0]`` for the zero state,
``arange(T)`` for the masks) as operations, so the file takes any batch and length; the
verification runs it at several of both to prove that. torch marks ``torch.jit`` deprecated in
favour of torch.export, but TorchScript files are still what C++ (libtorch) and older
runtimes load; its warnings are silenced here because the verification, not the tracer, says
whether the file is right.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import torch
from torch import Tensor, nn

from seqcli.errors import ExportError
from seqcli.export.wrappers import GraphSpec

Runner = Callable[[tuple[Tensor, ...]], list[Tensor]]


def torchscript_bytes(graph: nn.Module, spec: GraphSpec) -> bytes:
    """The traced graph, saved as torch.jit.save writes it."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # TracerWarning, DeprecationWarning: see the docstring
        try:
            traced = torch.jit.trace(graph, spec.example, check_trace=False)
        except Exception as err:  # the tracer raises several types; each ends the export
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
            raise ExportError(f"torch.jit.trace cannot trace this model: {first}") from None
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
    return buffer.getvalue()


def torchscript_runner(data: bytes, spec: GraphSpec) -> Runner:
    """Inputs in `spec.inputs` order -> outputs in `spec.outputs` order, from the saved bytes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = torch.jit.load(io.BytesIO(data), map_location="cpu").eval()

    def run(inputs: tuple[Tensor, ...]) -> list[Tensor]:
        with torch.no_grad():
            result = module(*inputs)
        return list(result) if isinstance(result, (tuple, list)) else [result]

    return run
