"""LM evaluation: streamed through the training path, equal to the whole-text reference."""

import pytest
import torch

from seqcli import pipeline, runs
from seqcli.config import default_config, with_overrides
from seqcli.data.ids import ids_tensor
from seqcli.data.text import read_text
from seqcli.device import place
from seqcli.lm import evaluate as lm_evaluate
from seqcli.lm import streams
from seqcli.lm.batches import split_text
from seqcli.lm.evaluate import evaluate_language_model, evaluate_stream
from seqcli.locations import Locations


@pytest.fixture
def trained(tiny_corpus, tmp_path):
    where = Locations(tmp_path / "runs", None, tmp_path / "cache")
    config = with_overrides(default_config("lm"), {
        ("data", "corpus"): str(tiny_corpus), ("data", "tokenizer"): "word",
        ("data", "lowercase"): True, ("model", "hidden_size"): 16,
        ("model", "embedding_size"): 8, ("model", "num_layers"): 1, ("data", "seq_len"): 8,
        ("data", "batch_size"): 4, ("train", "max_steps"): 4})
    summary = pipeline.train(config, where)
    return runs.load_run(summary["run_dir"], device="cpu"), where, summary


def test_own_validation_split_equals_training_and_the_whole_text_reference(trained, tiny_corpus):
    run, where, summary = trained
    result = evaluate_language_model(run, None, where)
    assert result["split"] == "validation"
    assert result["loss"] == pytest.approx(summary["val_loss"], abs=1e-6)
    # the reference: read everything, lower-case, split, encode in chunks
    text = split_text(read_text(tiny_corpus).lower(), 0.1)[1]
    ids = ids_tensor(streams.encode_chunks(run.tokenizer, text), run.tokenizer.vocab_size)
    reference = evaluate_stream(run.model, ids, 4, 8, run.placement)
    assert result["loss"] == pytest.approx(reference["loss"], abs=1e-6)
    assert result["tokens"] == reference["tokens"]  # rows x row length: the tail is dropped
    # and the ids are those training validated on (the same streamed path)
    _, _, val_ids = streams.split_ids(tiny_corpus, run.config.data, run.tokenizer)
    assert torch.equal(streams.text_ids(tiny_corpus, run.config.data, run.tokenizer,
                                        "validation"), val_ids)
    assert torch.equal(val_ids.long(), ids.long())


def test_another_corpus_is_scored_whole(trained, tmp_path):
    run, where, _ = trained
    other = tmp_path / "other.txt"
    other.write_text("the machine was gone and the morning was quiet.\n" * 30)
    result = evaluate_language_model(run, str(other), where)
    assert result["split"] == "all" and result["corpus"] == str(other)
    ids = streams.text_ids(other, run.config.data, run.tokenizer, "all")
    assert ids.tolist() == run.tokenizer.encode(other.read_text().lower())
    assert ids.numel() - 1 - 4 < result["tokens"] <= ids.numel() - 1
    assert lm_evaluate.perplexity(result["loss"]) == pytest.approx(result["perplexity"])


def test_a_text_of_one_token_is_refused(trained, tmp_path):
    run, where, _ = trained
    one = tmp_path / "one.txt"
    one.write_text("the")
    with pytest.raises(Exception, match="too short to evaluate"):
        evaluate_language_model(run, str(one), where)


def test_evaluate_stream_restores_training_mode():
    class Echo(torch.nn.Module):
        def forward(self, x, state):
            return torch.nn.functional.one_hot(x, 5).float(), state

    echo = Echo().train()
    result = evaluate_stream(echo, torch.tensor([1, 2, 3, 4, 2, 3]), 2, 2, place("cpu"))
    assert echo.training and result["tokens"] == 4


def test_a_run_selected_on_a_sample_reports_the_whole_split_as_evaluate_does(tiny_corpus,
                                                                             tmp_path):
    """Training's evaluations score the first --eval-batches batches; the summary and
    `seqcli evaluate` give the whole split's figure for the weights kept as best."""
    where = Locations(tmp_path / "runs", None, tmp_path / "cache")
    config = with_overrides(default_config("lm"), {
        ("data", "corpus"): str(tiny_corpus), ("model", "hidden_size"): 16,
        ("model", "embedding_size"): 8, ("model", "num_layers"): 1, ("data", "seq_len"): 16,
        ("data", "batch_size"): 4, ("train", "max_steps"): 6, ("train", "eval_every"): 3,
        ("train", "eval_batches"): 1})
    summary = pipeline.train(config, where)
    run = runs.load_run(summary["run_dir"], device="cpu")
    whole = evaluate_language_model(run, None, where)
    assert summary["val_loss"] == whole["loss"]
    val_ids = streams.split_ids(tiny_corpus, run.config.data, run.tokenizer)[2]
    sample = evaluate_stream(run.model, val_ids, 4, 16, run.placement, max_batches=1)
    assert sample["loss"] != whole["loss"] and sample["tokens"] == 4 * 16 < whole["tokens"]
