"""Frozen settings for a run, grouped by the component they configure.

Defaults live here, next to the fields, so `seqcli train` with no options, the Python API and a
``--config`` TOML file all start from the same values. A run directory stores the resolved
config as JSON; ``RunConfig.from_dict`` rebuilds it and rejects unknown keys and wrong types,
after dropping the settings older runs carry that seqcli no longer has (config_legacy.py).
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from seqcli.choices import TASKS
from seqcli.config_checks import check_choice, validate
from seqcli.config_legacy import retired_hint, without_retired
from seqcli.errors import ConfigError


@dataclass(frozen=True)
class ModelConfig:
    cell: str = "lstm"
    # One layer and light dropout: within the default 5 minutes of a slow 2-core machine a
    # second layer costs more steps than it gives (issue 24, benchmarks/RESULTS.md).
    num_layers: int = 1
    hidden_size: int = 256
    embedding_size: int = 64
    dropout: float = 0.1
    bidirectional: bool = False
    impl: str = "fused"
    tie_weights: bool = False
    pooling: str = "max"  # classifier only
    subwords: int = 0  # classifier: character n-gram hash buckets per token (0: off)
    wide: int = 0  # classifier: word uni+bigram hash buckets of a linear "wide" side (0: off)
    freeze_embedding: bool = False  # the embedding is not trained (a backward LM sharing it)
    # AWD-LSTM's regularisers (models/dropouts.py); drop_mult scales every dropout rate.
    input_dropout: float | None = None  # on the embeddings; None: as `dropout`
    embedding_dropout: float = 0.0  # whole words dropped from the embedding matrix
    # Weight drop regularises long runs (0.25 paid at 2x384 over 30 minutes, issue 13) but
    # slows learning in the default minutes: off by default (issue 24); locked dropout stays.
    weight_drop: float = 0.0  # DropConnect on the hidden-to-hidden matrices
    locked_dropout: bool = True  # one dropout mask per sequence, shared across time
    drop_mult: float = 1.0


@dataclass(frozen=True)
class DataConfig:
    corpus: str = "timemachine"
    tokenizer: str = "char"
    # Language models: 16 streams x 64 tokens. On a 2-core CPU the step is compute-bound
    # (tokens/s is the same from 8 to 128 streams), so a smaller batch buys more updates for
    # the same time: 1.411 against 1.458 nats/char in the default 5 minutes (issue 13,
    # benchmarks/RESULTS.md). On a GPU, raise --batch-size. Classifiers batch 64 texts.
    seq_len: int = 64
    batch_size: int = 16
    val_fraction: float = 0.1
    partition: str = "sequential"
    vocab_size: int = 8000  # word/bpe only (bpe-char keeps every character even beyond it)
    min_frequency: int = 1  # word/bpe only
    lowercase: bool = False
    max_length: int = 400  # classifier: tokens kept per text
    text_column: str | None = None
    label_column: str | None = None
    validation: str | None = None  # classifier: a separate labelled file
    # classifier: select checkpoints on a held-out slice of the training data ("texts": whole
    # texts, none of whose phrases is trained on; "train": rows, as runs before "texts" did;
    # the corpus' own validation split, e.g. SST-2 dev, is then scored once, at the end, as a
    # test set) or on that validation split itself ("corpus": optimistic, see splits.py).
    selection: str = "texts"
    reverse: bool = False  # language model: read the text right to left (a backward encoder)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 200  # a cap: the default run is bound by its 5 minutes, even on a fast CPU
    max_steps: int | None = None
    # Wall time of the whole run: data preparation, steps, evaluations, checkpoints and the
    # final scoring of the kept weights; a resumed run goes on with the same clock
    # (training/clock.py). 0 or None: no limit.
    max_minutes: float | None = 5.0
    lr: float = 5e-3
    optimizer: str = "adamw"
    weight_decay: float = 0.01
    schedule: str = "cosine"
    warmup_steps: int = 50
    clip: float = 1.0
    ema: float = 0.0  # decay of the evaluated weight average; 0: evaluate the live weights
    eval_every: int = 100
    # Language models: training's evaluations score the validation split's first N batches (a
    # fixed sample, ~3% of the time between two evaluations at the defaults); the kept weights
    # are scored on the whole split at the end. None: the whole split every time (runs made
    # before the sample existed stored None and keep that meaning).
    eval_batches: int | None = 10
    patience: int | None = None
    trace_test: bool = False  # classifier, for benchmarks: also score the test set each evaluation
    device: str = "auto"
    precision: str = "auto"
    seed: int = 1234
    class_weights: str | None = None  # classifier: None | "auto"
    embeddings: str | None = None  # classifier: pretrained vectors file
    adversarial: float = 0.0  # classifier: adversarial embedding perturbation, relative size
    word_dropout: float = 0.0  # classifier: share of training tokens replaced by [UNK]
    init_from: str | None = None  # classifier: a language-model run whose encoder it starts from
    pretrain_minutes: float = 0.0  # classifier: first train such an LM on its own training texts
    # the pretraining LM's vocabulary (its softmax is most of its step; 0: the classifier's own)
    pretrain_vocab: int = 0
    init_from_backward: str | None = None  # classifier: a right-to-left LM for the backward direction
    wide_lr_scale: float = 1.0  # classifier: the wide side's rate, as a multiple of --lr


PREDICT_BATCH_SIZE = 256  # texts per forward pass when classifying (seqcli classify)


DEFAULT_TEMPERATURE = 0.8


@dataclass(frozen=True)
class SampleConfig:
    length: int = 200
    # None: not given, so DEFAULT_TEMPERATURE when sampling; beam search refuses any given
    # value (it scores with the model's own probabilities), so it must know one was given.
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    greedy: bool = False
    num_samples: int = 1
    seed: int | None = None
    beam: int | None = None  # beam width: the most likely continuations instead of samples
    stop: tuple[str, ...] = ()  # a sample ends where its new text first contains one of these
    keep_stop: bool = False  # end the text with the stop string instead of cutting it off

    @property
    def sampling_temperature(self) -> float:
        """The temperature sampling uses: the one given, else the default."""
        return DEFAULT_TEMPERATURE if self.temperature is None else self.temperature


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
        raw = without_retired(raw)
        sections = {name: build_section(kind, raw.get(name, {}), name)
                    for name, kind in SECTIONS.items()}
        run = cls(task=raw.get("task", "lm"), **sections)
        validate(run)
        return run


def _reject_unknown(raw: Any, allowed: set[str], where: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of settings, got {type(raw).__name__}")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        hint = retired_hint(unknown[0]) or f"known: {', '.join(sorted(allowed))}"
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} ({hint})")


def build_section(kind: type, raw: dict[str, Any], where: str) -> Any:
    """Build one dataclass from a mapping, checking keys and value types (TOML gives both)."""
    known = {f.name for f in fields(kind)}
    _reject_unknown(raw, known, where)
    hints = typing.get_type_hints(kind)
    for key, value in raw.items():
        allowed, optional = _field_types(hints[key])
        if value is None and optional:
            continue
        # bool is an int to Python, but never a number to a user (and a float field takes ints)
        wrong = not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool))
        if wrong:
            raise ConfigError(f"{where}.{key}: expected {allowed[0].__name__}, got {value!r}")
    return kind(**raw)


def _field_types(hint: Any) -> tuple[tuple[type, ...], bool]:
    """(accepted types, None allowed) for a field annotation such as ``int | None``."""
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    concrete = tuple(m for m in members if m is not type(None))
    accepted = concrete + ((int,) if float in concrete else ())
    return accepted, len(concrete) < len(members)


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


# Classification starts from different defaults: word tokens, a bidirectional LSTM, SST-2.
# Chosen on the anytime curve (benchmarks/anytime.py, issue 24): SST-2 dev accuracy after 10
# minutes of a slow 2-core machine, mean of 3 seeds, against the NBSVM baseline beside it.
CLASSIFY_DEFAULTS = {
    # 128 units train 1.7x the texts per second of 256 and scored as well within the budget
    ("model", "bidirectional"): True, ("model", "hidden_size"): 128,
    ("model", "embedding_size"): 128, ("model", "num_layers"): 1, ("model", "dropout"): 0.5,
    ("data", "corpus"): "sst2", ("data", "tokenizer"): "word", ("data", "batch_size"): 64,
    ("data", "lowercase"): True, ("data", "min_frequency"): 1, ("data", "vocab_size"): 30000,
    ("train", "epochs"): 10, ("train", "lr"): 2e-3, ("train", "eval_every"): 250,
    ("train", "patience"): 8, ("train", "warmup_steps"): 100, ("train", "max_minutes"): 10.0,
    # Adversarial training (--adversarial) costs a second pass per step: within a time budget
    # it lost 2.5 points (81.2% against 83.7%, fewer steps), so it is off; subword n-grams
    # still pay.
    ("train", "ema"): 0.999, ("train", "adversarial"): 0.0, ("model", "subwords"): 16384,
    # Word dropout replaces a quarter of the training tokens by [UNK] at each step, so no
    # single word carries a text and [UNK] learns to stand for words never seen in training:
    # on SST-2 it was worth about +2.5 points of dev accuracy. Label smoothing did not help.
    ("train", "word_dropout"): 0.25,
    ("model", "weight_drop"): 0.0, ("model", "locked_dropout"): False,
    # The pretraining LM's softmax over SST-2's 14.8k words is most of its step: 4,000 words
    # (88% of the tokens) train 2.7x the tokens per second (benchmarks/RESULTS.md, issue 13).
    ("train", "pretrain_vocab"): 4000,
    # The wide side (word uni+bigrams hashed into 2^18 buckets, seqcli/classify/wide.py),
    # learning at a tenth of the rate: +0.65 points over the same model without it; at ten
    # times the rate it fitted the training phrases first and stopped early (-4 points).
    ("model", "wide"): 262144, ("train", "wide_lr_scale"): 0.1,
    # A selection slice is small enough to score whole at every evaluation (lm/task.py).
    ("train", "eval_batches"): None,
}

# Settings that may change when a run is resumed; everything else is fixed by the run.
RESUMABLE = {("train", "epochs"), ("train", "max_steps"), ("train", "max_minutes"),
             ("train", "device"), ("train", "precision"), ("train", "eval_every"),
             ("train", "patience"), ("train", "trace_test")}


def default_config(task: str) -> RunConfig:
    check_choice(task, TASKS, "--task")
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
    for name, kind in SECTIONS.items():
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


SECTIONS = {"model": ModelConfig, "data": DataConfig, "train": TrainConfig}
# Every setting by its flat name (unique across sections): the Python API's keywords.
FIELD_SECTIONS = {f.name: section for section, kind in SECTIONS.items() for f in fields(kind)}


def flat_overrides(values: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """Flat ``name=value`` settings (``hidden_size=512``) as checked (section, field) overrides."""
    unknown = sorted(set(values) - set(FIELD_SECTIONS))
    if unknown:
        close = difflib.get_close_matches(unknown[0], FIELD_SECTIONS, n=1)
        hint = retired_hint(unknown[0]) or (f"did you mean {close[0]!r}?" if close else
                                            f"known: {', '.join(sorted(FIELD_SECTIONS))}")
        raise ConfigError(f"unknown setting {unknown[0]!r} ({hint})")
    by_section: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        by_section.setdefault(FIELD_SECTIONS[name], {})[name] = value
    for section, raw in by_section.items():
        build_section(SECTIONS[section], raw, section)  # type checks
    return {(FIELD_SECTIONS[name], name): value for name, value in values.items()}


def task_default(task: str, section: str, name: str) -> Any:
    """A field's default for one task (the classifier starts from other values)."""
    return CLASSIFY_DEFAULTS.get((section, name), getattr(SECTIONS[section](), name)) \
        if task == "classify" else getattr(SECTIONS[section](), name)
