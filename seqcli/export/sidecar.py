"""What travels beside an exported model: the run's tokenizer.json and ``<file>.json``.

A runtime without seqcli needs to turn text into ids and read the outputs back, so the export
folder holds the run's own tokenizer file (ours for characters, {"kind": "char", "vocab": [...]}
with id = 2 + position; the `tokenizers` library's file for word and BPE, which
``tokenizers.Tokenizer.from_file`` loads) and one JSON document describing the graph: task,
labels, cell and shape, input and output names, dtypes and shapes (strings are dynamic axes),
the state a language model carries, its reading direction (a ``--reverse`` model reads right
to left) and the tokens it may sample (never pad or unknown; for a byte-level BPE, the table
that keeps its output valid UTF-8: seqcli/lm/utf8.py), pad and unknown ids, lowercasing,
truncation, the subword and wide n-gram recipes, the verification and the versions that
wrote it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from seqcli.choices import DIRECTIONS
from seqcli.classify.subwords import MAX_N, MAX_NGRAMS, MIN_N
from seqcli.classify.wide import SEPARATOR
from seqcli.data.tokenizers import PAD_ID, UNK_ID
from seqcli.export.wrappers import GraphSpec
from seqcli.lm.utf8 import describe_masks, utf8_masks
from seqcli.runs import TOKENIZER_FILE, LoadedRun
from seqcli.version import __version__

SUBWORD_RECIPE = (f"per token: the distinct character n-grams of '<' + token + '>' for n = "
                  f"{MIN_N}..{MAX_N}, shortest first, at most {MAX_NGRAMS}; bucket = "
                  f"crc32(utf-8 bytes) % (buckets - 1) + 1; padded with 0 to the widest token "
                  f"(seqcli/classify/subwords.py)")
WIDE_RECIPE = (f"per text: its tokens' strings as the tokenizer reads them (lowercased when "
               f"lowercase, truncated to max_length; an unknown token by its own string, a "
               f"character run by its characters); the distinct tokens in order of first "
               f"occurrence, then the distinct pairs of adjacent tokens joined by "
               f"{SEPARATOR!r}, likewise; bucket = crc32(utf-8 bytes) % (buckets - 1) + 1; "
               f"padded with 0 to the text with most (an empty text has none) "
               f"(seqcli/classify/wide.py)")
BACKWARD_USAGE = ("; this model reads right to left (trained with --reverse): feed a text's ids "
                  "last first, and what it samples is the text before them, nearest first")


def sidecar_path(model_file: Path) -> Path:
    """``model.onnx`` -> ``model.onnx.json`` (so model.onnx and model.pt can share a folder)."""
    return model_file.with_name(model_file.name + ".json")


def tokenizer_path(model_file: Path) -> Path:
    return model_file.with_name(TOKENIZER_FILE)


def tokenizer_text(run: LoadedRun) -> str:
    """The run's tokenizer.json as it is on disk."""
    return (run.path / TOKENIZER_FILE).read_text(encoding="utf-8")


def describe(run: LoadedRun, spec: GraphSpec, model_file: Path, fmt: str,
             extra: dict[str, Any]) -> dict[str, Any]:
    """The sidecar document (see the module docstring); `extra`: format and verification."""
    m, d = run.config.model, run.config.data
    document: dict[str, Any] = {
        "file": model_file.name, "format": fmt, "task": run.task,
        "model": {"cell": m.cell, "num_layers": m.num_layers, "hidden_size": m.hidden_size,
                  "embedding_size": m.embedding_size, "bidirectional": m.bidirectional,
                  "vocab_size": run.tokenizer.vocab_size},
        "inputs": [_tensor(spec, name) for name in spec.inputs],
        "outputs": [_tensor(spec, name) for name in spec.outputs],
        "tokenizer": {"file": TOKENIZER_FILE, "kind": run.tokenizer.kind, "pad_id": PAD_ID,
                      "unk_id": UNK_ID, "lowercase": d.lowercase},
        **_task_fields(run, spec), **extra,
        "run": str(run.path), "seqcli_version": __version__,
        "torch_version": torch.__version__,
    }
    return document


def _tensor(spec: GraphSpec, name: str) -> dict[str, Any]:
    return {"name": name, "dtype": spec.dtype(name), "shape": list(spec.shapes[name])}


def _task_fields(run: LoadedRun, spec: GraphSpec) -> dict[str, Any]:
    if run.task == "lm":
        states = [n for n in spec.inputs if n != "ids"]
        backward = run.config.data.reverse
        return {"state": [{"input": name, "output": out, "shape": list(spec.shapes[name])}
                          for name, out in zip(states, spec.outputs[1:])],
                "never_sample": [PAD_ID, UNK_ID], "direction": DIRECTIONS[backward],
                "utf8": describe_masks(utf8_masks(run.tokenizer, backward)),
                "usage": "prime once (ids [1, T], zero states), then feed one token [1, 1] "
                         "per step with the states returned; sample from logits[:, -1], "
                         "never never_sample and, where utf8 is not null (byte-level BPE, "
                         "whose tokens can split characters), only tokens its rule allows"
                         + (BACKWARD_USAGE if backward else "")}
    m = run.config.model
    subwords = None if not m.subwords else {
        "buckets": m.subwords, "input": "ngrams", "min_n": MIN_N, "max_n": MAX_N,
        "max_ngrams": MAX_NGRAMS, "recipe": SUBWORD_RECIPE}
    return {"labels": run.labels, "pooling": m.pooling, "max_length": run.config.data.max_length,
            "subwords": subwords,
            "wide": {"buckets": m.wide, "input": "wide", "separator": SEPARATOR,
                     "recipe": WIDE_RECIPE} if m.wide else None,
            "usage": "ids right-padded with pad_id to the longest text, lengths the true "
                     "lengths (>= 1; an empty text is one unk_id); texts longer than "
                     "max_length keep their first max_length tokens; softmax(logits) gives "
                     "the probabilities of labels, in order"}
