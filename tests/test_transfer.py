"""--init-from and --pretrain-minutes end to end: a language model's encoder in a classifier,
exactly, or a one-line refusal; the pretraining runs it leaves (seqcli/transfer.py, with the
weight copy of seqcli/classify/warm_start.py)."""

import json

import pytest
import torch
from typer.testing import CliRunner

import seqcli
from seqcli import pipeline, transfer
from seqcli.cli.main import app
from seqcli.config import default_config
from seqcli.data.tokenizers import PAD_ID
from seqcli.locations import Locations
from seqcli.models.builder import build_model
from seqcli.errors import TrainingError
from seqcli.runs import list_runs, load_run

from tests.conftest import write_reviews

LM_TEXT = ("a wonderful film , moving and warm . an awful mess , dull and long . "
           "a great cast and a story . a boring plot and terrible acting .\n") * 20


@pytest.fixture(scope="module")
def language_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("transfer")
    (root / "lm.txt").write_text(LM_TEXT)  # "lovely" is only in the labelled texts
    write_reviews(root / "reviews.csv")
    lm = seqcli.train(corpus=str(root / "lm.txt"), tokenizer="word", hidden_size=8,
                      embedding_size=6, num_layers=2, seq_len=8, batch_size=4, max_steps=3,
                      eval_every=3, out=root / "lm", runs=root / "runs")
    return root, lm


def _prepared(root, given=None):
    base = default_config("classify")
    overrides = {("data", "corpus"): str(root / "reviews.csv"),
                 ("train", "init_from"): str(root / "lm"), **(given or {})}
    config = pipeline.fresh_config(base, overrides)
    locations = Locations(runs=root / "runs", data=None, cache=root / "cache")
    prepared = pipeline.prepare(config, locations, None, None)
    model = build_model(config, prepared.tokenizer.vocab_size, len(prepared.meta["labels"]))
    prepared.init_model(model)
    return config, prepared, model


def test_the_encoder_is_the_language_models_weights_exactly(language_model):
    root, _ = language_model
    config, prepared, model = _prepared(root, {("data", "selection"): "train"})  # rows: "lovely" trains
    lm = load_run(root / "lm", device="cpu", precision="fp32")
    m = config.model
    assert (m.cell, m.num_layers, m.hidden_size, m.embedding_size, m.bidirectional) == \
        ("lstm", 2, 8, 6, False)
    for name, tensor in lm.model.recurrent.state_dict().items():
        assert torch.equal(model.recurrent.state_dict()[name], tensor), name
    rows = lm.model.embedding.weight.shape[0]
    assert torch.equal(model.embedding.weight[PAD_ID + 1:rows],
                       lm.model.embedding.weight[PAD_ID + 1:])
    assert float(model.embedding.weight.detach()[PAD_ID].abs().sum()) == 0.0
    lovely = prepared.tokenizer.encode("lovely")[0]
    assert lovely >= rows  # a word the LM never saw: added after its vocabulary...
    torch.testing.assert_close(model.embedding.weight[lovely],  # ...starting from the mean
                               lm.model.embedding.weight[2:].mean(dim=0))
    for word in ("wonderful", "dull", "the"):
        assert prepared.tokenizer.encode(word) == lm.tokenizer.encode(word)
    assert prepared.meta["encoder_from"]["run"] == str(root / "lm")
    assert prepared.meta["encoder_from"]["added_tokens"] >= 1


@pytest.mark.parametrize("given,message", [
    ({("model", "hidden_size"): 16}, "the language model has hidden_size 8, not 16"),
    ({("model", "bidirectional"): True}, "cannot fill a backward direction"),
    ({("data", "tokenizer"): "char"}, "has tokenizer 'word', not 'char'"),
])
def test_settings_the_weights_cannot_fill_are_refused(language_model, given, message):
    root, _ = language_model
    with pytest.raises(seqcli.SeqcliError, match=message):
        _prepared(root, given)


