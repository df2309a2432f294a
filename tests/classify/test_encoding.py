"""Texts are encoded the same way for training, evaluation and prediction."""

import pytest

from seqcli.classify.encoding import encode_batch, encode_for_model, encode_labelled, label_indices
from seqcli.config import default_config, with_overrides
from seqcli.data.labelled import LabelledData
from seqcli.data.tokenizers import UNK_ID, train_tokenizer
from seqcli.errors import DataError


@pytest.fixture
def tokenizer():
    return train_tokenizer("word", ["a good film", "a bad film"], lowercase=True)


def test_label_indices_refuse_unknown_labels():
    data = LabelledData(["x", "y"], ["pos", "meh"], "file.csv")
    with pytest.raises(DataError, match="file.csv: label 'meh' does not occur in the training"):
        label_indices(data, ["neg", "pos"])
    assert label_indices(LabelledData(["x"], ["pos"], "f"), ["neg", "pos"]) == [1]


def test_lowercasing_and_truncation_follow_the_config(tokenizer):
    config = with_overrides(default_config("classify"), {("model", "subwords"): 0,
                                                         ("data", "max_length"): 2})
    encoded, truncated = encode_for_model(tokenizer, ["A GOOD film", "bad"], None, config)
    assert truncated == 1
    assert encoded.lengths.tolist() == [2, 1]
    assert encode_batch(tokenizer, ["A GOOD"], lowercase=True) == \
        encode_batch(tokenizer, ["a good"], lowercase=False)


def test_subwords_give_an_unseen_word_its_pieces(tokenizer):
    config = with_overrides(default_config("classify"), {("model", "subwords"): 128})
    encoded, _ = encode_labelled(tokenizer, LabelledData(["goodish film"], ["pos"], "f"),
                                 ["neg", "pos"], config)
    x, lengths, labels, ngrams, _ = encoded.batch([0])
    assert x[0, 0].item() == UNK_ID and labels.tolist() == [1]
    assert ngrams is not None and (ngrams[0, 0] != 0).sum() > 0  # the unknown word's n-grams
