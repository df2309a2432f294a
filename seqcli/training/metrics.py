"""Numbers reported for language models and classifiers."""

from __future__ import annotations

import math

import torch


def perplexity(loss: float) -> float:
    """exp(mean cross-entropy in nats), capped so a diverged run reports inf, not an error."""
    return math.exp(loss) if loss < 700 else float("inf")


def bits(loss: float) -> float:
    """Nats per token -> bits per token (bits per character for a char model)."""
    return loss / math.log(2)


def confusion_matrix(targets: torch.Tensor, predictions: torch.Tensor,
                     num_classes: int) -> torch.Tensor:
    """[true, predicted] counts."""
    index = targets.long() * num_classes + predictions.long()
    return torch.bincount(index, minlength=num_classes * num_classes).view(num_classes, num_classes)


def classification_report(confusion: torch.Tensor, labels: list[str]) -> dict:
    """Accuracy, macro-F1 and per-class precision/recall/F1 from a confusion matrix."""
    confusion = confusion.double()
    total = confusion.sum().item()
    true_pos = confusion.diag()
    predicted = confusion.sum(0)
    actual = confusion.sum(1)
    per_class = {}
    for i, label in enumerate(labels):
        precision = (true_pos[i] / predicted[i]).item() if predicted[i] > 0 else 0.0
        recall = (true_pos[i] / actual[i]).item() if actual[i] > 0 else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1,
                            "support": int(actual[i].item())}
    return {
        "accuracy": true_pos.sum().item() / total if total else 0.0,
        "macro_f1": sum(c["f1"] for c in per_class.values()) / max(1, len(labels)),
        "n": int(total),
        "per_class": per_class,
        "confusion": confusion.long().tolist(),
    }
