"""The one place that decides where tensors live and at what precision.

`auto` means: the fastest device present (CUDA, then Apple MPS, then CPU) and the fastest
precision that is safe there. Two questions are kept apart:

* is bf16 *supported* (an explicit ``--precision bf16`` is accepted)? On a CPU when oneDNN has
  bf16 kernels (any AVX-512 CPU: without them its LSTM kernels fail, e.g. on AVX2); on CUDA
  when torch says so;
* is bf16 *faster* (``auto`` picks it)? Only where the hardware computes in bf16: CPUs with
  AMX-BF16 or AVX-512 BF16, and GPUs of compute capability 8.0 or newer (Ampere on). An AVX-512
  CPU without BF16 converts to fp32 around every kernel and a pre-Ampere GPU emulates bf16:
  both accept it and run no faster, so ``auto`` stays in fp32 there.

bf16 keeps fp32's exponent range, so autocast needs no loss scaling and training stays
stable (`seqcli bench train --quality-steps N` compares validation loss with fp32). fp16 needs
a gradient scaler, so it is only chosen when asked for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from seqcli.errors import DeviceError


@dataclass(frozen=True)
class Placement:
    device: torch.device
    precision: str  # "fp32" | "bf16" | "fp16"

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)

    def autocast(self) -> contextlib.AbstractContextManager:
        """Mixed-precision context for forward passes (a no-op for fp32)."""
        dtype = self.autocast_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    def describe(self) -> str:
        name = self.device.type
        if self.device.type == "cuda":
            name = f"cuda ({torch.cuda.get_device_name(self.device)})"
        return f"{name}, {self.precision}"


def cpu_supports_bf16() -> bool:
    """True when oneDNN has bf16 kernels on this CPU (else its LSTM kernels fail)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_computes_bf16() -> bool:
    """True when the CPU has bf16 arithmetic in hardware (AMX-BF16 or AVX-512 BF16)."""
    try:
        capabilities = torch.cpu.get_capabilities()
    except (AttributeError, RuntimeError):
        return False
    return bool(capabilities.get("amx_bf16") or capabilities.get("avx512_bf16"))


def select_device(requested: str = "auto") -> torch.device:
    """Resolve "auto" | "cpu" | "cuda[:N]" | "mps" to a present device, or explain why not."""
    name = requested.lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError("--device cuda requested but no CUDA GPU is available "
                              "(use --device auto or cpu)")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"--device {name}: only {torch.cuda.device_count()} GPU(s) present")
        return device
    if name == "mps":
        if not _mps_available():
            raise DeviceError("--device mps requested but Apple MPS is not available here")
        return torch.device("mps")
    raise DeviceError(f"--device must be auto, cpu, cuda or mps; got {requested!r}")


def select_precision(requested: str, device: torch.device) -> str:
    """Resolve "auto" | "fp32" | "bf16" | "fp16" for a device, refusing unsupported choices."""
    if requested == "fp32":
        return "fp32"
    bf16_ok = _bf16_supported(device)
    if requested == "auto":
        return "bf16" if bf16_ok and bf16_is_faster(device) else "fp32"
    if requested == "bf16":
        if not bf16_ok:
            raise DeviceError(f"--precision bf16 is not supported on this {device.type} "
                              "(use fp32 or auto)")
        return "bf16"
    if requested == "fp16":
        if device.type not in ("cuda", "mps"):
            raise DeviceError("--precision fp16 needs a GPU; on a CPU use bf16 or fp32")
        return "fp16"
    raise DeviceError(f"--precision must be auto, fp32, bf16 or fp16; got {requested!r}")


def place(device: str = "auto", precision: str = "auto") -> Placement:
    resolved = select_device(device)
    return Placement(resolved, select_precision(precision, resolved))


def bf16_is_faster(device: torch.device) -> bool:
    """Whether bf16 autocast beats fp32 here (hardware bf16; see the module docstring)."""
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        return cpu_computes_bf16()
    return False


def _bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return cpu_supports_bf16()
    return False


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


@contextlib.contextmanager
def ieee_fp32() -> Iterator[None]:
    """fp32 arithmetic as written, without TF32, for results compared across implementations:
    cuDNN's RNNs run in TF32 by default on Ampere and newer GPUs (a 10-bit mantissa), so a
    replay of the same weights in fp32 would differ from them by far more than rounding.
    Matmuls too, should the caller have allowed TF32 there. Restored after."""
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    with _switched(lambda: cudnn.allow_tf32, lambda v: setattr(cudnn, "allow_tf32", v), False,
                   getattr(cudnn, "rnn", None)), \
            _switched(torch.get_float32_matmul_precision, torch.set_float32_matmul_precision,
                      "highest", matmul):
        yield


@contextlib.contextmanager
def _switched(get: Callable[[], Any], put: Callable[[Any], None], value: Any,
              modern: object | None) -> Iterator[None]:
    """Torch's long-standing switch (`get`/`put`) at `value` for the block; where flags were set
    through torch's newer per-operation API (>= 2.9: reading the old switch then raises),
    ``modern.fp32_precision = "ieee"`` instead. Untouched when already so; restored after."""
    try:
        old = get()
    except RuntimeError:
        old, value = modern.fp32_precision, "ieee"  # type: ignore[union-attr]
        get, put = (lambda: modern.fp32_precision,  # type: ignore[union-attr]
                    lambda v: setattr(modern, "fp32_precision", v))
    if old == value:
        yield
        return
    put(value)
    try:
        yield
    finally:
        put(old)