def test_cli_trains_from_the_encoder_and_refuses_in_one_line(language_model, tmp_path):
    root, _ = language_model
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    base = ["train", "--task", "classify", "--corpus", str(root / "reviews.csv"),
            "--max-steps", "3", "--format", "json"]
    ok = CliRunner().invoke(app, [*base, "--init-from", str(root / "lm"), "--out",
                                  str(tmp_path / "clf")], env=env)
    assert ok.exit_code == 0, ok.output
    meta = json.loads((tmp_path / "clf" / "config.json").read_text())["meta"]
    assert meta["encoder_from"]["run"] == str(root / "lm")
    for args, message in [
        (["--init-from", str(tmp_path / "clf")], "is a classify run"),
        (["--init-from", str(tmp_path / "nowhere")], "no such run directory"),
        (["--init-from", str(root / "lm"), "--layers", "1"], "has num_layers 2, not 1"),
    ]:
        bad = CliRunner().invoke(app, [*base, *args], env=env)
        assert bad.exit_code == 2, bad.output
        assert message in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    lm_task = CliRunner().invoke(app, ["train", "--corpus", str(root / "lm.txt"),
                                       "--init-from", str(root / "lm"),
                                       "--init-from-backward", str(root / "lm")], env=env)
    assert lm_task.exit_code == 2 and "use it with --task classify" in lm_task.stderr
    alone = CliRunner().invoke(app, [*base, "--init-from-backward", str(root / "lm")], env=env)
    assert alone.exit_code == 2 and "comes with --init-from" in alone.stderr


def test_a_wide_side_starts_fresh_beside_the_transferred_encoder(language_model):
    root, _ = language_model
    _, _, model = _prepared(root, {("model", "wide"): 64})
    lm = load_run(root / "lm", device="cpu", precision="fp32")
    for name, tensor in lm.model.recurrent.state_dict().items():
        assert torch.equal(model.recurrent.state_dict()[name], tensor), name
    assert model.wide.num_embeddings == 64 and model.wide.weight.count_nonzero() == 0


@pytest.mark.parametrize("wide", [["--wide", "0"], ["--wide", "64"]], ids=["deep", "wide"])
def test_a_transferred_classifier_resumes_exactly(language_model, tmp_path, wide):
    root, _ = language_model
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    common = ["train", "--task", "classify", "--corpus", str(root / "reviews.csv"),
              "--init-from", str(root / "lm"), "--schedule", "constant", "--warmup-steps", "0",
              "--eval-every", "2", "--ema", "0", "--format", "json", *wide]
    full = CliRunner().invoke(app, [*common, "--max-steps", "6", "--out",
                                    str(tmp_path / "full")], env=env)
    assert full.exit_code == 0, full.output
    part = CliRunner().invoke(app, [*common, "--max-steps", "3", "--out",
                                    str(tmp_path / "part")], env=env)
    assert part.exit_code == 0, part.output
    resumed = CliRunner().invoke(app, ["train", "--resume", str(tmp_path / "part"),
                                       "--max-steps", "6", "--format", "json"], env=env)
    assert resumed.exit_code == 0, resumed.output
    a = torch.load(tmp_path / "full" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "part" / "last.pt", weights_only=True)["model"]
    for name, tensor in a.items():
        assert torch.equal(tensor, b[name]), name
    assert ("wide.weight" in a) == (wide[1] != "0")


def _write_marked_splits(tmp_path):
    """Training texts, and validation texts marked by a word only they contain."""
    rows = [f'"a wonderful film number {i}",positive' if i % 2 else
            f'"an awful mess number {i}",negative' for i in range(60)]
    (tmp_path / "train.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "val.csv").write_text('text,label\n"zebracorn wonderful",positive\n'
                                      '"zebracorn awful",negative\n')


def test_pretraining_reads_the_training_texts_only(tmp_path):
    _write_marked_splits(tmp_path)
    clf = seqcli.train(task="classify", corpus=str(tmp_path / "train.csv"),
                       validation=str(tmp_path / "val.csv"), pretrain_minutes=0.02,
                       hidden_size=8, embedding_size=6, max_steps=2, subwords=0,
                       bidirectional=False, runs=tmp_path / "runs")
    meta = json.loads((clf.path / "config.json").read_text())
    lm_dir = meta["meta"]["encoder_from"]["run"]
    assert meta["config"]["train"]["init_from"] == lm_dir
    assert meta["config"]["model"]["bidirectional"] is False
    lm = load_run(lm_dir, device="cpu", precision="fp32")
    assert lm.task == "lm" and lm.config.model.hidden_size == 8
    # the batch shape transfer was measured with, not the char LM default's
    assert (lm.config.data.batch_size, lm.config.data.seq_len) == (32, 128)
    texts = (tmp_path / "runs" / lm_dir.split("/")[-1] / transfer.PRETRAIN_TEXTS).read_text()
    assert "wonderful film number 1" in texts and "zebracorn" not in texts
    assert "positive" not in texts  # no labels
    assert lm.tokenizer.encode("zebracorn") == [1]  # [UNK]: never seen by the LM
    with pytest.raises(seqcli.SeqcliError, match="choose one"):
        seqcli.train(task="classify", corpus=str(tmp_path / "train.csv"),
                     pretrain_minutes=1, init_from=lm_dir, runs=tmp_path / "runs")


