"""A language model's encoder as a classifier's starting point (ULMFiT's transfer step).

`--init-from RUN` builds the classifier on the language model's tokenizer, embedding and
recurrent layers:

- **Settings.** The encoder's shape and text handling come from the LM run (cell, layers,
  hidden and embedding sizes, tokenizer, lower-casing); one given explicitly that differs is
  an error, since those weights cannot fill it. A left-to-right LM cannot fill a backward
  direction, so the classifier is unidirectional unless `--init-from-backward` gives a
  right-to-left LM (`--reverse`) trained on the same embedding (`--init-from` the forward
  one, `--freeze-embedding`), as ULMFiT pairs a forward and a backward model; then it is a
  one-layer bidirectional classifier (above the first layer each direction reads both).
- **Vocabulary.** The LM's tokenizer, extended by the tokens of the labelled training texts
  that it lacks (word and char tokenizers; a byte-level BPE already spells every text). The
  LM's tokens keep their ids, so its embedding rows are copied as they are, and each added
  token starts from the mean of the LM's vectors: an average word, rather than noise.
- **Weights.** The embedding rows and every recurrent tensor, shapes checked, are copied; the
  pooling head stays freshly initialised. The run's meta records the source and the counts.

`--pretrain-minutes N` first trains that language model itself, on the classifier's own
training texts only (never its validation texts, never labels), as a run of its own beside
the classifier's, then starts the classifier from it. A bidirectional classifier gets both
models, N/2 minutes each (the backward one starting from the forward one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqcli.config import RunConfig, default_config, with_overrides
from seqcli.data.tokenizers import PAD_ID, UNK, UNK_ID, CharTokenizer, LibraryTokenizer, Tokenizer
from seqcli.errors import ConfigError
from seqcli.runs import LoadedRun, resolved_config

# (section, field) the encoder fixes, adopted from the LM run unless given the same.
ENCODER_FIELDS = (("model", "cell"), ("model", "num_layers"), ("model", "hidden_size"),
                  ("model", "embedding_size"), ("data", "tokenizer"), ("data", "lowercase"))
FLAGS = {"cell": "--cell", "num_layers": "--layers", "hidden_size": "--hidden",
         "embedding_size": "--embedding", "tokenizer": "--tokenizer",
         "lowercase": "--lowercase", "bidirectional": "--bidirectional"}


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
    stored = resolved_config(_run_dir(run, option))
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


PRETRAIN_BATCH, PRETRAIN_SEQ_LEN = 32, 128  # streams x words per pretraining step


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


def _run_dir(run: str, option: str = "--init-from") -> Path:
    path = Path(run)
    if not path.is_dir():
        raise ConfigError(f"{option} {run}: no such run directory")
    return path


def extend_tokenizer(lm: Tokenizer, own: Tokenizer) -> tuple[Tokenizer, int]:
    """The LM's tokenizer with `own`'s tokens that it lacks appended; (tokenizer, added)."""
    if isinstance(lm, CharTokenizer) and isinstance(own, CharTokenizer):
        known = set(lm.chars)
        extra = [c for c in own.chars if c not in known]
        return CharTokenizer(lm.chars[2:] + extra), len(extra)  # [PAD], [UNK] come first
    if isinstance(lm, LibraryTokenizer) and lm.kind == "word" and isinstance(own, LibraryTokenizer):
        return _extend_words(lm, own)
    return lm, 0


def _extend_words(lm: LibraryTokenizer, own: LibraryTokenizer) -> tuple[Tokenizer, int]:
    from tokenizers import Tokenizer as Backend
    from tokenizers import models

    vocab = lm.backend.get_vocab()
    extra = sorted((t for t in own.backend.get_vocab() if t not in vocab),
                   key=own.backend.token_to_id)
    if not extra:
        return lm, 0
    merged = {**vocab, **{token: len(vocab) + i for i, token in enumerate(extra)}}
    backend = Backend.from_str(lm.backend.to_str())
    backend.model = models.WordLevel(merged, unk_token=UNK)
    return LibraryTokenizer(backend, "word"), len(extra)


@torch.no_grad()
def load_encoder(model: nn.Module, lm: LoadedRun, backward: LoadedRun | None = None
                 ) -> dict[str, int]:
    """Copy the LM's embedding rows and recurrent weights into a fresh classifier, and the
    backward LM's recurrent weights into its reverse direction (`_reverse` in torch.nn's
    names). The embedding is the forward LM's: the backward one was trained on it, frozen."""
    source = lm.model
    rows = source.embedding.weight.shape[0]
    target = model.embedding.weight
    if target.shape[0] < rows or target.shape[1] != source.embedding.weight.shape[1]:
        raise ConfigError(f"the classifier's embedding {tuple(target.shape)} cannot hold the "
                          f"language model's {tuple(source.embedding.weight.shape)}")
    real = source.embedding.weight[UNK_ID + 1:]  # the LM never reads [PAD]
    target[:rows] = source.embedding.weight
    target[rows:] = real.mean(dim=0)
    target[PAD_ID] = 0.0  # the classifier's padding embedding (explain's baseline) stays zero
    weights = dict(source.recurrent.state_dict())
    if backward is not None:
        check_same_vocabulary(lm, backward)
        weights.update({f"{name}_reverse": tensor
                        for name, tensor in backward.model.recurrent.state_dict().items()})
    own = model.recurrent.state_dict()
    for name, tensor in weights.items():
        if name not in own or own[name].shape != tensor.shape:
            raise ConfigError(f"the language model's recurrent weight {name} "
                              f"{tuple(tensor.shape)} does not fit the classifier")
    missing = sorted(set(own) - set(weights))
    if missing:
        raise ConfigError(f"the language model leaves the classifier's {missing[0]} unfilled")
    model.recurrent.load_state_dict(weights)
    return {"encoder_tokens": rows, "added_tokens": target.shape[0] - rows}


def check_same_vocabulary(forward: LoadedRun, backward: LoadedRun) -> None:
    """Both directions read one embedding, so their ids must mean the same tokens."""
    if _vocabulary(forward.tokenizer) != _vocabulary(backward.tokenizer):
        raise ConfigError(f"--init-from-backward {backward.path} has another vocabulary than "
                          f"--init-from {forward.path}; train it with --init-from "
                          f"{forward.path} --reverse --freeze-embedding")
    if not torch.equal(forward.model.embedding.weight, backward.model.embedding.weight):
        raise ConfigError(f"--init-from-backward {backward.path} has other word vectors than "
                          f"--init-from {forward.path}; train it with --init-from "
                          f"{forward.path} --reverse --freeze-embedding")


def _vocabulary(tokenizer: Tokenizer) -> Any:
    if isinstance(tokenizer, CharTokenizer):
        return tuple(tokenizer.chars)
    if isinstance(tokenizer, LibraryTokenizer):
        return tokenizer.backend.get_vocab()
    return tokenizer.vocab_size
