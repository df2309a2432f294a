"""A language model from another one's weights, right-to-left models, a frozen embedding."""

import json

import pytest
import torch
from typer.testing import CliRunner

import seqcli
from seqcli import pipeline
from seqcli.cli.main import app
from seqcli.config import default_config
from seqcli.locations import Locations
from seqcli.models.builder import build_model
from seqcli.runs import load_run

from tests.conftest import tiny_text


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("warm")
    (root / "a.txt").write_text(tiny_text())
    (root / "b.txt").write_text("the machine and the eloi, a zebracorn. " * 40 + "\n")
    seqcli.train(corpus=str(root / "a.txt"), tokenizer="word", hidden_size=8,
                 embedding_size=6, num_layers=1, seq_len=8, batch_size=4, max_steps=3,
                 eval_every=3, out=root / "lm", runs=root / "runs")
    return root


def _prepare(root, given):
    config = pipeline.fresh_config(default_config("lm"), given)
    locations = Locations(runs=root / "runs", data=None, cache=root / "cache")
    prepared = pipeline.prepare(config, locations, None, None)
    model = build_model(config, prepared.tokenizer.vocab_size)
    if prepared.init_model is not None:
        prepared.init_model(model)
    return config, prepared, model


def test_a_language_model_starts_from_every_weight_and_the_tokenizer(source):
    config, prepared, model = _prepare(source, {("data", "corpus"): str(source / "b.txt"),
                                                ("train", "init_from"): str(source / "lm")})
    lm = load_run(source / "lm", device="cpu", precision="fp32")
    assert (config.model.hidden_size, config.model.embedding_size, config.data.tokenizer) == \
        (8, 6, "word")  # adopted, not the LM defaults (256, 64, char)
    assert prepared.tokenizer.backend.get_vocab() == lm.tokenizer.backend.get_vocab()
    assert prepared.tokenizer.encode("zebracorn") == [1]  # new words read as [UNK]
    own = model.state_dict()
    for name, tensor in lm.model.state_dict().items():
        assert torch.equal(own[name], tensor), name
    assert prepared.meta["init_from"] == str(source / "lm")


def test_warm_start_refuses_settings_the_weights_cannot_fill(source, tmp_path):
    base = ["train", "--corpus", str(source / "b.txt"), "--init-from", str(source / "lm"),
            "--max-steps", "1", "--out", str(tmp_path / "x")]
    bad = CliRunner().invoke(app, [*base, "--hidden", "16"])
    assert bad.exit_code == 2
    assert "has hidden_size 8, not 16" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_a_reversed_model_reads_the_same_ids_last_first(source):
    text = {("data", "corpus"): str(source / "a.txt"), ("data", "tokenizer"): "word"}
    _, forward, _ = _prepare(source, text)
    _, backward, _ = _prepare(source, {**text, ("data", "reverse"): True})
    assert forward.tokenizer.backend.get_vocab() == backward.tokenizer.backend.get_vocab()
    assert torch.equal(backward.task.batches.ids, forward.task.batches.ids.flip(0))
    assert torch.equal(backward.task.val_ids, forward.task.val_ids.flip(0))


def test_reverse_is_for_language_models_and_they_do_not_generate(source, tmp_path):
    bad = CliRunner().invoke(app, ["train", "--task", "classify", "--reverse"])
    assert bad.exit_code == 2 and "right-to-left language model" in bad.stderr
    run = seqcli.train(corpus=str(source / "a.txt"), reverse=True, hidden_size=8,
                       embedding_size=6, num_layers=1, seq_len=8, batch_size=4, max_steps=2,
                       eval_every=2, out=tmp_path / "back", runs=tmp_path / "runs")
    assert run.config.data.reverse
    gen = CliRunner().invoke(app, ["generate", "--model", str(tmp_path / "back"), "--prime", "t"])
    assert gen.exit_code == 2 and "reads right to left" in gen.stderr
    assert len(gen.stderr.strip().splitlines()) == 1
    with pytest.raises(seqcli.SeqcliError, match="reads right to left"):
        run.generate("the")


def test_a_newer_right_to_left_model_is_not_what_bare_commands_use(source, tmp_path):
    """--pretrain-minutes on a bidirectional classifier leaves the backward LM newest: a bare
    `seqcli generate` must not refuse with a --reverse message the user never asked for."""
    shape = dict(corpus=str(source / "a.txt"), hidden_size=8, embedding_size=6, num_layers=1,
                 seq_len=8, batch_size=4, max_steps=2, eval_every=2, runs=tmp_path / "runs")
    forward = seqcli.train(**shape)
    seqcli.train(reverse=True, **shape)
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    gen = CliRunner().invoke(app, ["generate", "--length", "5", "--format", "json"], env=env)
    assert gen.exit_code == 0, gen.output
    assert json.loads(gen.stdout)["run_dir"] == str(forward.path)
    scored = CliRunner().invoke(app, ["evaluate", "--format", "json"], env=env)
    assert json.loads(scored.stdout)["run_dir"] == str(forward.path)


def test_a_frozen_embedding_stays_and_the_run_resumes_exactly(source, tmp_path):
    settings = dict(corpus=str(source / "b.txt"), init_from=str(source / "lm"), reverse=True,
                    freeze_embedding=True, seq_len=8, batch_size=4, eval_every=2,
                    schedule="constant", warmup_steps=0, runs=tmp_path / "runs")
    full = seqcli.train(max_steps=4, out=tmp_path / "full", **settings)
    seqcli.train(max_steps=2, out=tmp_path / "part", **settings)
    seqcli.load(tmp_path / "part").resume(max_steps=4)
    lm = load_run(source / "lm", device="cpu", precision="fp32")
    a = torch.load(tmp_path / "full" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "part" / "last.pt", weights_only=True)["model"]
    assert torch.equal(a["embedding.weight"], lm.model.embedding.weight)  # never trained
    assert not torch.equal(a["decoder.weight"], lm.model.decoder.weight)  # the rest trains
    for name, tensor in a.items():
        assert torch.equal(tensor, b[name]), name
    stored = json.loads((full.path / "config.json").read_text())["config"]
    assert stored["model"]["freeze_embedding"] and stored["data"]["reverse"]
    tied = CliRunner().invoke(app, ["train", "--freeze-embedding", "--tie-weights",
                                    "--embedding", "8", "--hidden", "8"])
    assert tied.exit_code == 2 and "--tie-weights" in tied.stderr