def test_an_interrupted_pretraining_stops_before_the_classifier(tmp_path, monkeypatch):
    write_reviews(tmp_path / "reviews.csv")
    real_fit = pipeline._fit

    def interrupted(trainer, placement, group):
        summary = real_fit(trainer, placement, group)
        return {**summary, "stopped_by": "interrupted"}  # as after a Ctrl-C

    monkeypatch.setattr(pipeline, "_fit", interrupted)
    with pytest.raises(seqcli.SeqcliError, match="pretraining interrupted") as caught:
        seqcli.train(task="classify", corpus=str(tmp_path / "reviews.csv"), hidden_size=8,
                     embedding_size=6, pretrain_minutes=0.01, max_steps=2, subwords=0,
                     runs=tmp_path / "runs")
    assert caught.value.exit_code == 130
    made = [p.name for p in (tmp_path / "runs").iterdir()]
    assert len(made) == 1 and made[0].startswith("lm-")  # the LM is kept, no classifier run


def _failing_fit(after_checkpoint):
    """pipeline._fit that fails in the language model's training, as a diverged loss does,
    before its first checkpoint or after one; the classifier's training is left alone."""
    real_fit = pipeline._fit

    def fit(trainer, placement, group):
        if trainer.task.name != "lm":
            return real_fit(trainer, placement, group)
        if after_checkpoint:
            real_fit(trainer, placement, group)
        raise TrainingError("the loss became nan at step 3; training stopped")

    return fit


@pytest.mark.parametrize("after_checkpoint", [False, True])
def test_a_failed_pretraining_leaves_no_hidden_copy_of_the_texts(tmp_path, monkeypatch,
                                                                  after_checkpoint):
    """Before its first checkpoint the language model's folder (with its copy of the training
    texts) goes; after one it is a run that `runs list` shows."""
    write_reviews(tmp_path / "reviews.csv")
    monkeypatch.setattr(pipeline, "_fit", _failing_fit(after_checkpoint))
    with pytest.raises(TrainingError, match="the loss became nan"):
        seqcli.train(task="classify", corpus=str(tmp_path / "reviews.csv"), hidden_size=8,
                     embedding_size=6, pretrain_minutes=0.01, max_steps=2, subwords=0,
                     bidirectional=False, runs=tmp_path / "runs")
    runs = tmp_path / "runs"
    folders = sorted(runs.iterdir()) if runs.exists() else []
    assert [r["path"] for r in list_runs(runs)] == folders  # nothing the listing hides
    assert len(folders) == (1 if after_checkpoint else 0)
    for folder in folders:
        assert folder.name.startswith("lm-") and (folder / transfer.PRETRAIN_TEXTS).is_file()
        assert load_run(folder, device="cpu", precision="fp32").task == "lm"


def test_a_pretraining_without_enough_text_fails_in_one_line_and_leaves_nothing(tmp_path):
    """A real failure: the language model's held-out tenth of two short texts is too short."""
    (tmp_path / "tiny.csv").write_text("text,label\ngood,positive\nbad,negative\n"
                                       "fine,positive\nawful,negative\n")
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--task", "classify", "--corpus",
                                 str(tmp_path / "tiny.csv"), "--pretrain-minutes", "0.01",
                                 "--unidirectional", "--hidden", "8", "--embedding", "6",
                                 "--subwords", "0", "--max-steps", "1"],
                           env={"SEQCLI_RUNS": str(tmp_path / "runs")})
    assert result.exit_code == 1, result.output
    error = result.stderr.strip().splitlines()[-1]  # after the progress line
    assert error.startswith("error: --pretrain-minutes: the classifier's training texts:")
    assert "too short" in error and "Traceback" not in result.output
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())


