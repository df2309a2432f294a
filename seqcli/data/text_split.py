"""A held-out slice drawn by whole text, so that nothing of a held-out text is trained on.

`stratified_split` draws rows; on a phrase-level corpus (SST-2) a held-out phrase then shares
words, whole sub-phrases or its very sentence with the training rows, and the slice scores 6-7
points above unseen sentences: checkpoint selection and early stopping read a flattering
number. `text_split` draws a stratified, seeded fraction of the *roots* (texts inside no
longer training text, see `seqcli.data.spans`) instead. Validation holds the rows of those
roots (exact duplicates included); training holds every row that is neither such a root nor a
span of one. The rows that are spans of held-out roots go to neither side: they are counted as
`dropped`. On a corpus without sub-phrases (MR) this is the row-level split with exact
duplicates kept together; with no duplicates either, it is exactly `stratified_split`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from seqcli.data.labelled import stratified_split
from seqcli.data.spans import MAX_SPAN_WORK, index_texts, spans_inside


@dataclass(frozen=True)
class TextSplit:
    train: list[int]  # row indices, sorted
    val: list[int]  # row indices, sorted
    roots: int  # distinct texts inside no longer one
    held_out: int  # roots whose rows are the validation slice
    dropped: int  # rows trained on by neither side: spans of held-out roots
    checked: bool  # False: containment skipped by the cost guard (only duplicates grouped)


def text_split(texts: Sequence[str], labels: Sequence[str], fraction: float, seed: int, *,
               lowercase: bool, max_work: int = MAX_SPAN_WORK) -> TextSplit:
    """(train, validation) rows with `fraction` of each class's roots held out, seeded.

    A root's class is its first row's label. As in `stratified_split`, every class with two
    or more roots gives at least one to validation and keeps one.
    """
    index = index_texts(texts, lowercase, max_work)
    root_labels = [labels[index.rows[r][0]] for r in index.roots]
    _, picked = stratified_split(root_labels, fraction, seed)
    held = [index.roots[k] for k in picked]
    closed = set(held) | spans_inside(index, held)
    val = sorted(row for i in held for row in index.rows[i])
    train = sorted(row for i, rows in enumerate(index.rows) if i not in closed for row in rows)
    return TextSplit(train, val, len(index.roots), len(held),
                     len(texts) - len(train) - len(val), index.checked)
