"""Transfer and pretraining: what a run takes from the language model it starts from, and
`--pretrain-minutes`, which trains that language model first (ULMFiT's transfer step).

`--init-from RUN` starts a run from a language model's weights:

- **Settings.** The encoder's shape and text handling come from the LM run (cell, layers,
  hidden and embedding sizes, tokenizer, lower-casing); one given explicitly that differs is
  an error, since those weights cannot fill it. A left-to-right LM cannot fill a backward
  direction, so the classifier is unidirectional unless `--init-from-backward` gives a
  right-to-left LM (`--reverse`) trained on the same embedding (`--init-from` the forward
  one, `--freeze-embedding`), as ULMFiT pairs a forward and a backward model; then it is a
  one-layer bidirectional classifier (above the first layer each direction reads both). A
  language model starting from another adopts the same settings and its decoder's tying.
- **Weights.** Copied when the model is built, by the task: seqcli/classify/warm_start.py
  (the LM's vocabulary extended, its embedding rows and recurrent layers) and
  seqcli/lm/warm_start.py (every weight).

`--pretrain-minutes N` first trains that language model itself, on the classifier's own
training texts only (never its validation texts, never labels), as a run of its own beside
the classifier's, then starts the classifier from it. A bidirectional classifier gets both
models, N/2 minutes each (the backward one starting from the forward one). A pretraining
that fails before its first checkpoint leaves nothing behind; one that Ctrl-C stops keeps a
resumable language model and says how to go on.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

from seqcli.atomic import write_text
from seqcli.classify.splits import load_splits
from seqcli.config import RunConfig, default_config, with_overrides
from seqcli.errors import CheckpointError, ConfigError, DataError, Interrupted, UsageError
from seqcli.locations import Locations
from seqcli.runs import new_run_dir, resolved_config, weights_file
from seqcli.training.distributed import Group

# (section, field) the encoder fixes, adopted from the LM run unless given the same.
ENCODER_FIELDS = (("model", "cell"), ("model", "num_layers"), ("model", "hidden_size"),
                  ("model", "embedding_size"), ("data", "tokenizer"), ("data", "lowercase"))
FLAGS = {"cell": "--cell", "num_layers": "--layers", "hidden_size": "--hidden",
         "embedding_size": "--embedding", "tokenizer": "--tokenizer",
         "lowercase": "--lowercase", "bidirectional": "--bidirectional"}
PRETRAIN_BATCH, PRETRAIN_SEQ_LEN = 32, 128  # streams x words per pretraining step
PRETRAIN_TEXTS = "pretrain-texts.txt"  # in the pretrained LM's run directory


class TrainRun(Protocol):
    """pipeline.train, passed in: pretraining trains its language models the same way."""

    def __call__(self, config: RunConfig, locations: Locations, *, out: Path | None = None,
                 console: Console | None = None) -> dict[str, Any]: ...


# ----- settings ------------------------------------------------------------------------------
def transfer_settings(base: RunConfig, given: dict[tuple[str, str], Any]
                      ) -> dict[tuple[str, str], Any]:
    """`given` for a new run on `base`, with what --init-from or --pretrain-minutes fixes;
    one-line errors for combinations that cannot work."""
    init_from = given.get(("train", "init_from"), base.train.init_from)
    backward = given.get(("train", "init_from_backward"), base.train.init_from_backward)
    minutes = given.get(("train", "pretrain_minutes"), base.train.pretrain_minutes)
    if init_from and minutes:
        raise ConfigError("--init-from and --pretrain-minutes both give the encoder; choose one")
    if backward and not init_from:
        raise ConfigError("--init-from-backward gives the backward direction; the forward one "
                          "comes with --init-from")
    if init_from:
        return encoder_overrides(init_from, given, base.task, backward)
    if base.task == "classify" and minutes:
        return pretrain_overrides(given, base)
    return given


def encoder_overrides(init_from: str, given: dict[tuple[str, str], Any], task: str = "classify",
                      backward: str | None = None) -> dict[tuple[str, str], Any]:
    """`given` plus the encoder's settings from the LM run at `init_from` (and the backward LM
    at `backward`); one-line errors for a run that is no language model and for settings its
    weights cannot fill. A language model starting from another adopts its decoder's tying."""
    stored = _stored_lm(init_from, "--init-from")
    fields = ENCODER_FIELDS + ((("model", "tie_weights"),) if task == "lm" else ())
    adopted = {key: getattr(getattr(stored, key[0]), key[1]) for key in fields}
    if task == "lm":
        return _adopt(f"--init-from {init_from}", adopted, given, bidirectional=False)
    if backward is not None:
        check_backward(stored, _stored_lm(backward, "--init-from-backward"), init_from, backward)
        _need_one_layer(f"--init-from-backward {backward}", {**given, **adopted})
    return _adopt(f"--init-from {init_from}", adopted, given, bidirectional=backward is not None)


