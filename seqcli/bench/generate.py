"""`seqcli bench generate`: sampling speed with the state carried, against re-running the prefix.

``seqcli-generate`` is ``seqcli.lm.generate.generate_samples``, the entry point of
``seqcli generate`` and ``Run.generate``: the prime runs once, then every token is one step of
the recurrence with the state carried. ``reference-prefix-rerun`` produces the same sample the
naive way a transformer-style loop without a cache would: for every new token the whole
sequence so far goes through the network from a zero state. Both use the same model, tokenizer
and sampling rule (``choose_tokens`` on a seeded ``Row``), so only the strategy differs.

Per-token cost is also measured at a quarter, half and all of ``length``: flat for seqcli
(each token costs one step), growing linearly for the reference (each token costs a prefix).

``--num-samples`` batching (``report["batched"]``): for each N of ``batch_sizes``, N samples of
``batch_length`` tokens as one batch (``seqcli-batch-N``) against the same N one after another
(``sequential-N``); tokens/s, samples/s and the ratio per N (also in ``report["ratios"]``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import torch

from seqcli.bench.data import CharStream
from seqcli.bench.settings import GenerateBenchSettings
from seqcli.bench.timing import Candidate, build_report, interleave, machine_info
from seqcli.config import SampleConfig
from seqcli.data.tokenizers import CharTokenizer, Tokenizer
from seqcli.device import Placement, place
from seqcli.lm.generate import generate_samples
from seqcli.lm.rows import Row, choose_tokens
from seqcli.models.language_model import LanguageModel

GENERATE_RATIOS = [("seqcli-generate", "reference-prefix-rerun")]


def bench_generate(settings: GenerateBenchSettings, data: CharStream,
                   on_round: Callable[[int], None] | None = None) -> dict[str, Any]:
    placement = place(settings.device, settings.precision)
    tokenizer = CharTokenizer.train([data.text])
    torch.manual_seed(settings.seed)
    model = LanguageModel(tokenizer.vocab_size, settings.embedding_size, settings.hidden_size,
                          cell=settings.cell, num_layers=settings.num_layers,
                          impl=settings.impl).to(placement.device).eval()
    config = SampleConfig(length=settings.length, temperature=1.0, seed=settings.seed)
    runners = {"seqcli-generate": lambda n: _carried(model, tokenizer, settings.prime, n,
                                                     config, placement),
               "reference-prefix-rerun": lambda n: _rerun(model, tokenizer, settings.prime, n,
                                                           config, placement)}
    candidates = [Candidate(name, lambda run=run: run(settings.length),
                            {"strategy": "state carried" if name.startswith("seqcli")
                             else "whole prefix per token"})
                  for name, run in runners.items()]
    warm = max(0, settings.warmup)
    tallies = interleave(candidates, rounds=settings.rounds, repeats=1, warmup=warm,
                         on_round=on_round)
    profile = per_token_profile(runners, settings.length)
    for candidate in candidates:
        candidate.info["per_token_ms"] = profile[candidate.name]
    report = build_report({**asdict(settings), "vocab_size": tokenizer.vocab_size,
                           "corpus": data.source, "device": placement.describe(),
                           "precision_used": placement.precision, **machine_info()},
                          candidates, tallies, "tokens", GENERATE_RATIOS)
    report["flatness"] = {name: round(ms[str(settings.length)] / ms[min(ms, key=int)], 3)
                          for name, ms in profile.items()}
    if settings.batch_sizes:
        report["batched"] = bench_batched(model, tokenizer, settings, placement)
        report["ratios"].update(report["batched"]["ratios"])
    return report


def per_token_profile(runners: dict[str, Callable[[int], int]], length: int,
                      repeats: int = 2) -> dict[str, dict]:
    """Milliseconds per token when sampling length/4, length/2 and length tokens.

    Interleaved, and the best of ``repeats`` runs: a run that lost its core for a moment
    would otherwise look like a cost that grows with length.
    """
    lengths = sorted({max(1, length // 4), max(1, length // 2), length})
    result: dict[str, dict] = {name: {} for name in runners}
    for n in lengths:
        for _ in range(repeats):
            for name, run in runners.items():
                start = time.perf_counter()
                run(n)
                ms = round((time.perf_counter() - start) * 1000 / n, 4)
                result[name][str(n)] = min(ms, result[name].get(str(n), ms))
    return result


def bench_batched(model: torch.nn.Module, tokenizer: Tokenizer, settings: GenerateBenchSettings,
                  placement: Placement) -> dict[str, Any]:
    """``--num-samples N`` as one batch (``seqcli-batch-N``: one step per token for all N
    rows) against the same N samples drawn one after another (``sequential-N``), for each N
    of ``batch_sizes``. Both give the same texts (row i is seeded seed + i either way), so
    only the batching differs; N = 1 is the control (a ratio near 1)."""
    config = SampleConfig(length=settings.batch_length, temperature=1.0, seed=settings.seed)
    candidates = []
    for n in settings.batch_sizes:
        seeds = [settings.seed + i for i in range(n)]
        candidates += [
            Candidate(f"seqcli-batch-{n}", lambda seeds=seeds: _batched(
                model, tokenizer, settings.prime, config, placement, seeds),
                {"num_samples": n, "strategy": "one batch"}),
            Candidate(f"sequential-{n}", lambda seeds=seeds: _sequential(
                model, tokenizer, settings.prime, config, placement, seeds),
                {"num_samples": n, "strategy": "one sample after another"})]
    tallies = interleave(candidates, rounds=settings.rounds, repeats=1,
                         warmup=max(0, settings.warmup))
    pairs = [(f"seqcli-batch-{n}", f"sequential-{n}") for n in settings.batch_sizes]
    report = build_report({"length": settings.batch_length,
                           "batch_sizes": list(settings.batch_sizes)},
                          candidates, tallies, "tokens", pairs)
    for result in report["results"]:
        result["samples_per_second"] = round(result["tokens_per_second"]
                                             / settings.batch_length, 3)
    return report


def _batched(model: torch.nn.Module, tokenizer: Tokenizer, prime: str, config: SampleConfig,
             placement: Placement, seeds: list[int]) -> int:
    generate_samples(model, tokenizer, prime,
                     replace(config, num_samples=len(seeds), seed=seeds[0]), placement)
    return len(seeds) * config.length


def _sequential(model: torch.nn.Module, tokenizer: Tokenizer, prime: str,
                config: SampleConfig, placement: Placement, seeds: list[int]) -> int:
    for seed in seeds:
        generate_samples(model, tokenizer, prime, replace(config, num_samples=1, seed=seed),
                         placement)
    return len(seeds) * config.length


def _carried(model: torch.nn.Module, tokenizer: Tokenizer, prime: str, length: int,
             config: SampleConfig, placement: Placement) -> int:
    generate_samples(model, tokenizer, prime, replace(config, length=length), placement)
    return length


def _rerun(model: torch.nn.Module, tokenizer: Tokenizer, prime: str, length: int,
           config: SampleConfig, placement: Placement) -> int:
    rerun_sample(model, tokenizer, prime, replace(config, length=length), placement)
    return length


@torch.no_grad()
def rerun_sample(model: torch.nn.Module, tokenizer: Tokenizer, prime: str, config: SampleConfig,
                 placement: Placement) -> str:
    """The reference: no state kept, the whole prefix goes through the network for every new
    token. Each token is chosen for a row seeded as `generate_samples` seeds its first, so
    the texts agree."""
    row = Row(tokenizer, prime, config, config.seed or 0)
    ids = tokenizer.encode(prime)
    while not row.finished:
        x = torch.tensor([ids + row.tokens], dtype=torch.long, device=placement.device)
        with placement.autocast():
            logits, _ = model(x, None)
        row.add(choose_tokens(logits[:, -1], [row])[0])
    return row.sample().text
