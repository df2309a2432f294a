"""Classifier evaluation on the run's own validation texts or on another labelled corpus."""

import pytest

from seqcli.classify.evaluate import evaluate_classifier, evaluation_data
from seqcli.classify.splits import load_splits
from seqcli.errors import DataError


def test_own_validation_split_matches_training(classifier, where):
    result = evaluate_classifier(classifier, None, where)
    assert result["split"] == "validation"
    assert result["n"] == len(load_splits(classifier.config, where, None).val)
    assert sum(map(sum, result["confusion"])) == result["n"]
    assert set(result["per_class"]) == set(classifier.labels)
    assert 0.0 <= result["accuracy"] <= 1.0 and result["loss"] > 0


def test_a_file_without_splits_is_scored_whole(classifier, where, reviews_csv):
    data, split = evaluation_data(classifier, str(reviews_csv), where, None)
    assert split == "all" and len(data) == 48
    assert evaluate_classifier(classifier, str(reviews_csv), where)["n"] == 48


def test_labels_the_model_never_saw_are_refused(classifier, where, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("text,label\ngood,positive\nmeh,neutral\n")
    with pytest.raises(DataError, match="label 'neutral' does not occur"):
        evaluate_classifier(classifier, str(other), where)
