"""Where the wide side starts: naive Bayes, calibrated on the selection slice.

The wide side (seqcli/classify/wide.py) is a linear model over a text's binary n-gram
indicators. Trained from zero at the classifier's learning rate it needs a minute or more of a
slow CPU to be worth anything, and trained faster it overfits the training phrases. Naive
Bayes gives a good linear model over the same indicators in one counting pass: each bucket's
weight for class c is log P(bucket | c) with add-alpha smoothing (Wang and Manning's NBSVM
builds on the same log-count ratios), centred over the classes (the softmax does not see a
constant per bucket). The wide side starts there, so the classifier reads texts as naive Bayes
does from its first step and the recurrent side learns what naive Bayes gets wrong.

Naive Bayes is over-confident (it adds up correlated evidence as if it were independent), so
the weights are scaled by the one factor that minimises the cross-entropy of the scaled
naive-Bayes logits on the selection slice, texts the weights were not counted from. A scale near
zero means naive Bayes does not help on this data, and the wide side then starts near zero.
"""

from __future__ import annotations

import math

import torch

from seqcli.classify.wide import WideTable

ALPHA = 1.0  # add-one smoothing of the bucket counts, as NBSVM
MAX_SCALE = 4.0


def naive_bayes_weights(table: WideTable, labels: torch.Tensor, num_classes: int,
                        buckets: int, alpha: float = ALPHA) -> torch.Tensor:
    """[buckets, classes] centred log P(bucket | class) from the texts of `table` with these
    class indices; 0 for buckets no text holds (and for bucket 0, the padding)."""
    per_text = table.offsets[1:] - table.offsets[:-1]
    classes = labels.repeat_interleave(per_text)
    counts = torch.zeros(buckets, num_classes, dtype=torch.float64)
    counts.index_put_((table.buckets.long(), classes), torch.ones(classes.numel(),
                      dtype=torch.float64), accumulate=True)
    seen = counts.sum(1) > 0
    seen[0] = False
    totals = counts[seen].sum(0) + alpha * int(seen.sum())  # [C]
    log_p = torch.log(counts + alpha) - torch.log(totals)
    weights = log_p - log_p.mean(1, keepdim=True)
    weights[~seen] = 0.0
    return weights.float()


def text_logits(table: WideTable, weights: torch.Tensor) -> torch.Tensor:
    """[N, C]: each text's sum of its buckets' weights (the wide side's logits)."""
    per_text = table.offsets[1:] - table.offsets[:-1]
    texts = torch.arange(per_text.numel()).repeat_interleave(per_text)
    logits = torch.zeros(per_text.numel(), weights.shape[1], dtype=weights.dtype)
    return logits.index_add_(0, texts, weights[table.buckets.long()])


def calibrated_scale(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The factor in [0, MAX_SCALE] that minimises the mean cross-entropy of scale x logits
    (convex in the scale: golden-section search finds it to 1e-4)."""
    logits, labels = logits.double(), labels.long()

    def loss(scale: float) -> float:
        return torch.nn.functional.cross_entropy(scale * logits, labels).item()

    low, high = 0.0, MAX_SCALE
    ratio = (math.sqrt(5) - 1) / 2
    while high - low > 1e-4:
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if loss(a) <= loss(b):
            high = b
        else:
            low = a
    return round((low + high) / 2, 4)


def naive_bayes_start(train: WideTable, train_labels: torch.Tensor, held_out: WideTable,
                      held_out_labels: torch.Tensor, num_classes: int,
                      buckets: int) -> tuple[torch.Tensor, dict[str, float]]:
    """The wide side's starting weights [buckets, classes] and what the run records of them:
    the scale and naive Bayes' accuracy on the held-out texts."""
    weights = naive_bayes_weights(train, train_labels, num_classes, buckets)
    logits = text_logits(held_out, weights)
    scale = calibrated_scale(logits, held_out_labels) if len(held_out_labels) else 1.0
    accuracy = (logits.argmax(1) == held_out_labels).double().mean().item() \
        if len(held_out_labels) else float("nan")
    return scale * weights, {"scale": scale, "held_out_accuracy": round(accuracy, 4)}
