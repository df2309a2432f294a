"""A classifier's labelled examples: the training split and where its validation texts come from.

Validation data (what early stopping and checkpoint selection read), in order of preference:
the file given with ``data.validation``; with ``data.selection == "corpus"`` the corpus' own
validation split (SST-2's dev.tsv); else a stratified, seeded ``data.val_fraction`` of the
training examples. Evaluation rebuilds the same split with `load_splits`, so "the run's
validation data" means the same texts in training and in ``seqcli evaluate``.

That fraction is drawn by whole text with the default ``selection = "texts"``
(`seqcli.data.text_split`): SST-2's train.tsv holds its ~7k sentences *and* their
sub-phrases, so a slice of rows (``"train"``, kept exactly for the runs that stored it)
validates on phrases whose sentence is trained on, and scored 91-93% where unseen sentences
(dev) score 85-86%. Held-out texts keep every row inside them out of training.

With ``"texts"`` or ``"train"`` a corpus' own validation split becomes the run's *test* set,
scored once at the end with the selected weights. Selecting on the set one reports is
optimistic: SST-2's default scored about 1.7 points lower on an independent test set than on
the dev set it had been selected and tuned on (issue 13).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from seqcli.config import RunConfig
from seqcli.data.labelled import LabelledData, read_labelled, read_paired, stratified_split
from seqcli.data.registry import ResolvedCorpus, resolve_corpus
from seqcli.data.text_split import text_split
from seqcli.errors import DataError
from seqcli.locations import Locations


@dataclass
class Splits:
    train: LabelledData
    val: LabelledData
    validation: str  # where the validation texts came from, for the run's meta
    test: LabelledData | None = None  # scored once, after training (see the module docstring)


def resolve_labelled(corpus: str, locations: Locations,
                     console: Console | None) -> ResolvedCorpus:
    """Local files of a labelled corpus name or path; language-model corpora are refused."""
    return resolve_corpus(corpus, data_dir=locations.data, cache_dir=locations.cache,
                          console=console, task="classify")


def read_split(resolved: ResolvedCorpus, split: str, text_column: str | None = None,
               label_column: str | None = None) -> LabelledData | None:
    """A registry corpus' split (None when it has none), or all of a user path for "train"."""
    corpus = resolved.corpus
    if corpus is None:
        return read_labelled(resolved.path(), text_column=text_column,
                             label_column=label_column) if split == "train" else None
    files = corpus.split_files(split)
    if not files:
        return None
    if corpus.format == "paired":
        return read_paired({f.label: resolved.paths[f.path] for f in files},
                           encoding=corpus.encoding)
    parts = [read_labelled(resolved.paths[f.path], text_column=text_column or corpus.text_column,
                           label_column=label_column or corpus.label_column,
                           encoding=corpus.encoding) for f in files]
    names = corpus.label_names
    return LabelledData([t for p in parts for t in p.texts],
                        [names.get(label, label) for p in parts for label in p.labels],
                        ", ".join(p.source for p in parts))


def load_splits(config: RunConfig, locations: Locations, console: Console | None) -> Splits:
    """Training and validation examples for a run's config (see the module docstring)."""
    d = config.data
    resolved = resolve_labelled(d.corpus, locations, console)
    train = read_split(resolved, "train", d.text_column, d.label_column)
    if train is None:
        raise DataError(f"{d.corpus}: the corpus has no training split")
    if d.validation is not None:
        val = read_labelled(Path(d.validation), text_column=d.text_column,
                            label_column=d.label_column)
        return Splits(train, val, f"file {d.validation}")
    corpus_val = read_split(resolved, "validation", d.text_column, d.label_column)
    if corpus_val is not None and d.selection == "corpus":
        return Splits(train, corpus_val, "the corpus' validation split")
    slicer = slice_texts if d.selection == "texts" else slice_rows
    train_idx, val_idx, described = slicer(train, config)
    return Splits(train.subset(train_idx), train.subset(val_idx), described, test=corpus_val)


def slice_rows(train: LabelledData, config: RunConfig) -> tuple[list[int], list[int], str]:
    """``selection = "train"``: a stratified fraction of the rows, as runs before "texts"."""
    d, seed = config.data, config.train.seed
    train_idx, val_idx = stratified_split(train.labels, d.val_fraction, seed)
    if not val_idx:
        _too_few(train, "example")
    return train_idx, val_idx, f"stratified {d.val_fraction:g} of the training data (seed {seed})"


def slice_texts(train: LabelledData, config: RunConfig) -> tuple[list[int], list[int], str]:
    """``selection = "texts"``: a stratified fraction of the whole texts, nothing of which
    is trained on; the description says how many rows that kept out of training."""
    d, seed = config.data, config.train.seed
    split = text_split(train.texts, train.labels, d.val_fraction, seed, lowercase=d.lowercase)
    if not split.val:
        _too_few(train, "distinct text")
    inside = (f"{split.dropped} training rows inside them dropped" if split.checked else
              "texts too long to look for sub-phrases, only exact duplicates grouped")
    return split.train, split.val, (
        f"stratified {d.val_fraction:g} of the training texts (seed {seed}): {split.held_out} "
        f"of {split.roots} whole texts held out, {inside}")


def _too_few(train: LabelledData, unit: str) -> None:
    labels = ", ".join(sorted(set(train.labels)))
    raise DataError(f"{train.source}: too few examples to hold any out for validation "
                    f"(every class has one {unit}: {labels}); add examples or give a "
                    f"validation file with --validation")
