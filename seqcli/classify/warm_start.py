"""A classifier that starts from a language model's encoder (`--init-from LM`, ULMFiT's
transfer step): the classifier's side of the copy.

- **Vocabulary.** The LM's tokenizer, extended by the tokens of the labelled training texts
  that it lacks (word and char tokenizers; a byte-level BPE already spells every text). The
  LM's tokens keep their ids, so its embedding rows are copied as they are, and each added
  token starts from the mean of the LM's vectors: an average word, rather than noise.
- **Weights.** The embedding rows and every recurrent tensor, shapes checked, are copied; the
  pooling head stays freshly initialised. A backward LM's recurrent weights fill the reverse
  direction. The run's meta records the source and the counts.

Which settings a run adopts from the LM, and `--pretrain-minutes`, are seqcli/transfer.py;
a language model starting from another is seqcli/lm/warm_start.py.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seqcli.data.tokenizers import PAD_ID, UNK, UNK_ID, CharTokenizer, LibraryTokenizer, Tokenizer
from seqcli.errors import ConfigError
from seqcli.runs import LoadedRun


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