def pretrain_overrides(given: dict[tuple[str, str], Any], base: RunConfig
                       ) -> dict[tuple[str, str], Any]:
    """`given` for a classifier whose encoder --pretrain-minutes will train: bidirectional
    (two language models, one per direction) only as one layer, which they can fill."""
    if given.get(("model", "bidirectional"), base.model.bidirectional):
        _need_one_layer("--pretrain-minutes", {("model", "num_layers"): base.model.num_layers,
                                               **given})
    return given


def _need_one_layer(source: str, settings: dict[tuple[str, str], Any]) -> None:
    layers = settings.get(("model", "num_layers"), 1)
    if layers != 1:
        raise ConfigError(f"{source}: two one-way language models can fill a bidirectional "
                          f"classifier's first layer only (above it each direction reads "
                          f"both); use --layers 1 or --unidirectional, not --layers {layers}")


def _stored_lm(run: str, option: str) -> RunConfig:
    path = Path(run)
    if not path.is_dir():
        raise ConfigError(f"{option} {run}: no such run directory")
    stored = resolved_config(path)
    if stored.task != "lm":
        raise ConfigError(f"{option} {run} is a {stored.task} run; it needs a "
                          "language-model run (seqcli train --task lm)")
    return stored


def check_backward(forward: RunConfig, backward: RunConfig, init_from: str, run: str) -> None:
    """The backward LM must read right to left and share the forward one's encoder shape."""
    if forward.data.reverse:
        raise ConfigError(f"--init-from {init_from} reads right to left (--reverse); the "
                          "forward direction needs a left-to-right language model")
    if not backward.data.reverse:
        raise ConfigError(f"--init-from-backward {run} reads left to right; train it with "
                          "--reverse")
    for section, name in ENCODER_FIELDS:
        ours, theirs = getattr(getattr(forward, section), name), getattr(getattr(backward, section), name)
        if ours != theirs:
            raise ConfigError(f"--init-from-backward {run} has {name} {theirs!r}, the forward "
                              f"language model {ours!r}; they must match")


def _adopt(source: str, adopted: dict[tuple[str, str], Any],
           given: dict[tuple[str, str], Any], *, bidirectional: bool
           ) -> dict[tuple[str, str], Any]:
    adopted = {**adopted, ("model", "bidirectional"): bidirectional}
    for key, value in given.items():
        if key in adopted and value != adopted[key]:
            name = key[1]
            if name == "bidirectional" and value:
                raise ConfigError(f"{source}: a left-to-right language model cannot fill a "
                                  "backward direction; add --init-from-backward with a "
                                  "--reverse language model, or drop --bidirectional")
            if name == "bidirectional":
                raise ConfigError(f"{source}: --init-from-backward fills the backward "
                                  "direction; drop --unidirectional or the backward model")
            raise ConfigError(f"{source}: the language model has {name} {adopted[key]!r}, "
                              f"not {value!r}; drop {FLAGS[name]} or pass the language "
                              "model's value")
    return {**given, **adopted}


