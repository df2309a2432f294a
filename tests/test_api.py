"""The Python API as a notebook user writes it: train -> Run -> generate/classify/evaluate."""

import io
from pathlib import Path

import pytest
from rich.console import Console

import seqcli
from seqcli import api
from seqcli.config import default_config
from seqcli.errors import ConfigError, UsageError

TINY_LM = dict(hidden_size=24, embedding_size=12, num_layers=1, seq_len=16, batch_size=8,
               eval_every=20)
TINY_CLF = dict(hidden_size=16, embedding_size=16, batch_size=8, eval_every=5, subwords=64)


def test_readme_example_on_the_real_corpora(real_corpora, reviews_csv, tmp_path, monkeypatch):
    """The README's example as written, budgets aside (the mirror comes from SEQCLI_DATA)."""
    monkeypatch.chdir(tmp_path)
    lm = seqcli.train(corpus="timemachine", max_steps=30, **TINY_LM)
    assert isinstance(lm, seqcli.Run) and lm.path.parent == Path("runs") and lm.task == "lm"
    text = lm.generate("time traveller", length=40, temperature=0.8, seed=1)
    assert isinstance(text, str) and text.startswith("time traveller") and len(text) == 54
    assert text == lm.generate("time traveller", length=40, temperature=0.8, seed=1)
    scores = lm.evaluate()
    assert set(scores) >= {"loss", "perplexity", "bits_per_token", "tokens"}
    assert scores["split"] == "validation" and scores["tokens"] > 10_000

    clf = seqcli.train(task="classify", corpus=str(reviews_csv),
                       max_minutes=2, epochs=3, **TINY_CLF)
    predictions = clf.classify(["a wonderful film", "an awful mess"])
    assert [type(p) for p in predictions] == [seqcli.Prediction] * 2
    for p in predictions:
        assert set(p.probabilities) == {"negative", "positive"}
        assert abs(sum(p.probabilities.values()) - 1) < 1e-5
        assert p.probability == p.probabilities[p.label] == max(p.probabilities.values())
    report = clf.evaluate(str(reviews_csv))
    assert {"accuracy", "macro_f1", "per_class", "confusion"} <= set(report)

    run = seqcli.load(lm.path)
    assert (run.path, run.task, run.config) == (lm.path, "lm", lm.config)
    assert run.tokenizer.kind == "char" and run.model.training is False
    more = run.resume(max_steps=40)
    assert more.summary["steps"] == 40 and more.path == run.path


