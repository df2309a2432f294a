"""Run an exported file on real inputs and compare it with the run's own PyTorch model.

An exporter can be silently wrong (ONNX exporters have mistranslated GRU's reset gate before;
a graph traced at one length may only be right at that length), so no export is reported
done before its file has
computed, on the inputs of samples.py, what the run's model computes: the model in its own
form (fused or scratch), fp32 on the CPU, called as ``seqcli generate`` calls it (the prime with
no state, then one token per step with the state carried) and as ``seqcli classify`` calls it
(padded batches with their lengths). Every output is compared, logits and states; a difference
beyond ``ATOL + RTOL * |value|`` (torch.allclose's rule) or a non-finite value is an
ExportError, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from seqcli.classify.batches import EncodedTexts
from seqcli.data.tokenizers import Tokenizer
from seqcli.errors import ExportError
from seqcli.export.samples import STEPS, classifier_batches, lm_primes

ATOL, RTOL = 1e-4, 1e-4  # fp32 against fp32: observed errors are 1e-8 to 1e-6
Runner = Callable[[tuple[Tensor, ...]], list[Tensor]]


@dataclass
class Checker:
    """Compares reference and exported outputs, keeping the largest error seen."""

    max_abs_error: float = 0.0
    cases: list[str] = field(default_factory=list)
    outputs: int = 0

    def compare(self, what: str, names: tuple[str, ...], reference: list[Tensor],
                exported: list[Tensor]) -> None:
        if len(exported) != len(reference):
            raise ExportError(f"the exported model returns {len(exported)} outputs, "
                              f"PyTorch {len(reference)}, on {what}; nothing was written")
        for name, ref, got in zip(names, reference, exported):
            self._one(f"{name} of {what}", ref, got.to(ref.dtype))
        self.cases.append(what)

    def _one(self, what: str, ref: Tensor, got: Tensor) -> None:
        if got.shape != ref.shape:
            raise ExportError(f"the exported model gives {what} the shape {list(got.shape)}, "
                              f"PyTorch {list(ref.shape)}; nothing was written")
        error = (got - ref).abs().max().item() if ref.numel() else 0.0
        if not torch.isfinite(got).all() or not torch.allclose(got, ref, rtol=RTOL, atol=ATOL):
            raise ExportError(f"the exported model does not match PyTorch on {what}: max "
                              f"|error| {error:.3g} (tolerance {ATOL:g} + {RTOL:g} * |value|); "
                              f"nothing was written")
        self.max_abs_error = max(self.max_abs_error, error)
        self.outputs += 1

    def report(self) -> dict:
        return {"max_abs_error": self.max_abs_error, "atol": ATOL, "rtol": RTOL,
                "outputs_compared": self.outputs, "cases": self.cases}


def _call(run: Runner, inputs: tuple[Tensor, ...], what: str) -> list[Tensor]:
    """The exported model's outputs; a runtime failure (a shape it cannot take...) is the
    export's failure, in one line."""
    try:
        return run(inputs)
    except Exception as err:  # onnxruntime and TorchScript raise their own exception types
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
        raise ExportError(f"the exported model fails on {what}: {first}; nothing was "
                          f"written") from None


def _flat(state) -> list[Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


@torch.no_grad()
def verify_language_model(model: nn.Module, run: Runner, tokenizer: Tokenizer,
                          names: tuple[str, ...]) -> dict:
    """Each prime from zero states, then STEPS greedy steps, each side carrying its own state."""
    checker = Checker()
    for ids in lm_primes(tokenizer):
        rows, length = ids.shape
        logits, state = model(ids, None)
        prime = f"a {rows}x{length} prime"
        exported = _call(run, (ids, *(torch.zeros_like(s) for s in _flat(state))), prime)
        checker.compare(prime, names, [logits, *_flat(state)], exported)
        for step in range(1, STEPS + 1):
            token = logits[:, -1].argmax(-1, keepdim=True)  # [B, 1], fed to both
            logits, state = model(token, state)
            what = f"step {step} after {prime}"
            exported = _call(run, (token, *exported[1:]), what)
            checker.compare(what, names, [logits, *_flat(state)], exported)
    return checker.report()


@torch.no_grad()
def verify_classifier(model: nn.Module, run: Runner, data: EncodedTexts,
                      names: tuple[str, ...]) -> dict:
    """Padded batches of mixed lengths (samples.py), fed as prediction feeds them."""
    checker = Checker()
    for indices in classifier_batches(data):
        ids, lengths, _, ngrams, wide = data.batch(indices)
        logits, _ = model(ids, lengths, ngrams, wide)
        inputs = (ids, lengths, *(t for t in (ngrams, wide) if t is not None))
        what = f"a batch of {len(indices)} (lengths {lengths.tolist()})"
        checker.compare(what, names, [logits], _call(run, inputs, what))
    return checker.report()
