"""Prediction: streamed in chunks, in order, independent of batching and company."""

import torch

from seqcli.classify.predict import Prediction, predict, predict_items, probabilities


def test_predictions_are_ordered_probabilities(classifier):
    texts = ["a wonderful film", "an awful mess", "", "x" * 50]
    results = list(predict(classifier, texts))
    assert [type(r) for r in results] == [Prediction] * 4
    for result in results:
        assert abs(sum(result.probabilities.values()) - 1) < 1e-5
        assert list(result.probabilities) == classifier.labels
        assert result.probability == max(result.probabilities.values())


def test_chunks_and_batch_sizes_never_change_a_result(classifier):
    texts = [f"a {'wonderful' if i % 3 else 'dull'} film number {i}" for i in range(37)]
    whole = probabilities(classifier, texts)
    keyed = list(predict_items(classifier, ((i, t) for i, t in enumerate(texts)),
                               batch_size=5, chunk=7))
    assert [k for k, _ in keyed] == list(range(37))
    streamed = torch.tensor([[p.probabilities[label] for label in classifier.labels]
                             for _, p in keyed])
    assert torch.allclose(streamed, whole, atol=1e-5)


def test_predict_is_lazy(classifier):
    def endless():
        n = 0
        while True:
            n += 1
            yield f"text {n}"

    first = next(predict_items(classifier, ((t, t) for t in endless()), chunk=3))
    assert first[0] == "text 1"
