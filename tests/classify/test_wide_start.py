"""The wide side's start (seqcli/classify/wide_start.py): naive-Bayes weights counted by hand,
the scale that calibrates them on held-out texts, and a fresh run that starts there (and a
resumed one that does not start again)."""

import json
import math
from pathlib import Path

import torch

from seqcli import pipeline
from seqcli.classify.prepare import prepare_classify
from seqcli.classify.wide import WideTable
from seqcli.classify.wide_start import (calibrated_scale, naive_bayes_start, naive_bayes_weights,
                                        text_logits)
from seqcli.models.builder import build_model


def table(texts: list[list[int]]) -> WideTable:
    offsets = [0]
    for buckets in texts:
        offsets.append(offsets[-1] + len(buckets))
    flat = [b for buckets in texts for b in buckets]
    return WideTable(torch.tensor(flat, dtype=torch.int32), torch.tensor(offsets))


def test_weights_are_centred_smoothed_log_probabilities_counted_per_text():
    # buckets 1..3 seen; class 0 texts hold {1, 2} and {1}; class 1 holds {2, 3}
    weights = naive_bayes_weights(table([[1, 2], [1], [2, 3]]), torch.tensor([0, 0, 1]), 2, 6)
    counts = {1: (2, 0), 2: (1, 1), 3: (0, 1)}
    totals = (3 + 3, 2 + 3)  # features counted per class, plus alpha x 3 seen buckets
    for bucket, (c0, c1) in counts.items():
        p0, p1 = math.log((c0 + 1) / totals[0]), math.log((c1 + 1) / totals[1])
        middle = (p0 + p1) / 2
        assert torch.allclose(weights[bucket], torch.tensor([p0 - middle, p1 - middle]))
    assert weights[[0, 4, 5]].abs().sum() == 0  # padding and unseen buckets add nothing
    assert weights[1, 0] > 0 > weights[3, 0]  # bucket 1 speaks for class 0, bucket 3 against


def test_text_logits_add_up_each_texts_buckets():
    weights = torch.tensor([[0.0, 0.0], [1.0, -1.0], [0.5, 0.25], [-2.0, 2.0]])
    logits = text_logits(table([[1, 2], [], [3]]), weights)
    assert torch.equal(logits, torch.tensor([[1.5, -0.75], [0.0, 0.0], [-2.0, 2.0]]))


def test_the_scale_recovers_the_temperature_of_calibrated_logits():
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(20_000, generator=generator)
    labels = (torch.rand(20_000, generator=generator) < torch.sigmoid(2 * scores)).long()
    logits = torch.stack([torch.zeros_like(scores), scores], 1)  # true log-odds are 2 x scores
    assert abs(calibrated_scale(logits, labels) - 2.0) < 0.1
    noise = (torch.rand(20_000, generator=generator) < 0.5).long()  # labels unrelated to logits
    assert calibrated_scale(logits, noise) < 0.05


def test_naive_bayes_start_reports_its_scale_and_held_out_accuracy():
    train = table([[1, 2], [1, 4], [3, 2], [3, 5]])
    weights, record = naive_bayes_start(train, torch.tensor([0, 0, 1, 1]), table([[1], [3]]),
                                        torch.tensor([0, 1]), 2, 8)
    assert record["held_out_accuracy"] == 1.0 and record["scale"] > 0
    raw = naive_bayes_weights(train, torch.tensor([0, 0, 1, 1]), 2, 8)
    assert torch.allclose(weights, record["scale"] * raw)


def test_a_fresh_run_starts_at_naive_bayes_and_records_it(reviews_csv, where, make_config):
    config = make_config(reviews_csv, {("model", "wide"): 512, ("train", "max_steps"): 2})
    prepared = prepare_classify(config, where, None, None)
    model = build_model(config, prepared.tokenizer.vocab_size, len(prepared.meta["labels"]))
    assert model.wide.weight.abs().sum() == 0  # the model alone starts at zero
    prepared.init_model(model)
    task = prepared.task
    expected, record = naive_bayes_start(task.batches.data.wide, task.batches.data.labels,
                                         task.val.wide, task.val.labels, 2, 512)
    assert torch.allclose(model.wide.weight, expected)
    assert prepared.meta["wide_start"] == {"from": "naive Bayes", **record}
    summary = pipeline.train(config, where)
    stored = json.loads((Path(summary["run_dir"]) / "config.json").read_text())
    assert stored["meta"]["wide_start"]["scale"] == record["scale"]


def test_a_resumed_run_keeps_its_own_wide_weights(reviews_csv, where, make_config):
    config = make_config(reviews_csv, {("model", "wide"): 512})
    prepared = prepare_classify(config, where, None, None)
    resumed = prepare_classify(config, where, prepared.tokenizer, None)
    assert prepared.init_model is not None and resumed.init_model is None
