"""`seqcli bench train | generate | classify`: tiny runs that check the report, never timings."""

import json

import pytest
import torch
from typer.testing import CliRunner

from seqcli.bench.classify import ClassifyBenchSettings, bench_classify
from seqcli.bench.data import build_large_corpus, d2l_chars, sentences
from seqcli.bench.generate import GenerateBenchSettings, bench_generate, rerun_sample
from seqcli.bench.references import ConciseLM, ScratchLM, d2l_train_step
from seqcli.bench.train import TRAIN_CANDIDATES, TrainBenchSettings, bench_train
from seqcli.cli.main import app
from seqcli.config import SampleConfig
from seqcli.data.tokenizers import train_tokenizer
from seqcli.device import place
from seqcli.lm.generate import generate_samples
from seqcli.models.language_model import LanguageModel

runner = CliRunner()
TINY_TRAIN = TrainBenchSettings(hidden_size=8, batch_size=2, seq_len=4, rounds=2, steps=1,
                                warmup=0, quality_steps=2, device="cpu")


@pytest.fixture(scope="module")
def chars():
    return d2l_chars(None, None)  # synthetic text: the tests never need the corpora


def test_d2l_characters_have_a_vocabulary_of_28(chars):
    assert chars.source == "synthetic" and chars.vocab_size == 28 and chars.vocab[0] == "<unk>"
    assert chars.ids.dtype == torch.uint8 and int(chars.ids.max()) < 28


def test_bench_train_report(chars, monkeypatch):
    monkeypatch.setattr("seqcli.bench.train.QUALITY_EVAL_BATCHES", 3)
    report = bench_train(TINY_TRAIN, chars)
    names = [r["name"] for r in report["results"]]
    assert names == list(TRAIN_CANDIDATES)
    for result in report["results"]:
        assert result["tokens_per_second"] > 0 and result["peak_rss_mb"] > 0
        assert result["tokens"] == 2 * 2 * 4 and result["precision"] in ("fp32", "bf16", "fp16")
    assert set(report["ratios"]) >= {"seqcli-fused / reference-nn-lstm",
                                     "seqcli-scratch / reference-scratch"}
    assert report["config"]["precision_used"] == report["results"][0]["precision"]
    quality = report["quality"]
    assert quality["steps"] == 2 and quality["fp32_val_loss"] > 0


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("kind", [ScratchLM, ConciseLM])
def test_references_train_every_cell(cell, kind):
    torch.manual_seed(0)
    model = kind(cell, 28, 8, num_layers=2)
    step = d2l_train_step(model, lr=1.0)
    x = torch.randint(0, 28, (3, 5))
    before = [p.detach().clone() for p in model.parameters()]
    assert step(x, x.roll(-1, 1)) == 15 and step(x, x) == 15  # the state is carried
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters()))
    logits, _ = model(x)
    assert logits.shape == (3, 5, 28)


@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_the_prefix_rerun_reference_samples_what_seqcli_samples(kind):
    """The benchmark compares strategies only: the same model, seed and sampling rule (the
    UTF-8 mask of a byte-level BPE included) give the same text either way."""
    torch.manual_seed(0)
    tok = train_tokenizer(kind, ["记忆网络 the time machine 的时间。"] * 3, vocab_size=280)
    model = LanguageModel(tok.vocab_size, 8, 16).eval()
    config = SampleConfig(length=12, temperature=1.2, top_p=0.95, seed=5)
    fp32 = place("cpu", "fp32")
    assert rerun_sample(model, tok, "记忆", config, fp32) == generate_samples(
        model, tok, "记忆", config, fp32)[0].text


def test_bench_generate_report(chars):
    settings = GenerateBenchSettings(hidden_size=8, embedding_size=4, length=8, rounds=1,
                                     warmup=0, device="cpu", batch_sizes=(1, 3), batch_length=4)
    report = bench_generate(settings, chars)
    assert [r["name"] for r in report["results"]] == ["seqcli-generate", "reference-prefix-rerun"]
    for result in report["results"]:
        assert set(result["per_token_ms"]) == {"2", "4", "8"}
    assert "seqcli-generate / reference-prefix-rerun" in report["ratios"]
    assert set(report["flatness"]) == {"seqcli-generate", "reference-prefix-rerun"}
    batched = report["batched"]
    assert [r["name"] for r in batched["results"]] == ["seqcli-batch-1", "sequential-1",
                                                       "seqcli-batch-3", "sequential-3"]
    assert [r["tokens"] for r in batched["results"]] == [4, 4, 12, 12]
    assert all(r["samples_per_second"] > 0 for r in batched["results"])
    assert {"seqcli-batch-3 / sequential-3", "seqcli-batch-1 / sequential-1"} <= set(report["ratios"])


def test_bench_classify_report_and_reference():
    texts, train, source = sentences(None, None, 40)
    assert source == "synthetic" and len(texts) == 40
    settings = ClassifyBenchSettings(hidden_size=4, embedding_size=4, texts=40, batch_size=16,
                                     rounds=1, warmup=0, device="cpu")
    report = bench_classify(settings, texts, train, source)
    assert [r["name"] for r in report["results"]] == ["seqcli-classify", "reference-padded"]
    assert all(r["texts"] == 40 and r["texts_per_second"] > 0 for r in report["results"])
    assert report["config"]["mean_tokens_per_text"] > 1


def test_large_corpus_builder(tmp_path):
    path = build_large_corpus(tmp_path / "big.txt", 50_000, None, None)
    size = path.stat().st_size
    assert 50_000 <= size < 50_200 and path.read_text(encoding="utf-8").count("\n") > 100


def test_cli_bench_train_json():
    result = runner.invoke(app, ["bench", "train", "--hidden", "8", "--batch-size", "2",
                                 "--seq-len", "4", "--rounds", "1", "--steps", "1",
                                 "--device", "cpu", "--threads", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {r["name"] for r in report["results"]} == set(TRAIN_CANDIDATES)
    assert report["config"]["threads"] == 1


def test_cli_bench_classify_table_and_help():
    result = runner.invoke(app, ["bench", "classify", "--hidden", "4", "--embedding", "4",
                                 "--layers", "1", "--texts", "20", "--rounds", "1", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "seqcli-classify / reference-padded" in result.stdout
    for command in ("train", "generate", "classify"):
        assert runner.invoke(app, ["bench", command, "--help"]).exit_code == 0


def test_cli_bench_generate_table_shows_the_batching_comparison():
    result = runner.invoke(app, ["bench", "generate", "--hidden", "8", "--length", "4",
                                 "--rounds", "1", "--num-samples", "2", "--batch-length", "3",
                                 "--device", "cpu", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "samples/s" in result.stdout and "seqcli-batch-2 / sequential-2" in result.stdout


def test_cli_bench_rejects_bad_options():
    result = runner.invoke(app, ["bench", "train", "--hidden", "0"])
    assert result.exit_code == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_bench_train_on_cuda(chars):
    report = bench_train(TrainBenchSettings(hidden_size=8, batch_size=2, seq_len=4, rounds=1,
                                            steps=1, warmup=1, device="cuda"), chars)
    assert report["config"]["device"].startswith("cuda")
    assert all(r["tokens_per_second"] > 0 for r in report["results"])
