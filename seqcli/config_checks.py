"""The rules a RunConfig must meet, each failure naming the option a user would change.

Kept apart from the dataclasses (seqcli/config.py) so the schema reads at a glance; the lists
of allowed values come from seqcli/choices.py, as the CLI's do.
"""

from __future__ import annotations

import math
from typing import Any

from seqcli.choices import (CELLS, CLASS_WEIGHTS, DEVICES, IMPLS, MAX_SEED, MAX_SUBWORDS,
                            OPTIMIZERS, PARTITIONS, POOLINGS, PRECISIONS, SCHEDULES, SELECTIONS,
                            TASKS, TOKENIZERS)
from seqcli.errors import ConfigError


def check_choice(value: Any, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _positive(value: Any, name: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not _finite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive finite number; got {value!r}")


def _finite(value: Any) -> bool:
    """A real number that is not NaN or infinite (NaN slips through every comparison)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def validate(run: Any) -> None:
    """Reject settings that can never work, with the option name in the message."""
    _check_choices(run)
    _check_counts(run.model, run.data, run.train)
    _check_fractions(run)
    _check_combinations(run)


def _check_choices(run: Any) -> None:
    m, d, t = run.model, run.data, run.train
    check_choice(run.task, TASKS, "task")
    check_choice(m.cell, CELLS, "--cell")
    check_choice(m.impl, IMPLS, "--impl")
    check_choice(m.pooling, POOLINGS, "--pooling")
    check_choice(d.tokenizer, TOKENIZERS, "--tokenizer")
    check_choice(d.partition, PARTITIONS, "--partition")
    check_choice(d.selection, SELECTIONS, "--selection")
    check_choice(t.optimizer, OPTIMIZERS, "--optimizer")
    check_choice(t.schedule, SCHEDULES, "--schedule")
    check_choice(t.device, DEVICES, "--device")
    check_choice(t.precision, PRECISIONS, "--precision")
    if t.class_weights is not None:
        check_choice(t.class_weights, CLASS_WEIGHTS, "--class-weights")


def _check_counts(m: Any, d: Any, t: Any) -> None:
    limits = {"--layers": (m.num_layers, 64), "--hidden": (m.hidden_size, 65536),
              "--embedding": (m.embedding_size, 65536), "--seq-len": (d.seq_len, 1_000_000),
              "--batch-size": (d.batch_size, 1_000_000), "--epochs": (t.epochs, 1_000_000),
              "--vocab-size": (d.vocab_size, 10_000_000), "--max-length": (d.max_length, 10_000_000)}
    for name, (value, top) in limits.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
            raise ConfigError(f"{name} must be an integer from 1 to {top}; got {value!r}")
    if t.max_minutes is not None and not (_finite(t.max_minutes) and t.max_minutes >= 0):
        raise ConfigError(f"--max-minutes must be >= 0 (0: no time limit); got {t.max_minutes!r}")
    for name, value in (("--max-steps", t.max_steps),
                        ("--eval-every", t.eval_every), ("--patience", t.patience)):
        _positive(value, name, allow_none=True)
    if t.eval_batches is not None and (not isinstance(t.eval_batches, int) or
                                       isinstance(t.eval_batches, bool) or t.eval_batches < 0):
        raise ConfigError(f"--eval-batches must be a whole number >= 0 (0: the whole "
                          f"validation split every time); got {t.eval_batches!r}")
    _positive(t.lr, "--lr")
    _positive(t.clip, "--clip")
    for name, value in (("--dropout", m.dropout), ("--val-fraction", d.val_fraction),
                        ("--weight-decay", t.weight_decay)):
        if not _finite(value):
            raise ConfigError(f"{name} must be a finite number; got {value!r}")
    for name, value in (("--warmup-steps", t.warmup_steps), ("--min-frequency", d.min_frequency)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{name} must be an integer; got {value!r}")
    if not isinstance(t.seed, int) or isinstance(t.seed, bool) or not 0 <= t.seed < MAX_SEED:
        raise ConfigError(f"--seed must be an integer from 0 to {MAX_SEED - 1}; got {t.seed!r}")


def _check_fractions(run: Any) -> None:
    m, d, t = run.model, run.data, run.train
    if not _finite(m.drop_mult) or m.drop_mult < 0:
        raise ConfigError(f"--drop-mult must be a number >= 0; got {m.drop_mult!r}")
    for name, value in (("--dropout", m.dropout), ("--input-dropout", m.input_dropout),
                        ("--embedding-dropout", m.embedding_dropout),
                        ("--weight-drop", m.weight_drop)):
        if value is None:
            continue
        if not _finite(value) or not 0.0 <= value < 1.0:
            raise ConfigError(f"{name} must be in [0, 1); got {value!r}")
        if value * m.drop_mult >= 1.0:
            raise ConfigError(f"{name} {value:g} times --drop-mult {m.drop_mult:g} reaches 1: "
                              "every unit would be dropped")
    if not 0.0 < d.val_fraction < 1.0:
        raise ConfigError(f"--val-fraction must be in (0, 1); got {d.val_fraction!r}")
    if t.weight_decay < 0 or t.warmup_steps < 0 or d.min_frequency < 1:
        raise ConfigError("--weight-decay and --warmup-steps must be >= 0, --min-frequency >= 1")
    if not _finite(t.ema) or not 0.0 <= t.ema < 1.0:
        raise ConfigError(f"--ema must be in [0, 1) (0: off); got {t.ema!r}")
    for name, value, top in (("--adversarial", t.adversarial, 1.0),
                             ("--word-dropout", t.word_dropout, 0.95)):
        if not _finite(value) or not 0.0 <= value <= top:
            raise ConfigError(f"{name} must be in [0, {top:g}] (0: off); got {value!r}")
        if run.task == "lm" and value:
            raise ConfigError(f"{name} trains classifiers; use it with --task classify")


def _check_wide(run: Any) -> None:
    wide, scale = run.model.wide, run.train.wide_lr_scale
    if not isinstance(wide, int) or isinstance(wide, bool) \
            or not (wide == 0 or 2 <= wide <= MAX_SUBWORDS):
        raise ConfigError(f"--wide must be 0 (off) or an integer from 2 to {MAX_SUBWORDS}; "
                          f"got {wide!r}")
    if wide and run.task != "classify":
        raise ConfigError("--wide adds a linear n-gram side to a classifier; use it with "
                          "--task classify")
    if not _finite(scale) or not 0.0 < scale <= 1000.0:
        raise ConfigError(f"wide_lr_scale must be in (0, 1000]; got {scale!r}")


def _check_combinations(run: Any) -> None:
    m, t = run.model, run.train
    if not isinstance(m.subwords, int) or isinstance(m.subwords, bool) \
            or not (m.subwords == 0 or 2 <= m.subwords <= MAX_SUBWORDS):
        raise ConfigError(f"--subwords must be 0 (off) or an integer from 2 to {MAX_SUBWORDS}; "
                          f"got {m.subwords!r}")
    if m.subwords and run.task != "classify":
        raise ConfigError("--subwords adds character n-grams to a classifier's tokens; use it "
                          "with --task classify")
    _check_wide(run)
    if t.lr > 100:
        raise ConfigError(f"--lr {t.lr} is absurdly large (expected well below 100)")
    if run.task == "lm" and m.bidirectional:
        raise ConfigError("a bidirectional language model cannot generate left to right; "
                          "drop --bidirectional or use --task classify")
    if m.tie_weights and m.embedding_size != m.hidden_size:
        raise ConfigError("--tie-weights needs --embedding equal to --hidden")
    # A language model ignores selection: its default ("texts") and what LM runs stored
    # before that default ("train") both load; only asking for the corpus split is refused.
    if run.task == "lm" and run.data.selection == "corpus":
        raise ConfigError("--selection picks a classifier's checkpoints; a language model "
                          "always validates on the last --val-fraction of its text")
    if t.init_from_backward and run.task != "classify":
        raise ConfigError("--init-from-backward fills a classifier's backward direction; use "
                          "it with --task classify")
    if run.data.reverse and run.task != "lm":
        raise ConfigError("--reverse trains a right-to-left language model (a classifier's "
                          "backward encoder); a classifier reads both ways with --bidirectional")
    if m.freeze_embedding and m.tie_weights:
        raise ConfigError("--freeze-embedding would also freeze the decoder that "
                          "--tie-weights shares with it; drop one")
    if isinstance(t.pretrain_vocab, bool) or not isinstance(t.pretrain_vocab, int) \
            or t.pretrain_vocab < 0:
        raise ConfigError(f"--pretrain-vocab must be a whole number of words >= 0 (0: the "
                          f"classifier's own vocabulary); got {t.pretrain_vocab!r}")
    if not _finite(t.pretrain_minutes) or t.pretrain_minutes < 0:
        raise ConfigError(f"--pretrain-minutes must be a number >= 0; got {t.pretrain_minutes!r}")
    if t.pretrain_minutes and run.task != "classify":
        raise ConfigError("--pretrain-minutes pretrains a classifier's encoder; use it with "
                          "--task classify")
    if t.pretrain_minutes and t.embeddings:
        raise ConfigError("--pretrain-minutes and --embeddings both fill the embedding; "
                          "choose one")
    if t.init_from and t.embeddings:
        raise ConfigError("--init-from and --embeddings both fill the embedding; choose one")
    if t.trace_test and run.task != "classify":
        raise ConfigError("--trace-test scores a classifier's test set; a language model's "
                          "evaluations already log their wall time (metrics.jsonl)")