def test_named_corpus_without_a_cache_setting(real_corpora, tmp_path, monkeypatch):
    """`Locations(cache=None)` once broke every named corpus from Python; the API now resolves
    the mirror and the cache exactly as the CLI does (here: no SEQCLI_CACHE at all)."""
    monkeypatch.delenv("SEQCLI_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    run = seqcli.train(corpus="timemachine", runs=tmp_path / "runs", max_steps=2, **TINY_LM)
    assert run.config.data.corpus == "timemachine"
    assert run.summary["steps"] == 2 and run.path.parent == tmp_path / "runs"


def test_flat_settings_are_checked_with_the_cli_messages(tiny_corpus, tmp_path):
    with pytest.raises(ConfigError, match="unknown setting 'hiden_size' .*'hidden_size'"):
        seqcli.train(corpus=str(tiny_corpus), hiden_size=8)
    with pytest.raises(ConfigError, match="--cell must be one of rnn, lstm, gru"):
        seqcli.train(corpus=str(tiny_corpus), cell="transformer")
    with pytest.raises(ConfigError, match="model.hidden_size: expected int"):
        seqcli.train(corpus=str(tiny_corpus), hidden_size="big")
    assert not (tmp_path / "runs").exists()


def test_silent_by_default_and_progress_on_request(tiny_corpus, tmp_path, capsys):
    run = seqcli.train(corpus=str(tiny_corpus), runs=tmp_path / "runs", max_steps=12, **TINY_LM)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    buffer = io.StringIO()
    seqcli.train(corpus=str(tiny_corpus), runs=tmp_path / "runs", max_steps=12,
                 progress=True, console=Console(file=buffer, width=120), **TINY_LM)
    assert "training lm" in buffer.getvalue() and "12/12" in buffer.getvalue()
    assert run.summary["stopped_by"] == "max_steps"


def test_generate_checks_its_options_and_batches_samples(tiny_corpus, tmp_path):
    run = seqcli.train(corpus=str(tiny_corpus), runs=tmp_path / "runs", max_steps=6, **TINY_LM)
    samples = run.generate("the", length=8, num_samples=3, seed=2)
    assert isinstance(samples, list) and len(samples) == 3
    assert all(s.startswith("the") for s in samples)
    assert run.generate("the", length=8, greedy=True) == run.generate("the", length=8, greedy=True)
    assert samples[1] == run.generate("the", length=8, seed=3)  # sample i: seed + i, alone
    assert run.generate("the", length=8, beam=1) == run.generate("the", length=8, greedy=True)
    beams = run.generate("the", length=8, beam=3, num_samples=2)
    assert isinstance(beams, list) and len(beams) == 2 and beams[0] != beams[1]
    stop = samples[0][5:7]
    cut = samples[0].index(stop, 3)
    assert run.generate("the", length=8, seed=2, stop=stop) == samples[0][:cut]
    kept = run.generate("the", length=8, seed=2, stop=[stop, "zz"], keep_stop=True)
    assert kept == samples[0][:cut + 2]
    for bad, message in (({"temperature": 0}, "--temperature"), ({"top_p": 2.0}, "--top-p"),
                         ({"length": 0}, "--length"), ({"num_samples": 0}, "--num-samples"),
                         ({"beam": 2, "top_k": 2}, "--beam"), ({"stop": ""}, "--stop"),
                         ({"beam": 1, "num_samples": 2}, "at most --beam"),
                         ({"beam": 2, "temperature": 0.8}, "drop --temperature")):
        with pytest.raises(UsageError, match=message):
            run.generate("the", **bad)
    with pytest.raises(UsageError, match="needs a classifier run"):
        run.classify(["a text"])


def test_classifier_run_refuses_generation_and_non_text(reviews_csv, tmp_path):
    run = seqcli.train(task="classify", corpus=str(reviews_csv),
                       runs=tmp_path / "runs", max_steps=4, **TINY_CLF)
    assert len(run.classify("a single text")) == 1
    with pytest.raises(UsageError, match="needs a language model run"):
        run.generate("x")
    with pytest.raises(UsageError, match="list of texts"):
        run.classify([1, 2])


def test_the_readme_python_block_runs(real_corpora, reviews_csv, tmp_path, monkeypatch, capsys):
    """The README's Python example, executed from the README itself with smaller budgets."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    tiny = ", ".join(f"{k}={v!r}" for k, v in TINY_LM.items())
    small = (block.replace("max_steps=300)", f"max_steps=20, {tiny})")
             .replace("max_minutes=2)", "max_minutes=2, max_steps=8, hidden_size=16, "
                                        "embedding_size=16, subwords=64)")
             .replace("max_steps=600", "max_steps=24")
             .replace('"runs/lm-20261201-101500"', "lm.path"))
    assert small.count("max_steps=") == 3, "the README example changed: update this test"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reviews.csv").write_text(reviews_csv.read_text())
    (tmp_path / "test.csv").write_text(reviews_csv.read_text())
    namespace: dict = {}
    exec(compile(small, "README.md", "exec"), namespace)
    assert namespace["more"].summary["steps"] == 24
    printed = capsys.readouterr().out
    assert printed.startswith("time traveller") and "perplexity" in printed


def test_reporters_silent_unless_asked():
    assert type(api.make_reporter(default_config("lm"), False, None)) is api.Reporter
    rich = api.make_reporter(default_config("classify"), True, Console(file=io.StringIO()))
    assert rich.fields == api.PROGRESS_FIELDS["classify"]


def test_chinese_classifier_from_python_with_the_defaults(chinese_reviews_csv, tmp_path):
    run = seqcli.train(task="classify", corpus=str(chinese_reviews_csv), runs=tmp_path / "runs",
                       max_steps=6, **TINY_CLF)
    assert run.tokenizer.encode_batch_words(["很好吃"])[1] == [["很", "好", "吃"]]
    predictions = run.classify(["味道很好，送得快", "太难吃了"])
    assert [set(p.probabilities) for p in predictions] == [{"0", "1"}] * 2
    again = seqcli.load(run.path)
    assert again.tokenizer.encode("很好吃") == run.tokenizer.encode("很好吃")


def test_score_texts_with_a_language_model(tiny_corpus, tmp_path):
    lm = seqcli.train(corpus=str(tiny_corpus), runs=tmp_path / "runs", max_steps=2, **TINY_LM)
    one, two = lm.score(["the time", "he said"])
    assert isinstance(one, seqcli.TextScore) and one.tokens == list("the time")
    assert len(one.surprisal) == 8 and one.perplexity > 1
    assert lm.score("he said")[0].log_likelihood == pytest.approx(two.log_likelihood, abs=1e-3)
    with pytest.raises(UsageError, match="score needs some text"):
        lm.score([""])
