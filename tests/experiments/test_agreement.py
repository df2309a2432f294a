"""The agreement task: only the first token decides the label."""

import torch

from seqcli.experiments.agreement import (DISTRACTORS, PLURAL, QUERY, SINGULAR, VERBS, VOCAB,
                                          AgreementTask, sentence)


def test_only_the_subject_carries_the_label():
    ids, labels = AgreementTask(distance=7).batch(500, torch.Generator().manual_seed(3))
    assert ids.shape == (500, 9) and labels.shape == (500,)
    subjects = [VOCAB[int(i)] for i in ids[:, 0]]
    assert all((word in PLURAL) == bool(label) for word, label in zip(subjects, labels))
    assert all(word in SINGULAR + PLURAL for word in subjects)
    middle = {VOCAB[int(i)] for i in ids[:, 1:-1].flatten()}
    assert middle <= set(DISTRACTORS) and len(middle) == len(DISTRACTORS)
    assert {VOCAB[int(i)] for i in ids[:, -1]} == {QUERY}
    assert 0.4 < labels.float().mean() < 0.6  # both verbs, about equally often
    assert len(VERBS) == 2


def test_batches_follow_their_generator():
    task = AgreementTask(distance=3)
    first, again = (task.batch(4, torch.Generator().manual_seed(5)) for _ in range(2))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    text = sentence(first[0][0])
    assert text.split()[0] in SINGULAR + PLURAL and text.endswith(QUERY)
    assert len(text.split()) == task.length == 5
