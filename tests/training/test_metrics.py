"""seqcli/training/metrics.py on cases small enough to work out by hand."""

import math

import pytest
import torch

from seqcli.training.metrics import bits, classification_report, confusion_matrix, perplexity


def test_perplexity():
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(5)) == pytest.approx(5.0)
    assert perplexity(math.log(65)) == pytest.approx(65.0)  # a uniform guess over 65 chars
    assert math.isfinite(perplexity(699.0))
    assert perplexity(700.0) == math.inf and perplexity(1e6) == math.inf  # no OverflowError


def test_bits():
    assert bits(math.log(2)) == pytest.approx(1.0)
    assert bits(math.log(8)) == pytest.approx(3.0)
    assert bits(0.0) == 0.0
    assert bits(1.0) == pytest.approx(1.4426950408889634)


def test_confusion_matrix_counts_true_by_predicted():
    targets = torch.tensor([0, 0, 1, 2, 2, 2])
    predictions = torch.tensor([0, 1, 1, 1, 2, 0])
    confusion = confusion_matrix(targets, predictions, 3)
    assert confusion.tolist() == [[1, 1, 0],
                                  [0, 1, 0],
                                  [1, 1, 1]]
    assert confusion.sum().item() == len(targets)


def test_confusion_matrix_keeps_absent_classes():
    confusion = confusion_matrix(torch.tensor([1, 1]), torch.tensor([1, 0]), 4)
    assert confusion.shape == (4, 4)
    assert confusion.tolist() == [[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


def test_classification_report_by_hand():
    # true a a b c, predicted a b b b: c is never predicted
    confusion = confusion_matrix(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 1]), 3)
    report = classification_report(confusion, ["a", "b", "c"])
    a, b, c = (report["per_class"][k] for k in "abc")
    assert a == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})
    assert b == pytest.approx({"precision": 1 / 3, "recall": 1.0, "f1": 0.5, "support": 1})
    assert c == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}  # 0, not NaN
    assert report["accuracy"] == 0.5
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 0.0) / 3)
    assert report["n"] == 4
    assert report["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert all(isinstance(v["support"], int) for v in report["per_class"].values())


def test_class_predicted_but_absent_has_zero_recall_not_nan():
    confusion = confusion_matrix(torch.tensor([0, 0]), torch.tensor([0, 1]), 2)
    report = classification_report(confusion, ["x", "y"])
    assert report["per_class"]["y"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert report["per_class"]["x"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})


def test_perfect_and_empty_reports():
    perfect = classification_report(
        confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 1]), 2), ["n", "p"])
    assert perfect["accuracy"] == 1.0 and perfect["macro_f1"] == 1.0
    empty = classification_report(torch.zeros(2, 2, dtype=torch.long), ["n", "p"])
    assert empty["accuracy"] == 0.0 and empty["macro_f1"] == 0.0 and empty["n"] == 0
    values = [v for c in empty["per_class"].values() for v in c.values()]
    assert not any(isinstance(v, float) and math.isnan(v) for v in values)
