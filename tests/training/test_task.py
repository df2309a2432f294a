"""seqcli/training/task.py: the Task protocol both tasks implement, and Prepared."""

import dataclasses
import inspect

import pytest
import torch

from seqcli.classify.batches import encode_texts
from seqcli.classify.prepare import prepare_classify
from seqcli.classify.task import ClassifyTask
from seqcli.config import default_config, with_overrides
from seqcli.data.ids import ids_tensor
from seqcli.device import Placement
from seqcli.lm.prepare import prepare_lm
from seqcli.lm.task import LMTask
from seqcli.locations import from_environment
from seqcli.models.classifier import Classifier
from seqcli.models.language_model import LanguageModel
from seqcli.training.task import Prepared, Task

CPU = Placement(torch.device("cpu"), "fp32")
ATTRIBUTES = ("name", "monitor", "monitor_mode", "item_name")
METHODS = ("batches_per_epoch", "train_batches", "train_loss", "evaluate")


def test_protocol_lists_what_the_trainer_uses():
    assert set(Task.__annotations__) == set(ATTRIBUTES)
    for method in METHODS:
        assert callable(getattr(Task, method))


def lm_task(**kwargs):
    torch.manual_seed(0)
    stream = ids_tensor([torch.randint(0, 11, (200,)).tolist()], 11)
    return LMTask(stream[:160], stream[160:], batch_size=3, seq_len=8, seed=1, **kwargs)


def classify_task(**kwargs):
    texts = [[2, 3, 4], [5, 6], [7, 8, 9, 10], [3, 3], [11, 4, 5], [6]]
    data = encode_texts(texts, [0, 1, 0, 1, 0, 1], 12, 100)
    return ClassifyTask(data, data, ["neg", "pos"], batch_size=2, seed=1, **kwargs)


def tiny_lm():
    torch.manual_seed(0)
    return LanguageModel(11, 6, 5, cell="gru")


def tiny_classifier():
    torch.manual_seed(0)
    return Classifier(12, 6, 5, 2)


CASES = {"lm": (lm_task, tiny_lm), "classify": (classify_task, tiny_classifier)}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_tasks_implement_the_protocol(kind):
    task = CASES[kind][0]()
    for attribute in ATTRIBUTES:
        assert isinstance(getattr(task, attribute), str), attribute
    assert task.monitor_mode in ("min", "max")
    for method in METHODS:
        theirs = inspect.signature(getattr(type(task), method)).parameters
        ours = inspect.signature(getattr(Task, method)).parameters
        assert list(theirs) == list(ours), method


def test_task_attributes():
    lm, classify = lm_task(), classify_task()
    assert (lm.name, lm.monitor, lm.monitor_mode, lm.item_name) == \
        ("lm", "val_loss", "min", "tokens")
    assert (classify.name, classify.monitor, classify.monitor_mode, classify.item_name) == \
        ("classify", "val_accuracy", "max", "texts")
    assert classify_task(monitor="val_macro_f1").monitor == "val_macro_f1"


@pytest.mark.parametrize("kind", sorted(CASES))
def test_one_epoch_of_training_and_an_evaluation(kind):
    make_task, make_model = CASES[kind]
    task, model = make_task(), make_model()
    batches = list(task.train_batches(0, 0))
    assert len(batches) == task.batches_per_epoch() > 0
    assert len(list(task.train_batches(0, 1))) == len(batches) - 1  # resume skips done batches
    state, items = None, 0
    for batch in batches:
        loss, state, covered = task.train_loss(model, batch, state, CPU)
        assert loss.dim() == 0 and torch.isfinite(loss) and loss.requires_grad
        items += covered
    if kind == "lm":
        assert items == sum(y.numel() for _, y in batches)  # target tokens
        assert 0 < items <= len(batches) * 3 * 8
        assert state is not None and state.grad_fn is None  # carried on, detached
    else:
        assert items == 6 and state is None  # texts; no state between batches
    metrics = task.evaluate(model.eval(), CPU)
    assert task.monitor in metrics and "val_loss" in metrics
    assert all(isinstance(v, float) for v in metrics.values())


def test_lm_random_partition_does_not_carry_state():
    task, model = lm_task(partition="random"), tiny_lm()
    batch = next(iter(task.train_batches(0, 0)))
    poisoned = torch.full((1, 3, 5), 50.0)  # would change the loss if it were used
    with_state = task.train_loss(model, batch, poisoned, CPU)[0]
    without = task.train_loss(model, batch, None, CPU)[0]
    assert torch.equal(with_state, without)


def test_prepared_holds_task_tokenizer_meta_and_optional_hook():
    task = lm_task()
    prepared = Prepared(task, tokenizer="tok", meta={"corpus": "x"})
    assert prepared.task is task and prepared.init_model is None
    assert [f.name for f in dataclasses.fields(Prepared)] == \
        ["task", "tokenizer", "meta", "init_model"]


def test_prepare_lm_returns_prepared_lm_task(tiny_corpus, tmp_path):
    config = with_overrides(default_config("lm"), {("data", "corpus"): str(tiny_corpus),
                                                   ("data", "seq_len"): 16,
                                                   ("data", "batch_size"): 4})
    places = from_environment({}, runs=tmp_path / "runs", cache=tmp_path / "cache")
    prepared = prepare_lm(config, places, None, None)
    assert isinstance(prepared, Prepared) and isinstance(prepared.task, LMTask)
    assert prepared.init_model is None
    assert prepared.meta["corpus_path"] == str(tiny_corpus)
    assert prepared.meta["train_tokens"] + prepared.meta["val_tokens"] == \
        len(tiny_corpus.read_text(encoding="utf-8"))
    assert prepared.tokenizer.kind == "char"


def test_prepare_classify_returns_prepared_classify_task(tmp_path):
    words = {"pos": "good great fine lovely", "neg": "bad awful poor dull"}
    rows = [f"a {words[label].split()[i % 4]} film\t{label}"
            for i in range(24) for label in ("pos", "neg")]
    data = tmp_path / "reviews.tsv"
    data.write_text("text\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    config = with_overrides(default_config("classify"), {("data", "corpus"): str(data),
                                                         ("model", "subwords"): 0})
    places = from_environment({}, runs=tmp_path / "runs", cache=tmp_path / "cache")
    prepared = prepare_classify(config, places, None, None)
    assert isinstance(prepared, Prepared) and isinstance(prepared.task, ClassifyTask)
    assert prepared.meta["labels"] == ["neg", "pos"]
    assert prepared.meta["train_texts"] + prepared.meta["val_texts"] == 48
    assert prepared.task.word_dropout == 0.25  # the classifier's default reaches the task
    assert prepared.task.monitor == "val_accuracy"
