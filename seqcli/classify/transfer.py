"""A language model's encoder as a classifier's starting point (ULMFiT's transfer step).

`--init-from RUN` builds the classifier on the language model's tokenizer, embedding and
recurrent layers:

- **Settings.** The encoder's shape and text handling come from the LM run (cell, layers,
  hidden and embedding sizes, tokenizer, lower-casing); one given explicitly that differs is
  an error, since those weights cannot fill it. A unidirectional LM cannot fill a backward
  direction, so the classifier is unidirectional unless asked otherwise (then: an error).
- **Vocabulary.** The LM's tokenizer, extended by the tokens of the labelled training texts
  that it lacks (word and char tokenizers; a byte-level BPE already spells every text). The
  LM's tokens keep their ids, so its embedding rows are copied as they are, and each added
  token starts from the mean of the LM's vectors: an average word, rather than noise.
- **Weights.** The embedding rows and every recurrent tensor, shapes checked, are copied; the
  pooling head stays freshly initialised. The run's meta records the source and the counts.

`--pretrain-minutes N` first trains that language model itself, on the classifier's own
training texts only (never its validation texts, never labels), as a run of its own beside
the classifier's, then starts the classifier from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqcli.config import RunConfig, default_config, with_overrides
from seqcli.data.tokenizers import PAD_ID, UNK, UNK_ID, CharTokenizer, LibraryTokenizer, Tokenizer
from seqcli.errors import ConfigError
from seqcli.runs import LoadedRun, load_run, resolved_config

# (section, field) the encoder fixes, adopted from the LM run unless given the same.
ENCODER_FIELDS = (("model", "cell"), ("model", "num_layers"), ("model", "hidden_size"),
                  ("model", "embedding_size"), ("data", "tokenizer"), ("data", "lowercase"))
FLAGS = {"cell": "--cell", "num_layers": "--layers", "hidden_size": "--hidden",
         "embedding_size": "--embedding", "tokenizer": "--tokenizer",
         "lowercase": "--lowercase", "bidirectional": "--bidirectional"}


def encoder_overrides(init_from: str, given: dict[tuple[str, str], Any]
                      ) -> dict[tuple[str, str], Any]:
    """`given` plus the encoder's settings from the LM run at `init_from`; one-line errors for
    a run that is no language model and for settings its weights cannot fill."""
    stored = resolved_config(_run_dir(init_from))
    if stored.task != "lm":
        raise ConfigError(f"--init-from {init_from} is a {stored.task} run; it needs a "
                          "language-model run (seqcli train --task lm)")
    adopted = {key: getattr(getattr(stored, key[0]), key[1]) for key in ENCODER_FIELDS}
    return _adopt(f"--init-from {init_from}", adopted, given)


def pretrain_overrides(given: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """`given` for a classifier whose encoder --pretrain-minutes will train: unidirectional."""
    return _adopt("--pretrain-minutes", {}, given)


def _adopt(source: str, adopted: dict[tuple[str, str], Any],
           given: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    adopted = {**adopted, ("model", "bidirectional"): False}
    for key, value in given.items():
        if key in adopted and value != adopted[key]:
            name = key[1]
            if name == "bidirectional":
                raise ConfigError(f"{source}: a left-to-right language model cannot fill a "
                                  "backward direction; drop --bidirectional")
            raise ConfigError(f"{source}: the language model has {name} {adopted[key]!r}, "
                              f"not {value!r}; drop {FLAGS[name]} or pass the language "
                              "model's value")
    return {**given, **adopted}


def pretrain_config(config: RunConfig, corpus: Path) -> RunConfig:
    """The language model --pretrain-minutes trains: the classifier's encoder shape and text
    handling, the LM task's defaults for the rest, the given minutes (epochs unbounded)."""
    m, d = config.model, config.data
    overrides = {("data", "corpus"): str(corpus), ("data", "tokenizer"): d.tokenizer,
                 ("data", "lowercase"): d.lowercase, ("data", "vocab_size"): d.vocab_size,
                 ("data", "min_frequency"): d.min_frequency, ("model", "cell"): m.cell,
                 ("model", "num_layers"): m.num_layers, ("model", "hidden_size"): m.hidden_size,
                 ("model", "embedding_size"): m.embedding_size, ("model", "impl"): m.impl,
                 ("train", "max_minutes"): config.train.pretrain_minutes,
                 ("train", "epochs"): 10_000, ("train", "seed"): config.train.seed,
                 ("train", "device"): config.train.device,
                 ("train", "precision"): config.train.precision}
    return with_overrides(default_config("lm"), overrides)


def _run_dir(init_from: str) -> Path:
    path = Path(init_from)
    if not path.is_dir():
        raise ConfigError(f"--init-from {init_from}: no such run directory")
    return path


def load_language_model(init_from: str) -> LoadedRun:
    """The LM run's tokenizer and weights, on the CPU (they are copied, then dropped)."""
    run = load_run(_run_dir(init_from), device="cpu", precision="fp32")
    if run.task != "lm":
        raise ConfigError(f"--init-from {init_from} is not a language-model run")
    return run


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
def load_encoder(model: nn.Module, lm: LoadedRun) -> dict[str, int]:
    """Copy the LM's embedding rows and recurrent weights into a fresh classifier."""
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
    own = model.recurrent.state_dict()
    for name, tensor in source.recurrent.state_dict().items():
        if name not in own or own[name].shape != tensor.shape:
            raise ConfigError(f"the language model's recurrent weight {name} "
                              f"{tuple(tensor.shape)} does not fit the classifier")
    model.recurrent.load_state_dict(source.recurrent.state_dict())
    return {"encoder_tokens": rows, "added_tokens": target.shape[0] - rows}