def pretrain_config(config: RunConfig, corpus: Path, *, minutes: float,
                    backward_of: str | None = None) -> RunConfig:
    """A language model --pretrain-minutes trains: the classifier's encoder shape and text
    handling, the LM task's defaults for the rest, `minutes` (epochs unbounded).

    Its vocabulary is capped at `pretrain_vocab` (the softmax over every word is most of a word
    LM's step; rarer words join the classifier from the mean vector). The backward model
    (`backward_of` the forward run) starts from the forward one, reads right to left and keeps
    the forward embedding frozen: the classifier has one embedding for both directions.
    """
    m, d, t = config.model, config.data, config.train
    vocab = min(d.vocab_size, t.pretrain_vocab) if t.pretrain_vocab else d.vocab_size
    overrides = {("data", "corpus"): str(corpus), ("data", "tokenizer"): d.tokenizer,
                 ("data", "lowercase"): d.lowercase, ("data", "vocab_size"): vocab,
                 ("data", "min_frequency"): d.min_frequency, ("model", "cell"): m.cell,
                 ("model", "num_layers"): m.num_layers, ("model", "hidden_size"): m.hidden_size,
                 ("model", "embedding_size"): m.embedding_size, ("model", "impl"): m.impl,
                 ("train", "max_minutes"): minutes,
                 # the batch its transfer was measured with (RESULTS.md, issue 13), not the
                 # char LM default's smaller one
                 ("data", "batch_size"): PRETRAIN_BATCH, ("data", "seq_len"): PRETRAIN_SEQ_LEN,
                 ("train", "epochs"): 10_000, ("train", "seed"): t.seed,
                 ("train", "device"): t.device, ("train", "precision"): t.precision}
    if backward_of is not None:
        overrides.update({("data", "reverse"): True, ("train", "init_from"): backward_of,
                          ("model", "freeze_embedding"): True})
    return with_overrides(default_config("lm"), overrides)


# ----- pretraining ---------------------------------------------------------------------------
def pretrain(config: RunConfig, locations: Locations, console: Console | None, group: Group,
             train: TrainRun) -> RunConfig:
    """--pretrain-minutes: a language model on the classifier's training texts (its own run,
    under the runs folder), and for a bidirectional classifier a backward one after it (half
    the minutes each); then the classifier's config pointing --init-from at them."""
    if group.active:
        raise UsageError("--pretrain-minutes trains in one process; under several, pretrain "
                         "first (seqcli train --tokenizer word --corpus TEXTS) and pass "
                         "--init-from RUN")
    texts = load_splits(config, locations, console).train.texts
    both = config.model.bidirectional
    minutes = config.train.pretrain_minutes / (2 if both else 1)
    forward = _pretrain_one(config, locations, console, texts, minutes, None, train)
    if not both:
        return with_overrides(config, {("train", "init_from"): str(forward)})
    backward = _pretrain_one(config, locations, console, texts, minutes, forward, train)
    return with_overrides(config, {("train", "init_from"): str(forward),
                                   ("train", "init_from_backward"): str(backward)})


def _pretrain_one(config: RunConfig, locations: Locations, console: Console | None,
                  texts: list[str], minutes: float, backward_of: Path | None,
                  train: TrainRun) -> Path:
    """One pretraining LM, forward or (`backward_of` the forward run) right to left."""
    lm_dir = new_run_dir(locations.runs, "lm")
    corpus = lm_dir / PRETRAIN_TEXTS
    try:
        write_text(corpus, "\n".join(" ".join(t.split()) for t in texts) + "\n")
        way = "forward" if backward_of is None else "backward (right-to-left)"
        _say(console, f"pretraining a {way} language model on {len(texts)} training texts for "
                      f"{minutes:g} min: {lm_dir}")
        lm_config = pretrain_config(config, corpus, minutes=minutes,
                                    backward_of=None if backward_of is None else str(backward_of))
        summary = train(lm_config, locations, out=lm_dir, console=console)
    except BaseException as err:
        if _discard_unfinished(lm_dir) and isinstance(err, DataError):
            # it names the copy of the texts just removed: say what the user gave instead
            raise DataError("--pretrain-minutes: " + str(err).replace(
                str(corpus), "the classifier's training texts")) from None
        raise
    if summary.get("stopped_by") == "interrupted":
        encoder = (f"--init-from {lm_dir}" if backward_of is None
                   else f"--init-from {backward_of} --init-from-backward {lm_dir}")
        raise Interrupted(f"pretraining interrupted; the language model is saved in {lm_dir}: "
                          f"resume it with seqcli train --resume {lm_dir}, then train the "
                          f"classifier with {encoder}")
    _say(console, f"pretrained {summary.get('steps')} steps, held-out loss "
                  f"{summary.get('val_loss', float('nan')):.3f}")
    return lm_dir


def _discard_unfinished(lm_dir: Path) -> bool:
    """A pretraining LM that failed before its first checkpoint is no run (`runs list` would
    not show it) but holds a copy of the user's training texts: remove the folder, which
    seqcli made and filled alone, and say so. One with a checkpoint is a listed run and stays."""
    try:
        weights_file(lm_dir)
        return False
    except CheckpointError:
        shutil.rmtree(lm_dir, ignore_errors=True)
        return True


def _say(console: Console | None, line: str) -> None:
    if console is not None:
        console.print(line, highlight=False, markup=False)
