"""Classification as a trainer `Task`: bucketed batches, (weighted) cross-entropy, accuracy/F1.

The protocol is the one in seqcli/training/task.py; the trainer never learns that it is
training a classifier. No recurrent state is carried between batches (each text starts from
zeros), so `train_loss` returns None for the state.

Adversarial training (``adversarial`` > 0; Miyato, Dai and Goodfellow 2017) adds the loss on
each batch's embeddings moved a small step in the direction that raises the loss most (to first
order). The model cannot lean on any one direction of a word vector, which regularises the
embeddings of rare words, the weak point of a classifier trained from scratch on a small corpus.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from seqcli.classify.batches import Batch, BucketedBatches, EncodedTexts
from seqcli.classify.predict import predict_logits
from seqcli.data.tokenizers import PAD_ID, UNK_ID
from seqcli.device import Placement
from seqcli.training.metrics import classification_report, confusion_matrix


def inverse_frequency_weights(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """`--class-weights auto`: n / (classes * count), so every class weighs the same in total.

    A class absent from the training data gets weight 0 rather than infinity.
    """
    counts = torch.bincount(labels, minlength=num_classes).double()
    weights = torch.where(counts > 0, len(labels) / (num_classes * counts.clamp(min=1)),
                          torch.zeros_like(counts))
    return weights.float()


class ClassifyTask:
    """Texts -> class; best checkpoint and early stopping on validation accuracy (or macro-F1)."""

    name, monitor_mode, item_name = "classify", "max", "texts"

    def __init__(self, train: EncodedTexts, val: EncodedTexts, labels: Sequence[str], *,
                 batch_size: int, seed: int = 0, class_weights: torch.Tensor | None = None,
                 word_dropout: float = 0.0, adversarial: float = 0.0,
                 monitor: str = "val_accuracy", test: EncodedTexts | None = None,
                 trace_test: bool = False):
        self.batches = BucketedBatches(train, batch_size, seed)
        self.val, self.labels = val, list(labels)
        self.test, self.trace_test = test, trace_test  # see classify/splits.py for the test set
        self.class_weights = class_weights
        self.word_dropout = word_dropout
        self.adversarial = adversarial
        self.monitor = monitor
        self.rank, self.world_size = 0, 1

    def batches_per_epoch(self) -> int:
        return len(self.batches)

    def train_batches(self, epoch: int, start: int) -> Iterator[tuple[Batch, float]]:
        """Each batch (this rank's share of it) and the weight that makes the ranks' averaged
        gradient that of the whole batch: share size x ranks / batch size."""
        for indices in self.batches.order(epoch)[start:]:
            share, weight = rank_share(indices, self.rank, self.world_size)
            yield self.batches.data.batch(share), weight

    def shard(self, rank: int, world_size: int) -> None:
        self.rank, self.world_size = rank, world_size

    def train_loss(self, model: torch.nn.Module, batch: tuple[Batch, float], state: Any,
                   placement: Placement) -> tuple[torch.Tensor, None, int]:
        (x, lengths, y, ngrams, wide), weight = batch
        if self.word_dropout > 0:  # whole tokens become [UNK]: no single word is relied on
            # A dropped word keeps its n-grams: that is exactly how an unseen word reads.
            dropped = (torch.rand(x.shape) < self.word_dropout) & (x != PAD_ID)
            x = x.masked_fill(dropped, UNK_ID)
        x, y = x.to(placement.device, non_blocking=True), y.to(placement.device)
        ngrams, wide = (None if t is None else t.to(placement.device, non_blocking=True)
                        for t in (ngrams, wide))
        embedded = model.embed(x, ngrams)
        loss = self._loss(model.classify_embedded(embedded, lengths, wide), y)
        if self.adversarial > 0:  # the wide side reads no embedding: only the deep one moves
            delta = adversarial_perturbation(loss, embedded, self.adversarial)
            loss = loss + self._loss(model.classify_embedded(embedded + delta, lengths, wide), y)
        return loss * weight, None, y.numel() if weight else 0

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        weight = None if self.class_weights is None else self.class_weights.to(y.device)
        return F.cross_entropy(logits.float(), y, weight=weight)

    def evaluate(self, model: torch.nn.Module, placement: Placement) -> dict[str, float]:
        """All the validation texts: a selection slice is small (SST-2's: 689 texts, about
        1% of the time between two evaluations), so there is no sample to take."""
        return self._score(model, self.val, placement, "val")

    def final_evaluation(self, model: torch.nn.Module, placement: Placement) -> dict[str, float]:
        """The test set, scored once with the kept weights (absent: nothing to add)."""
        if self.test is None:
            return {}
        return {**self._score(model, self.test, placement, "test"), "test_texts": len(self.test)}

    def final_cost(self) -> float:
        return len(self.test) / max(1, len(self.val)) if self.test is not None else 0.0

    def trace(self, model: torch.nn.Module, placement: Placement) -> dict[str, float]:
        """--trace-test: the test set at every evaluation too, for anytime curves."""
        if not self.trace_test or self.test is None:
            return {}
        return self._score(model, self.test, placement, "test")

    def _score(self, model: torch.nn.Module, data: EncodedTexts, placement: Placement,
               split: str) -> dict[str, float]:
        logits = predict_logits(model, data, placement)
        targets = data.labels
        loss = F.cross_entropy(logits, targets).item()
        report = classification_report(
            confusion_matrix(targets, logits.argmax(1), len(self.labels)), self.labels)
        return {f"{split}_loss": loss, f"{split}_accuracy": report["accuracy"],
                f"{split}_macro_f1": report["macro_f1"]}


def rank_share(indices: list[int], rank: int, world_size: int) -> tuple[list[int], float]:
    """This rank's contiguous share of a batch's texts and its weight (see train_batches).

    A batch with fewer texts than ranks leaves some ranks without a text: they run one text
    at weight 0, so that every rank takes part in every step.
    """
    n = len(indices)
    share = indices[rank * n // world_size:(rank + 1) * n // world_size]
    if not share:
        return indices[:1], 0.0
    return share, len(share) * world_size / n


def adversarial_perturbation(loss: torch.Tensor, embedded: torch.Tensor,
                             size: float) -> torch.Tensor:
    """The loss gradient at the embeddings [B, T, E], scaled per text to `size` times that
    text's embedding norm (a constant, no gradient flows through it).

    A size relative to the embeddings keeps one setting meaningful whatever their scale; the
    padding's embeddings and gradients are zero, so only real tokens move.
    """
    grad, = torch.autograd.grad(loss, embedded, retain_graph=True)
    grad = grad.detach().float()
    grad_norm = grad.flatten(1).norm(dim=1).clamp_min(1e-12)
    scale = size * embedded.detach().float().flatten(1).norm(dim=1) / grad_norm
    return (grad * scale.view(-1, 1, 1)).to(embedded.dtype)