@pytest.fixture(scope="module")
def two_ways(tmp_path_factory):
    """A one-layer forward LM and its backward twin (right to left, on the same vectors)."""
    root = tmp_path_factory.mktemp("both")
    (root / "lm.txt").write_text(LM_TEXT)
    write_reviews(root / "reviews.csv")
    shape = dict(seq_len=8, batch_size=4, max_steps=3, eval_every=3, runs=root / "runs")
    seqcli.train(corpus=str(root / "lm.txt"), tokenizer="word", hidden_size=8,
                 embedding_size=6, num_layers=1, out=root / "fwd", **shape)
    seqcli.train(corpus=str(root / "lm.txt"), init_from=str(root / "fwd"), reverse=True,
                 freeze_embedding=True, out=root / "bwd", **shape)
    seqcli.train(corpus=str(root / "lm.txt"), tokenizer="word", hidden_size=8,
                 embedding_size=6, num_layers=1, reverse=True, out=root / "alone", **shape)
    return root


def test_the_backward_direction_is_the_backward_models_weights_exactly(two_ways):
    root = two_ways
    config, prepared, model = _prepared(root, {("train", "init_from"): str(root / "fwd"),
                                               ("train", "init_from_backward"): str(root / "bwd")})
    assert config.model.bidirectional and config.model.num_layers == 1
    fwd = load_run(root / "fwd", device="cpu", precision="fp32").model.recurrent.state_dict()
    bwd = load_run(root / "bwd", device="cpu", precision="fp32").model.recurrent.state_dict()
    own = model.recurrent.state_dict()
    for name in fwd:
        assert torch.equal(own[name], fwd[name]), name
        assert torch.equal(own[f"{name}_reverse"], bwd[name]), name
        assert not torch.equal(fwd[name], bwd[name]), name  # the backward one trained on
    assert prepared.meta["encoder_from"]["backward_run"] == str(root / "bwd")


@pytest.mark.parametrize("given,message", [
    ({("train", "init_from_backward"): "fwd"}, "reads left to right; train it with --reverse"),
    ({("train", "init_from_backward"): "alone"}, "has other word vectors"),
    ({("train", "init_from_backward"): "bwd", ("model", "bidirectional"): False},
     "drop --unidirectional"),
    ({("train", "init_from"): "bwd", ("train", "init_from_backward"): "bwd"},
     "the forward direction needs a left-to-right"),
])
def test_backward_models_that_cannot_fill_the_direction_are_refused(two_ways, given, message):
    root = two_ways
    given = {("train", "init_from"): "fwd", **given}
    given = {key: str(root / value) if key[1].startswith("init_from") else value
             for key, value in given.items()}
    with pytest.raises(seqcli.SeqcliError, match=message):
        _prepared(root, given)


def test_a_two_layer_bidirectional_encoder_cannot_be_filled(language_model, tmp_path):
    root, _ = language_model
    with pytest.raises(seqcli.SeqcliError, match="first layer only"):
        seqcli.train(task="classify", corpus=str(root / "reviews.csv"), pretrain_minutes=1,
                     num_layers=2, runs=tmp_path / "runs")
    assert not (tmp_path / "runs").exists()


def test_bidirectional_pretraining_trains_both_ways_on_a_capped_vocabulary(tmp_path):
    _write_marked_splits(tmp_path)
    clf = seqcli.train(task="classify", corpus=str(tmp_path / "train.csv"),
                       validation=str(tmp_path / "val.csv"), pretrain_minutes=0.04,
                       pretrain_vocab=12, hidden_size=8, embedding_size=6, max_steps=2,
                       subwords=0, runs=tmp_path / "runs")
    stored = json.loads((clf.path / "config.json").read_text())
    fwd_dir, bwd_dir = stored["config"]["train"]["init_from"], \
        stored["config"]["train"]["init_from_backward"]
    assert stored["config"]["model"]["bidirectional"] is True
    fwd = load_run(fwd_dir, device="cpu", precision="fp32")
    bwd = load_run(bwd_dir, device="cpu", precision="fp32")
    assert not fwd.config.data.reverse and bwd.config.data.reverse
    assert bwd.config.model.freeze_embedding and bwd.config.train.init_from == fwd_dir
    assert fwd.config.train.max_minutes == pytest.approx(0.02)  # half the minutes each
    assert fwd.tokenizer.vocab_size <= 12  # capped: rarer words join from the mean
    assert torch.equal(fwd.model.embedding.weight, bwd.model.embedding.weight)
    for lm in (fwd, bwd):
        texts = (lm.path / transfer.PRETRAIN_TEXTS).read_text()
        assert "wonderful film number 1" in texts and "zebracorn" not in texts
    assert fwd.tokenizer.encode("17") == [1]  # a rare word outside the LM's vocabulary...
    assert clf.tokenizer.encode("17") != [1]  # ...is known to the classifier all the same
