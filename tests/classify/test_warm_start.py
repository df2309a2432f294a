"""The classifier's side of --init-from: the LM's vocabulary extended, its weights copied in
or refused (end to end through training: tests/test_transfer.py)."""

from pathlib import Path

import pytest
import torch

from seqcli.classify.warm_start import extend_tokenizer, load_encoder
from seqcli.data.tokenizers import CharTokenizer, train_tokenizer
from seqcli.device import place
from seqcli.errors import ConfigError
from seqcli.models.classifier import Classifier
from seqcli.models.language_model import LanguageModel
from seqcli.runs import LoadedRun


def test_a_char_vocabulary_keeps_the_lms_ids_and_appends_what_it_lacks():
    lm, own = CharTokenizer(list("abc")), CharTokenizer(list("cdb"))
    merged, added = extend_tokenizer(lm, own)
    assert added == 1 and merged.chars == lm.chars + ["d"]
    assert merged.encode("abcd") == lm.encode("abc") + [len(lm.chars)]


def test_a_word_vocabulary_keeps_the_lms_ids_and_appends_what_it_lacks():
    lm = train_tokenizer("word", ["the film was good"], vocab_size=100)
    own = train_tokenizer("word", ["the plot was dull"], vocab_size=100)
    merged, added = extend_tokenizer(lm, own)
    assert added == 2 and merged.vocab_size == lm.vocab_size + 2
    assert merged.encode("the film was good") == lm.encode("the film was good")
    assert set(merged.encode("plot dull")) == {lm.vocab_size, lm.vocab_size + 1}
    assert extend_tokenizer(lm, lm) == (lm, 0)


def _lm_run(vocab: int, embedding: int, hidden: int) -> LoadedRun:
    torch.manual_seed(0)
    model = LanguageModel(vocab, embedding, hidden, num_layers=1)
    return LoadedRun(Path("lm"), None, {}, CharTokenizer(list("abc")), model,
                     place("cpu", "fp32"))


def test_the_encoder_is_copied_and_new_rows_start_from_the_mean():
    lm = _lm_run(5, 4, 6)
    classifier = Classifier(8, 4, 6, 2, num_layers=1)
    counts = load_encoder(classifier, lm)
    assert counts == {"encoder_tokens": 5, "added_tokens": 3}
    source = lm.model.embedding.weight
    assert torch.equal(classifier.embedding.weight[1:5], source[1:5])
    assert float(classifier.embedding.weight.detach()[0].abs().sum()) == 0.0  # padding stays 0
    torch.testing.assert_close(classifier.embedding.weight[6], source[2:].mean(dim=0))
    for name, tensor in lm.model.recurrent.state_dict().items():
        assert torch.equal(classifier.recurrent.state_dict()[name], tensor)


@pytest.mark.parametrize("embedding,hidden,message", [
    (5, 6, "cannot hold the language model's"),
    (4, 7, "does not fit the classifier"),
])
def test_shapes_that_cannot_hold_the_encoder_are_refused(embedding, hidden, message):
    classifier = Classifier(8, embedding, hidden, 2, num_layers=1)
    with pytest.raises(ConfigError, match=message):
        load_encoder(classifier, _lm_run(5, 4, 6))
