"""Every route against a real server, as a client sees it."""

from __future__ import annotations

import math

import seqcli
from tests.server.live import call, events, streamed_texts


def test_health_info_models_metrics(server, served_runs):
    assert call(server.base, "GET", "/health") == (200, {"status": "ready",
                                                         "models": ["lm", "clf"]})
    status, info = call(server.base, "GET", "/info")
    assert status == 200 and info["limits"]["max_body_bytes"] == 1_000_000
    lm, clf = info["models"]
    assert (lm["task"], lm["cell"], lm["layers"], lm["hidden_size"], lm["tokenizer"]) == \
        ("lm", "lstm", 2, 16, "char")
    assert "cell" in lm["signals"] and clf["labels"] == ["negative", "positive"]
    assert str(served_runs["lm"]) not in str(info)  # no paths leak
    status, models = call(server.base, "GET", "/v1/models")
    assert status == 200 and [m["id"] for m in models["data"]] == ["lm", "clf"]
    call(server.base, "GET", "/v1/models")
    status, text = call(server.base, "GET", "/metrics")
    assert status == 200 and 'seqcli_requests_total{route="/v1/models",status="200"}' in text
    for name in ("seqcli_queue_length", "seqcli_running_rows", "seqcli_generated_tokens_total",
                 "seqcli_time_to_first_token_seconds", "seqcli_inter_token_latency_seconds"):
        assert name in text


def test_completion_equals_generate_and_streams_the_same(server, served_runs):
    body = {"prompt": "the time", "max_tokens": 40, "seed": 5, "temperature": 0.9,
            "stop": ["q", "zz"]}
    status, doc = call(server.base, "POST", "/v1/completions", body)
    assert status == 200 and doc["object"] == "text_completion" and doc["model"] == "lm"
    expected = seqcli.load(served_runs["lm"], device="cpu", precision="fp32").generate(
        "the time", length=40, seed=5, temperature=0.9, stop=["q", "zz"])
    choice = doc["choices"][0]
    assert "the time" + choice["text"] == expected
    assert choice["finish_reason"] in ("stop", "length")
    assert doc["usage"]["prompt_tokens"] == 8
    found = events(server.base, body)
    assert found[-1] == "[DONE]" and streamed_texts(found) == {0: choice["text"]}
    assert found[-2]["choices"][0]["finish_reason"] == choice["finish_reason"]


def test_echo_n_greedy_and_beam(server, served_runs):
    run = seqcli.load(served_runs["lm"], device="cpu", precision="fp32")
    status, doc = call(server.base, "POST", "/v1/completions",
                       {"prompt": "he", "max_tokens": 12, "n": 3, "seed": 1, "echo": True})
    assert status == 200
    assert [c["text"] for c in doc["choices"]] == run.generate("he", length=12, seed=1,
                                                               num_samples=3)
    status, doc = call(server.base, "POST", "/v1/completions",
                       {"prompt": "he", "max_tokens": 12, "temperature": 0})
    assert "he" + doc["choices"][0]["text"] == run.generate("he", length=12, greedy=True)
    status, doc = call(server.base, "POST", "/v1/completions",
                       {"prompt": "he", "max_tokens": 12, "beam": 3, "n": 2})
    assert ["he" + c["text"] for c in doc["choices"]] == run.generate(
        "he", length=12, beam=3, num_samples=2)
    found = events(server.base, {"prompt": "he", "max_tokens": 12, "beam": 3})
    assert "he" + streamed_texts(found)[0] == run.generate("he", length=12, beam=3)


def test_logprobs_and_trace_per_token(server, served_runs):
    body = {"prompt": "the ", "max_tokens": 15, "seed": 2, "logprobs": 5,
            "trace": {"layer": 1, "signal": "forget", "units": [0, 3]}}
    status, doc = call(server.base, "POST", "/v1/completions", body)
    assert status == 200
    choice = doc["choices"][0]
    logprobs, trace = choice["logprobs"], choice["trace"]
    assert "".join(logprobs["tokens"]) == choice["text"] == "".join(trace["tokens"])
    assert logprobs["text_offset"] == list(range(15)) == trace["text_offset"]
    for chosen, top, token in zip(logprobs["token_logprobs"], logprobs["top_logprobs"],
                                  logprobs["tokens"]):
        assert len(top) == 5 and chosen <= 0 and sum(math.exp(v) for v in top.values()) <= 1
        assert chosen <= max(top.values()) and (token not in top or top[token] == chosen)
    assert (trace["layer"], trace["signal"], trace["units"]) == (1, "forget", [0, 3])
    # The values are what `seqcli inspect` reads for the same tokens of the same text.
    run = seqcli.load(served_runs["lm"], device="cpu", precision="fp32")
    seen = run.inspect("the " + choice["text"], layer=1, signal="forget", units=[0, 3])
    for unit_index, unit in enumerate([0, 3]):
        live = [v[unit_index] for v in trace["values"]]
        assert all(abs(a - b) < 1e-4 for a, b in zip(live, seen.units[unit][4:]))
    found = events(server.base, body)
    streamed = [t for e in found[:-1] for t in e["choices"][0]["trace"]["values"]]
    assert streamed == trace["values"]


def test_classify_score_explain_inspect(server, served_runs):
    status, doc = call(server.base, "POST", "/v1/classify",
                       {"input": ["a wonderful film", "an awful mess"]})
    clf = seqcli.load(served_runs["clf"], device="cpu", precision="fp32")
    expected = clf.classify(["a wonderful film", "an awful mess"])
    assert status == 200 and [d["label"] for d in doc["data"]] == [p.label for p in expected]
    assert abs(doc["data"][0]["probability"] - expected[0].probability) < 1e-5
    status, doc = call(server.base, "POST", "/v1/score", {"input": "the time machine"})
    lm = seqcli.load(served_runs["lm"], device="cpu", precision="fp32")
    score = lm.score("the time machine")[0]
    data = doc["data"][0]
    assert status == 200 and data["tokens"] == list("the time machine")
    assert abs(data["log_likelihood"] - score.log_likelihood) < 1e-3
    assert abs(data["perplexity"] - math.exp(sum(data["surprisal"]) / 16)) < 1e-3
    status, doc = call(server.base, "POST", "/v1/explain", {"input": "a great cast",
                                                            "steps": 8})
    mine = clf.explain("a great cast", steps=8)[0].to_dict()
    assert status == 200 and doc["model"] == "clf"
    assert doc["explanations"][0]["label"] == mine["label"]
    assert [t["token"] for t in doc["explanations"][0]["tokens"]] == ["a", "great", "cast"]
    status, doc = call(server.base, "POST", "/v1/inspect",
                       {"input": "the time", "signal": "cell", "units": [2]})
    mine = lm.inspect("the time", signal="cell", units=[2]).to_dict()
    assert status == 200 and doc["tokens"] == mine["tokens"]
    assert set(doc) == set(mine) | {"model"}
