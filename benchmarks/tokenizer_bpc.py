"""Held-out bits per character of language models on byte-level and character BPE.

    SEQCLI_DATA=/path/to/corpora python benchmarks/tokenizer_bpc.py [--max-minutes 3]
        [--vocab-size 2000] [--tokenizers bpe,bpe-char] [--corpus PATH-or-NAME ...]
        [-- EXTRA TRAIN ARGS]

Issue 25 asks whether BPE over the text's characters (``--tokenizer bpe-char``) should be
the default BPE instead of byte-level BPE (``bpe``). Per-token losses do not compare across
vocabularies, so each run is scored in **bits per character** of the held-out text:

    bpc = (total nats over the validation tokens) / (characters they cover) / ln 2

For each corpus (default: ``zh-rnn-notes.txt``, the Chinese notes, and ``timemachine``) and
each tokenizer, the real CLI trains the default language model (``seqcli train --corpus C
--tokenizer T --vocab-size V --max-minutes M``, the same fixed budget for all), then the run's
validation part (the last tenth, as training splits it) is read as ONE stream, state carried,
every token after the first predicted (`seqcli.lm.evaluate.evaluate_stream` with one row; the
training summary's val_loss drops each row's first token and a remainder, so it is not used).
The characters counted are those of the validation text after its first token. ``char`` (one
token per character) can be added to ``--tokenizers`` as a reference.

A bpe-char vocabulary lacks characters never seen in training: they read as [UNK], whose
probability is then counted for the whole character. The report gives the number of such
tokens (``unknown_tokens``) so an optimistic score is visible. Runs are written to a
temporary folder and deleted. ``--dry-run`` prints the commands and trains nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

from _plan import DRY_RUN_HELP, local_corpus, machine, print_plan, seqcli_command

from seqcli.data.text import read_text
from seqcli.data.tokenizers import UNK_ID
from seqcli.lm.batches import split_text
from seqcli.lm.evaluate import evaluate_stream
from seqcli.lm.streams import corpus_text_path, text_ids
from seqcli.locations import from_environment
from seqcli.runs import load_run

CORPORA = ("zh-rnn-notes.txt", "timemachine")  # a file of the mirror, a registry name


def corpus_argument(corpus: str) -> str:
    """A file of the SEQCLI_DATA mirror by its path (the Chinese notes are in no registry),
    else the name or path as given."""
    mirror = Path(os.environ.get("SEQCLI_DATA") or "/nonexistent") / corpus
    return str(mirror) if mirror.is_file() else corpus


def recipe(corpus: str, tokenizer: str, options: argparse.Namespace) -> list[str]:
    """The `seqcli train` arguments of one run, without where it goes or the extra flags."""
    return ["train", "--corpus", corpus_argument(corpus), "--tokenizer", tokenizer,
            "--vocab-size", str(options.vocab_size), "--max-minutes", f"{options.max_minutes:g}"]


def train_command(corpus: str, tokenizer: str, options: argparse.Namespace,
                  out: str) -> list[str]:
    """The exact command; the extra flags come last, so they win."""
    return seqcli_command([*recipe(corpus, tokenizer, options), "--out", out,
                           "--format", "json", *options.extra])


def held_out_bpc(run_dir: Path) -> dict:
    """Bits per character of the run's validation text, read as one stream."""
    run = load_run(run_dir, device="cpu", precision="fp32")
    d = run.config.data
    path = corpus_text_path(d.corpus, from_environment(os.environ), None)
    text = read_text(path)
    _, validation = split_text(text.lower() if d.lowercase else text, d.val_fraction)
    ids = text_ids(path, d, run.tokenizer, "validation")
    scores = evaluate_stream(run.model, ids, 1, d.seq_len, run.placement)
    first = run.tokenizer.spans(validation[:1000])[0][1]  # the first token is not predicted
    chars = len(validation) - first
    nats = scores["loss"] * scores["tokens"]
    return {"bpc": nats / chars / math.log(2), "validation_chars": chars,
            "validation_tokens": scores["tokens"], "chars_per_token": chars / scores["tokens"],
            "unknown_tokens": int((ids == UNK_ID).sum()),
            "vocab_size": run.tokenizer.vocab_size}


def run_one(corpus: str, tokenizer: str, options: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="bpc-") as tmp:
        command = train_command(corpus, tokenizer, options, f"{tmp}/run")
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise SystemExit(f"failed ({done.returncode}): {shlex.join(command)}")
        wall = time.perf_counter() - started
        summary = json.loads(done.stdout)
        return {"corpus": corpus, "tokenizer": tokenizer, **held_out_bpc(Path(tmp) / "run"),
                "steps": summary["steps"], "train_wall_seconds": round(wall, 1),
                "command": shlex.join(["seqcli", *recipe(corpus, tokenizer, options),
                                       *options.extra])}


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", default=None,
                        help=f"a corpus name or path (repeat; default: {', '.join(CORPORA)})")
    parser.add_argument("--tokenizers", default="bpe,bpe-char",
                        help="comma-separated kinds (default bpe,bpe-char; char as reference)")
    parser.add_argument("--vocab-size", type=int, default=2000)
    parser.add_argument("--max-minutes", type=float, default=3.0,
                        help="training budget of every run (default 3)")
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    parser.add_argument("extra", nargs="*", help="extra `seqcli train` arguments (after --)")
    options = parser.parse_args()
    options.corpus = options.corpus or list(CORPORA)
    options.tokenizers = [t for t in options.tokenizers.split(",") if t]
    if options.max_minutes <= 0 or options.vocab_size < 3:
        parser.error("--max-minutes must be > 0 and --vocab-size at least 3")
    return options


def main() -> None:
    options = parse_options()
    if options.dry_run:
        return print_plan({"benchmark": "tokenizer-bpc", "runs": [
            {"corpus": local_corpus(corpus_argument(c), os.environ),
             "command": train_command(c, t, options, "<temporary folder>/run")}
            for c in options.corpus for t in options.tokenizers]})
    results = [run_one(c, t, options) for c in options.corpus for t in options.tokenizers]
    print(json.dumps({"benchmark": "tokenizer-bpc", "max_minutes": options.max_minutes,
                      "vocab_size": options.vocab_size, "runs": results,
                      "machine": machine()}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
