"""`--precision auto`: bf16 only where the hardware computes in bf16; explicit bf16 where kernels exist."""

import pytest
import torch

from seqcli import device
from seqcli.errors import DeviceError

CPU = torch.device("cpu")


def fake_cpu(monkeypatch, *, kernels: bool, native: bool):
    monkeypatch.setattr(device, "cpu_supports_bf16", lambda: kernels)
    monkeypatch.setattr(device, "cpu_computes_bf16", lambda: native)


def test_auto_picks_bf16_on_cpus_with_bf16_arithmetic(monkeypatch):
    fake_cpu(monkeypatch, kernels=True, native=True)  # AMX / AVX-512 BF16
    assert device.select_precision("auto", CPU) == "bf16"


def test_auto_stays_fp32_where_bf16_is_only_emulated(monkeypatch):
    fake_cpu(monkeypatch, kernels=True, native=False)  # AVX-512 without BF16
    assert device.select_precision("auto", CPU) == "fp32"
    assert device.select_precision("bf16", CPU) == "bf16"  # still allowed when asked for


def test_bf16_is_refused_without_kernels(monkeypatch):
    fake_cpu(monkeypatch, kernels=False, native=False)  # AVX2 (oneDNN's bf16 LSTM fails)
    assert device.select_precision("auto", CPU) == "fp32"
    with pytest.raises(DeviceError, match="bf16"):
        device.select_precision("bf16", CPU)


def test_this_machine_is_consistent():
    auto = device.select_precision("auto", CPU)
    assert auto == ("bf16" if device.cpu_supports_bf16() and device.cpu_computes_bf16() else "fp32")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_auto_follows_compute_capability():
    gpu = torch.device("cuda")
    expected = "bf16" if torch.cuda.get_device_capability()[0] >= 8 else "fp32"
    assert device.select_precision("auto", gpu) == expected


def test_ieee_fp32_turns_tf32_off_and_restores_every_switch():
    """cuDNN's RNNs run in TF32 by default: compared passes must not (inspect's self-check)."""
    torch.set_float32_matmul_precision("high")  # a caller that allowed TF32 in matmuls
    try:
        with device.ieee_fp32():
            assert not torch.backends.cudnn.allow_tf32
            assert torch.get_float32_matmul_precision() == "highest"
        assert torch.backends.cudnn.allow_tf32
        assert torch.get_float32_matmul_precision() == "high"
    finally:
        torch.set_float32_matmul_precision("highest")
    rnn = getattr(torch.backends.cudnn, "rnn", None)
    if rnn is None or not hasattr(rnn, "fp32_precision"):
        return  # torch < 2.9: no per-operation switches
    old = rnn.fp32_precision
    rnn.fp32_precision, conv = "tf32", torch.backends.cudnn.conv.fp32_precision
    torch.backends.cudnn.conv.fp32_precision = "ieee"  # the newer API, mixed: old one unreadable
    try:
        with device.ieee_fp32():
            assert rnn.fp32_precision == "ieee"
        assert rnn.fp32_precision == "tf32"
    finally:
        rnn.fp32_precision, torch.backends.cudnn.conv.fp32_precision = old, conv
