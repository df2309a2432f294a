"""Experiments that show what the zoo's cells can and cannot do, on synthetic tasks."""

from seqcli.experiments.long_range import MemoryConfig, MemoryResult, Trial, memory

__all__ = ["MemoryConfig", "MemoryResult", "Trial", "memory"]
