"""Frozen settings for a run, grouped by the component they configure.

Defaults live here, next to the fields, so `seqcli train` with no options, the Python API and a
``--config`` TOML file all start from the same values. A run directory stores the resolved
config as JSON; ``RunConfig.from_dict`` rebuilds it and rejects unknown keys and wrong types.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from seqcli.errors import ConfigError

CELLS = ("rnn", "lstm", "gru")
IMPLS = ("fused", "scratch")
TASKS = ("lm", "classify")
TOKENIZERS = ("char", "word", "bpe")
POOLINGS = ("last", "mean", "max")
OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "constant")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
PARTITIONS = ("sequential", "random")
MAX_SUBWORDS = 2**24  # n-gram hash buckets: 16M vectors is already more than any corpus needs
MAX_SEED = 2**32  # seeds are mixed with epoch numbers into torch seeds, which must not overflow


@dataclass(frozen=True)
class ModelConfig:
    cell: str = "lstm"
    num_layers: int = 2
    hidden_size: int = 256
    embedding_size: int = 64
    dropout: float = 0.2
    bidirectional: bool = False
    impl: str = "fused"
    tie_weights: bool = False
    pooling: str = "max"  # classifier only
    subwords: int = 0  # classifier: character n-gram hash buckets per token (0: off)


@dataclass(frozen=True)
class DataConfig:
    corpus: str = "timemachine"
    tokenizer: str = "char"
    seq_len: int = 128
    batch_size: int = 32
    val_fraction: float = 0.1
    partition: str = "sequential"
    vocab_size: int = 8000  # word/bpe only
    min_frequency: int = 1  # word/bpe only
    lowercase: bool = False
    max_length: int = 400  # classifier: tokens kept per text
    text_column: str | None = None
    label_column: str | None = None
    validation: str | None = None  # classifier: a separate labelled file


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 40
    max_steps: int | None = None
    max_minutes: float | None = 5.0  # the default run fits in ~5 minutes on 2 CPU cores
    lr: float = 5e-3
    optimizer: str = "adamw"
    weight_decay: float = 0.01
    schedule: str = "cosine"
    warmup_steps: int = 50
    clip: float = 1.0
    ema: float = 0.0  # decay of the evaluated weight average; 0: evaluate the live weights
    eval_every: int = 100
    eval_batches: int | None = None
    patience: int | None = None
    device: str = "auto"
    precision: str = "auto"
    seed: int = 1234
    class_weights: str | None = None  # classifier: None | "auto"
    embeddings: str | None = None  # classifier: pretrained vectors file
    adversarial: float = 0.0  # classifier: adversarial embedding perturbation, relative size


@dataclass(frozen=True)
class SampleConfig:
    length: int = 200
    temperature: float = 0.8
    top_k: int | None = None
    top_p: float | None = None
    greedy: bool = False
    num_samples: int = 1
    seed: int | None = None


@dataclass(frozen=True)
class RunConfig:
    task: str = "lm"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "RunConfig":
        _reject_unknown(raw, {"task", "model", "data", "train"}, "config")
        sections = {}
        for name, kind in (("model", ModelConfig), ("data", DataConfig), ("train", TrainConfig)):
            sections[name] = build_section(kind, raw.get(name, {}), name)
        run = cls(task=raw.get("task", "lm"), **sections)
        validate(run)
        return run


def _reject_unknown(raw: Any, allowed: set[str], where: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of settings, got {type(raw).__name__}")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")


_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


def build_section(kind: type, raw: dict[str, Any], where: str) -> Any:
    """Build one dataclass from a mapping, checking keys and value types (TOML gives both)."""
    known = {f.name: f for f in fields(kind)}
    _reject_unknown(raw, set(known), where)
    for key, value in raw.items():
        base = str(known[key].type).replace(" | None", "").strip()
        if value is None and "None" in str(known[key].type):
            continue
        ok = _TYPES.get(base, (object,))
        if not isinstance(value, ok) or (base != "bool" and isinstance(value, bool)):
            raise ConfigError(f"{where}.{key}: expected {base}, got {value!r}")
    return kind(**raw)


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML config file; errors name the file and what is wrong."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"invalid TOML in {path}: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read config file {path}: {err}") from None


def _choice(value: Any, allowed: tuple[str, ...], name: str) -> None:
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


def validate(run: RunConfig) -> None:
    """Reject settings that can never work, with the option name in the message."""
    m, d, t = run.model, run.data, run.train
    _choice(run.task, TASKS, "task")
    _choice(m.cell, CELLS, "--cell")
    _choice(m.impl, IMPLS, "--impl")
    _choice(m.pooling, POOLINGS, "--pooling")
    _choice(d.tokenizer, TOKENIZERS, "--tokenizer")
    _choice(d.partition, PARTITIONS, "--partition")
    _choice(t.optimizer, OPTIMIZERS, "--optimizer")
    _choice(t.schedule, SCHEDULES, "--schedule")
    _choice(t.device, DEVICES, "--device")
    _choice(t.precision, PRECISIONS, "--precision")
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
                        ("--eval-every", t.eval_every), ("--patience", t.patience),
                        ("--eval-batches", t.eval_batches)):
        _positive(value, name, allow_none=True)
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
    if not 0.0 <= m.dropout < 1.0:
        raise ConfigError(f"--dropout must be in [0, 1); got {m.dropout!r}")
    if not 0.0 < d.val_fraction < 1.0:
        raise ConfigError(f"--val-fraction must be in (0, 1); got {d.val_fraction!r}")
    if t.weight_decay < 0 or t.warmup_steps < 0 or d.min_frequency < 1:
        raise ConfigError("--weight-decay and --warmup-steps must be >= 0, --min-frequency >= 1")
    if not _finite(t.ema) or not 0.0 <= t.ema < 1.0:
        raise ConfigError(f"--ema must be in [0, 1) (0: off); got {t.ema!r}")
    if not _finite(t.adversarial) or not 0.0 <= t.adversarial <= 1.0:
        raise ConfigError(f"--adversarial must be in [0, 1] (0: off); got {t.adversarial!r}")
    if run.task == "lm" and t.adversarial:
        raise ConfigError("--adversarial trains classifiers; use it with --task classify")
    if not isinstance(m.subwords, int) or isinstance(m.subwords, bool) \
            or not (m.subwords == 0 or 2 <= m.subwords <= MAX_SUBWORDS):
        raise ConfigError(f"--subwords must be 0 (off) or an integer from 2 to {MAX_SUBWORDS}; "
                          f"got {m.subwords!r}")
    if m.subwords and run.task != "classify":
        raise ConfigError("--subwords adds character n-grams to a classifier's tokens; use it "
                          "with --task classify")
    if t.lr > 100:
        raise ConfigError(f"--lr {t.lr} is absurdly large (expected well below 100)")
    if run.task == "lm" and m.bidirectional:
        raise ConfigError("a bidirectional language model cannot generate left to right; "
                          "drop --bidirectional or use --task classify")
    if m.tie_weights and m.embedding_size != m.hidden_size:
        raise ConfigError("--tie-weights needs --embedding equal to --hidden")
    if t.class_weights not in (None, "auto", "none"):
        raise ConfigError(f"--class-weights must be auto or none; got {t.class_weights!r}")


# Classification starts from different defaults: word tokens, a bidirectional LSTM, SST-2.
CLASSIFY_DEFAULTS = {
    ("model", "bidirectional"): True, ("model", "hidden_size"): 256,
    ("model", "embedding_size"): 256, ("model", "num_layers"): 1, ("model", "dropout"): 0.5,
    ("data", "corpus"): "sst2", ("data", "tokenizer"): "word", ("data", "batch_size"): 64,
    ("data", "lowercase"): True, ("data", "min_frequency"): 1, ("data", "vocab_size"): 30000,
    ("train", "epochs"): 5, ("train", "lr"): 2e-3, ("train", "eval_every"): 250,
    ("train", "patience"): 8, ("train", "warmup_steps"): 100, ("train", "max_minutes"): 14.0,
    ("train", "ema"): 0.999, ("train", "adversarial"): 0.05, ("model", "subwords"): 16384,
}

# Settings that may change when a run is resumed; everything else is fixed by the run.
RESUMABLE = {("train", "epochs"), ("train", "max_steps"), ("train", "max_minutes"),
             ("train", "device"), ("train", "precision"), ("train", "eval_every"),
             ("train", "patience")}


def default_config(task: str) -> RunConfig:
    _choice(task, TASKS, "--task")
    run = RunConfig(task=task)
    return with_overrides(run, CLASSIFY_DEFAULTS) if task == "classify" else run


def with_overrides(run: RunConfig, overrides: dict[tuple[str, str], Any]) -> RunConfig:
    """A copy of `run` with (section, field) values replaced, then validated."""
    sections = {"model": run.model, "data": run.data, "train": run.train}
    for (section, name), value in overrides.items():
        sections[section] = dataclasses.replace(sections[section], **{name: value})
    result = RunConfig(task=run.task, **sections)
    validate(result)
    return result


def config_from_toml(raw: dict[str, Any], task: str | None) -> RunConfig:
    """Defaults for the task, then the file's sections on top (unknown keys are errors)."""
    _reject_unknown(raw, {"task", "model", "data", "train"}, "config")
    task = task or raw.get("task", "lm")
    base = default_config(task)
    overrides = {}
    for name, kind in (("model", ModelConfig), ("data", DataConfig), ("train", TrainConfig)):
        section = raw.get(name, {})
        build_section(kind, section, name)  # type and key checks
        overrides.update({(name, key): value for key, value in section.items()})
    return with_overrides(base, overrides)


def resume_conflicts(stored: RunConfig, overrides: dict[tuple[str, str], Any]) -> list[str]:
    """Given options that would change a resumed run's architecture or data."""
    conflicts = []
    for (section, name), value in overrides.items():
        current = getattr(getattr(stored, section), name)
        if (section, name) not in RESUMABLE and value != current:
            conflicts.append(f"{section}.{name}={value!r} (the run has {current!r})")
    return conflicts
