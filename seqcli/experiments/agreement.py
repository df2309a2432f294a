"""The synthetic agreement task of the long-range memory experiment.

The textbook sentence "The cat, which already ate a bunch of food, was full" reduced to what
matters: a sequence opens with a subject noun that is singular or plural, D distractor words
follow, then a query token at which the model must choose the agreeing verb (was / were).
Only the first token decides the label, so a model gets it right exactly when it carried
that one bit across D steps.

The subject nouns appear only at the start, which is what makes the task a clean test of
memory: no later token says anything about the label.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

SINGULAR = ("cat", "dog", "child", "bird")
PLURAL = ("cats", "dogs", "children", "birds")
DISTRACTORS = ("which", "already", "ate", "a", "bunch", "of", "food", "that", "the", "old",
               "man", "had", "left", "on", "table", "near", "door", "after", "long", "day")
QUERY = "<verb>"
VERBS = ("was", "were")  # the label: 0 singular, 1 plural
VOCAB = SINGULAR + PLURAL + DISTRACTORS + (QUERY,)


@dataclass(frozen=True)
class AgreementTask:
    """Sequences of `distance` distractors between the subject and the query token."""

    distance: int

    @property
    def length(self) -> int:
        """Tokens per sequence: the subject, the distractors, the query."""
        return self.distance + 2

    def batch(self, size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """(ids [size, length], labels [size]) drawn from `generator` (CPU tensors)."""
        labels = torch.randint(0, 2, (size,), generator=generator)
        nouns = torch.randint(0, len(SINGULAR), (size,), generator=generator)
        subject = nouns + labels * len(SINGULAR)
        first = len(SINGULAR) + len(PLURAL)
        middle = torch.randint(first, first + len(DISTRACTORS), (size, self.distance),
                               generator=generator)
        query = torch.full((size, 1), VOCAB.index(QUERY))
        return torch.cat([subject[:, None], middle, query], dim=1), labels


def sentence(ids: Tensor) -> str:
    """One sequence as words, for showing what the model reads."""
    return " ".join(VOCAB[int(i)] for i in ids)
