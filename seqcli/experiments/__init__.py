"""Experiments that show what the zoo's cells can and cannot do, on synthetic tasks.

`seqcli experiment memory` is ``memory_run.py`` (with ``memory_settings``, ``memory_model``,
``memory_training``, ``memory_replay`` and ``memory_outputs`` beside it) on the task of
``agreement.py``.

``memory``, ``MemoryResult`` and ``Trial`` load on first use (PEP 562, as ``seqcli``'s own
names do): Python runs this file before ``memory_settings``, which `seqcli experiment memory
--help` reads for its defaults without waiting for torch.
"""

import importlib
from typing import TYPE_CHECKING, Any

from seqcli.experiments.memory_settings import MemoryConfig

if TYPE_CHECKING:
    from seqcli.experiments.memory_run import MemoryResult, Trial, memory

_LAZY = {"MemoryResult", "Trial", "memory"}  # from memory_run

__all__ = ["MemoryConfig", "MemoryResult", "Trial", "memory"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'seqcli.experiments' has no attribute {name!r}")
    value = getattr(importlib.import_module("seqcli.experiments.memory_run"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)
