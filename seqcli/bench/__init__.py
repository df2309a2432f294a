"""Throughput benchmarks with references run side by side (`seqcli bench`).

Each command measures seqcli's real code path against a reference written the naive or
textbook way, interleaved in one process (``timing.py``) so that a noisy machine still gives
honest ratios: ``train.py`` (training tokens/s against d2l's loops, ``references.py``),
``generate.py`` (sampling with the state carried against re-running the prefix) and
``classify.py`` (length-bucketed, length-exact prediction against padded batches in input
order). The scripts in benchmarks/ time and compare with the same two modules: ``timing.py``
(interleaving, the machine's description) and ``references.py`` (every reference model,
including the plain PyTorch loop of benchmarks/reference_lm.py).
``data.py`` finds the corpora locally or builds seeded stand-ins; ``settings.py`` holds each
command's settings and defaults, apart from torch, for `seqcli bench --help`. Benchmarks
report; tests only check the shape of the reports.
"""
