"""Experiments that show what the zoo's cells can and cannot do, on synthetic tasks.

`seqcli experiment memory` is ``memory_run.py`` (with ``memory_settings``, ``memory_model``,
``memory_training``, ``memory_replay`` and ``memory_outputs`` beside it) on the task of
``agreement.py``.
"""

from seqcli.experiments.memory_run import MemoryResult, Trial, memory
from seqcli.experiments.memory_settings import MemoryConfig

__all__ = ["MemoryConfig", "MemoryResult", "Trial", "memory"]
