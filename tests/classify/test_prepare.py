"""A classifier run's data: splits, tokenizer fit on train only, the task's settings."""

import pytest

from seqcli.classify.prepare import prepare_classify
from seqcli.classify.splits import load_splits


def test_tokenizer_sees_only_training_texts(tmp_path, where, make_config):
    train = tmp_path / "train.csv"
    val = tmp_path / "val.csv"
    train.write_text("text,label\n" + "good film,pos\nbad film,neg\n" * 4)
    val.write_text("text,label\nsecretword film,pos\nbad film,neg\n")
    config = make_config(train, {("data", "validation"): str(val), ("model", "subwords"): 0})
    prepared = prepare_classify(config, where, None, None)
    assert prepared.tokenizer.unknown("secretword") == ["secretword"]
    assert prepared.meta["validation"] == f"file {val}"
    assert prepared.meta["train_texts"] == 8 and prepared.meta["val_texts"] == 2


def test_balanced_class_weights_pick_checkpoints_by_macro_f1(reviews_csv, where, make_config):
    config = make_config(reviews_csv, {("train", "class_weights"): "auto"})
    prepared = prepare_classify(config, where, None, None)
    assert prepared.task.monitor == "val_macro_f1"
    assert set(prepared.meta["class_weights"]) == {"negative", "positive"}
    plain = prepare_classify(make_config(reviews_csv), where, None, None)
    assert plain.task.monitor == "val_accuracy" and "class_weights" not in plain.meta


def test_stratified_validation_keeps_every_class(reviews_csv, where, make_config):
    splits = load_splits(make_config(reviews_csv), where, None)
    assert set(splits.val.labels) == {"negative", "positive"}
    assert len(splits.train) + len(splits.val) == 48
    assert splits.validation.startswith("stratified 0.1")


def test_chinese_reviews_with_the_default_settings(chinese_reviews_csv, where, make_config):
    """No column, tokenizer or case flag: the "label,review" header is found and every
    ideograph is a word (once, Chinese reviews were a handful of clause-long words)."""
    prepared = prepare_classify(make_config(chinese_reviews_csv), where, None, None)
    assert prepared.meta["labels"] == ["0", "1"]
    assert prepared.meta["train_texts"] + prepared.meta["val_texts"] == 40
    tokenizer = prepared.tokenizer
    assert tokenizer.kind == "word"
    _, words = tokenizer.encode_batch_words(["味道不错，分量很足"])
    assert words == [["味", "道", "不", "错", "，", "分", "量", "很", "足"]]
    assert tokenizer.vocab_size < 200  # characters, not one "word" per clause


@pytest.mark.corpora
def test_waimai_reviews_prepare_with_the_defaults(waimai_csv, where, make_config):
    prepared = prepare_classify(make_config(waimai_csv), where, None, None)
    assert prepared.meta["labels"] == ["0", "1"]
    assert prepared.meta["train_texts"] + prepared.meta["val_texts"] == 11987
    assert prepared.meta["truncated_train_texts"] < 10  # 400 tokens hold nearly every review
    assert 2000 < prepared.tokenizer.vocab_size < 5000  # about 3k distinct characters
