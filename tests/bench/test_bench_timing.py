"""Interleaved timing and the report shape shared by every `seqcli bench` command."""

import pytest

from seqcli.bench.timing import Candidate, Tally, build_report, interleave, machine_info, peak_rss_mb


def test_interleave_counts_rounds_and_rotates_the_order():
    calls = []

    def make(name):
        return Candidate(name, lambda: calls.append(name) or 10)

    tallies = interleave([make("a"), make("b"), make("c")], rounds=3, repeats=2, warmup=1)
    assert calls[:3] == ["a", "b", "c"]  # warm-up
    rounds = calls[3:]
    assert rounds[0:6] == ["a", "a", "b", "b", "c", "c"]
    assert rounds[6:12] == ["b", "b", "c", "c", "a", "a"]  # who goes first rotates
    for tally in tallies.values():
        assert tally.items == 60 and len(tally.round_rates) == 3 and tally.seconds > 0
        assert tally.peak_rss_mb > 0


def test_report_shape_and_ratios():
    a, b = Candidate("fast", lambda: 1, {"precision": "fp32"}), Candidate("slow", lambda: 1)
    tallies = interleave([a, b], rounds=1, repeats=1, warmup=0)
    tallies["fast"].seconds, tallies["slow"].seconds = 1.0, 4.0
    report = build_report({"k": 1}, [a, b], tallies, "tokens", [("fast", "slow"), ("x", "slow")])
    assert report["config"] == {"k": 1}
    first = report["results"][0]
    assert first["name"] == "fast" and first["tokens_per_second"] == 1.0
    assert first["precision"] == "fp32" and "peak_rss_mb" in first and "tokens_per_cpu_second" in first
    assert report["ratios"] == {"fast / slow": 4.0}


def test_bad_arguments_and_memory_reading():
    with pytest.raises(ValueError):
        interleave([], rounds=0, repeats=1)
    assert peak_rss_mb() > 1


def test_median_seconds_per_item_ignores_one_disturbed_round():
    tally = Tally(round_rates=[100.0, 1.0, 50.0])  # items per second; the second round stalled
    assert tally.median_item_seconds == pytest.approx(1 / 50)
    assert Tally().median_item_seconds != Tally().median_item_seconds  # nan: nothing timed


def test_machine_info_names_the_cpu_and_torch():
    import torch

    info = machine_info()
    assert info["torch"] == torch.__version__ and info["cpu"] and info["threads"] >= 1
