"""A language model that starts from another one's weights (`seqcli train --init-from LM`).

Fine-tuning a language model on new text (ULMFiT's second stage) and the backward twin of a
pretrained encoder both start this way: the new run adopts the source's tokenizer as it is
(words it lacks read as [UNK], so every id keeps its meaning) and every weight, embedding,
recurrent layers and decoder alike. The source's encoder shape is adopted with its settings
(seqcli/transfer.py checks them, for both tasks, before anything is built).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from rich.console import Console

from seqcli.errors import ConfigError
from seqcli.runs import LoadedRun


def warm_start_hook(source: LoadedRun, run: str, meta: dict,
                    console: Console | None) -> Callable[[torch.nn.Module], None]:
    """Copies every weight of `source` into a freshly built model and records the source."""
    def init_model(model: torch.nn.Module) -> None:
        copy_all_weights(model, source.model, run)
        meta["init_from"] = str(run)
        if console is not None:
            console.print(f"weights from {run}", highlight=False, markup=False)

    return init_model


@torch.no_grad()
def copy_all_weights(model: torch.nn.Module, source: torch.nn.Module, run: str) -> None:
    own = model.state_dict()
    for name, tensor in source.state_dict().items():
        if name not in own or own[name].shape != tensor.shape:
            raise ConfigError(f"--init-from {run}: its weight {name} {tuple(tensor.shape)} "
                              "does not fit this model")
    model.load_state_dict(source.state_dict())
