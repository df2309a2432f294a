"""`seqcli train`: flags -> RunConfig -> seqcli.training.pipeline."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqcli.cli.common import (Format, cache_dir, data_dir, err_console, handle_errors,
                               print_json, runs_root)
from seqcli.config import (RunConfig, config_from_toml, default_config, load_toml,
                           resume_conflicts, with_overrides)
from seqcli.errors import ConfigError
from seqcli.training import checkpoint as ckpt
from seqcli.training import pipeline
from seqcli.training.reporting import Reporter, RichReporter, metrics_table

Task = Enum("Task", {"lm": "lm", "classify": "classify"}, type=str)
Cell = Enum("Cell", {"rnn": "rnn", "lstm": "lstm", "gru": "gru"}, type=str)
Impl = Enum("Impl", {"fused": "fused", "scratch": "scratch"}, type=str)
TokenizerKind = Enum("TokenizerKind", {"char": "char", "word": "word", "bpe": "bpe"}, type=str)
Device = Enum("Device", {"auto": "auto", "cpu": "cpu", "cuda": "cuda", "mps": "mps"}, type=str)
Precision = Enum("Precision", {k: k for k in ("auto", "fp32", "bf16", "fp16")}, type=str)
Optim = Enum("Optim", {"adamw": "adamw", "sgd": "sgd"}, type=str)
Pooling = Enum("Pooling", {"last": "last", "mean": "mean", "max": "max"}, type=str)
Schedule = Enum("Schedule", {"cosine": "cosine", "constant": "constant"}, type=str)
Partition = Enum("Partition", {"sequential": "sequential", "random": "random"}, type=str)

# CLI option name -> (config section, field). The CLI passes only the options a user gave.
FIELDS = {
    "corpus": ("data", "corpus"), "tokenizer": ("data", "tokenizer"),
    "cell": ("model", "cell"), "layers": ("model", "num_layers"),
    "hidden": ("model", "hidden_size"), "embedding": ("model", "embedding_size"),
    "bidirectional": ("model", "bidirectional"), "dropout": ("model", "dropout"),
    "impl": ("model", "impl"), "tie_weights": ("model", "tie_weights"),
    "pooling": ("model", "pooling"), "subwords": ("model", "subwords"),
    "seq_len": ("data", "seq_len"),
    "batch_size": ("data", "batch_size"), "partition": ("data", "partition"),
    "val_fraction": ("data", "val_fraction"), "vocab_size": ("data", "vocab_size"),
    "min_frequency": ("data", "min_frequency"), "lowercase": ("data", "lowercase"),
    "max_length": ("data", "max_length"), "text_column": ("data", "text_column"),
    "label_column": ("data", "label_column"), "validation": ("data", "validation"),
    "epochs": ("train", "epochs"), "max_steps": ("train", "max_steps"),
    "max_minutes": ("train", "max_minutes"), "lr": ("train", "lr"),
    "optimizer": ("train", "optimizer"), "weight_decay": ("train", "weight_decay"),
    "clip": ("train", "clip"), "ema": ("train", "ema"), "schedule": ("train", "schedule"),
    "warmup_steps": ("train", "warmup_steps"), "eval_every": ("train", "eval_every"),
    "patience": ("train", "patience"), "device": ("train", "device"),
    "precision": ("train", "precision"), "seed": ("train", "seed"),
    "class_weights": ("train", "class_weights"), "embeddings": ("train", "embeddings"),
    "adversarial": ("train", "adversarial"),
}

M, D, T, O = "Model", "Data", "Training", "Output"


def _opt(*names: str, help: str, panel: str, **kw):
    return typer.Option(*names, help=help, rich_help_panel=panel, show_default=False, **kw)


@handle_errors
def train(
    task: Annotated[Optional[Task], _opt("--task", help="lm (default) or classify.", panel=D)] = None,
    corpus: Annotated[Optional[str], _opt("--corpus", help="Corpus name (see `seqcli corpus list`) or a path. [lm: timemachine; classify: sst2]", panel=D)] = None,
    tokenizer: Annotated[Optional[TokenizerKind], _opt("--tokenizer", help="char | word | bpe. [lm: char; classify: word]", panel=D)] = None,
    cell: Annotated[Optional[Cell], _opt("--cell", help="rnn | lstm | gru. [lstm]", panel=M)] = None,
    layers: Annotated[Optional[int], _opt("--layers", help="Stacked recurrent layers. [lm: 2]", panel=M)] = None,
    hidden: Annotated[Optional[int], _opt("--hidden", help="Hidden units per layer. [lm: 256]", panel=M)] = None,
    embedding: Annotated[Optional[int], _opt("--embedding", help="Embedding size. [lm: 64]", panel=M)] = None,
    bidirectional: Annotated[Optional[bool], _opt("--bidirectional/--unidirectional", help="Run both directions (classifiers only).", panel=M)] = None,
    dropout: Annotated[Optional[float], _opt("--dropout", help="Dropout probability. [lm: 0.2]", panel=M)] = None,
    impl: Annotated[Optional[Impl], _opt("--impl", help="fused (torch.nn, cuDNN/oneDNN) or scratch (cells from the equations). [fused]", panel=M)] = None,
    tie_weights: Annotated[Optional[bool], _opt("--tie-weights", help="Share embedding and output weights (needs --embedding = --hidden).", panel=M)] = None,
    pooling: Annotated[Optional[Pooling], _opt("--pooling", help="Classifier pooling: last | mean | max. [max]", panel=M)] = None,
    subwords: Annotated[Optional[int], _opt("--subwords", help="Classifier: add each token's character 3-5-grams, hashed into this many buckets, so words unseen in training still carry meaning (fastText-style); 0: off. [classify: 16384]", panel=M)] = None,
    seq_len: Annotated[Optional[int], _opt("--seq-len", help="BPTT window in tokens. [128]", panel=D)] = None,
    batch_size: Annotated[Optional[int], _opt("--batch-size", help="Sequences per batch. [lm: 32]", panel=D)] = None,
    partition: Annotated[Optional[Partition], _opt("--partition", help="sequential (state carried) or random (state reset). [sequential]", panel=D)] = None,
    val_fraction: Annotated[Optional[float], _opt("--val-fraction", help="Held-out fraction (last part of an LM text). [0.1]", panel=D)] = None,
    vocab_size: Annotated[Optional[int], _opt("--vocab-size", help="Word/BPE vocabulary size.", panel=D)] = None,
    min_frequency: Annotated[Optional[int], _opt("--min-frequency", help="Word/BPE minimum token count.", panel=D)] = None,
    lowercase: Annotated[Optional[bool], _opt("--lowercase/--keep-case", help="Lower-case text before tokenizing.", panel=D)] = None,
    max_length: Annotated[Optional[int], _opt("--max-length", help="Classifier: tokens kept per text. [400]", panel=D)] = None,
    text_column: Annotated[Optional[str], _opt("--text-column", help="CSV/TSV/JSONL text column.", panel=D)] = None,
    label_column: Annotated[Optional[str], _opt("--label-column", help="CSV/TSV/JSONL label column.", panel=D)] = None,
    validation: Annotated[Optional[str], _opt("--validation", help="Classifier: separate labelled validation file.", panel=D)] = None,
    epochs: Annotated[Optional[int], _opt("--epochs", help="Passes over the training data.", panel=T)] = None,
    max_steps: Annotated[Optional[int], _opt("--max-steps", help="Stop after this many optimizer steps.", panel=T)] = None,
    max_minutes: Annotated[Optional[float], _opt("--max-minutes", help="Stop after this much training time; 0: no limit. [lm: 5; classify: 14]", panel=T)] = None,
    lr: Annotated[Optional[float], _opt("--lr", help="Peak learning rate. [lm: 5e-3; classify: 2e-3]", panel=T)] = None,
    optimizer: Annotated[Optional[Optim], _opt("--optimizer", help="adamw | sgd. [adamw]", panel=T)] = None,
    weight_decay: Annotated[Optional[float], _opt("--weight-decay", help="AdamW weight decay. [0.01]", panel=T)] = None,
    schedule: Annotated[Optional[Schedule], _opt("--schedule", help="Learning-rate schedule after warm-up: cosine | constant. [cosine]", panel=T)] = None,
    warmup_steps: Annotated[Optional[int], _opt("--warmup-steps", help="Linear warm-up steps. [50]", panel=T)] = None,
    clip: Annotated[Optional[float], _opt("--clip", help="Clip the global gradient norm to this. [1.0]", panel=T)] = None,
    ema: Annotated[Optional[float], _opt("--ema", help="Evaluate and keep a moving average of the weights with this decay; 0: off. [lm: 0; classify: 0.999]", panel=T)] = None,
    eval_every: Annotated[Optional[int], _opt("--eval-every", help="Evaluate (and checkpoint) every N steps. [lm: 100]", panel=T)] = None,
    patience: Annotated[Optional[int], _opt("--patience", help="Early stop after N evaluations without improvement.", panel=T)] = None,
    class_weights: Annotated[Optional[str], _opt("--class-weights", help="Classifier: auto (inverse frequency) or none.", panel=T)] = None,
    embeddings: Annotated[Optional[str], _opt("--embeddings", help="Classifier: pretrained vectors (GloVe/word2vec text).", panel=T)] = None,
    adversarial: Annotated[Optional[float], _opt("--adversarial", help="Classifier: also train on embeddings perturbed against the loss by this fraction of their norm (Miyato et al. 2017); 0: off. [classify: 0.05]", panel=T)] = None,
    device: Annotated[Optional[Device], _opt("--device", help="auto | cpu | cuda | mps. [auto]", panel=T)] = None,
    precision: Annotated[Optional[Precision], _opt("--precision", help="auto | fp32 | bf16 | fp16. [auto: bf16 where fast and safe]", panel=T)] = None,
    seed: Annotated[Optional[int], _opt("--seed", help="Random seed. [1234]", panel=T)] = None,
    out: Annotated[Optional[Path], _opt("--out", help="Run directory (default: $SEQCLI_RUNS or ./runs, /<task>-<time>).", panel=O)] = None,
    resume: Annotated[Optional[Path], _opt("--resume", help="Continue the run in DIR from its last checkpoint.", panel=O)] = None,
    config: Annotated[Optional[Path], _opt("--config", help="TOML file with [model], [data], [train] tables.", panel=O)] = None,
    format: Annotated[Format, _opt("--format", help="text, or json: one summary document on stdout.", panel=O)] = Format.text,
) -> None:
    """Train a language model (default: char LSTM on The Time Machine) or a classifier."""
    params = dict(locals())
    given = {FIELDS[k]: (v.value if isinstance(v, Enum) else v)
             for k, v in params.items() if k in FIELDS and v is not None}
    if class_weights is not None and class_weights == "none":
        given[FIELDS["class_weights"]] = None
    task_name = task.value if task is not None else None
    locations = pipeline.Locations(runs_root(), data_dir(), cache_dir())
    console = err_console if format == Format.text else None
    if resume is not None:
        if out is not None or config is not None:
            raise ConfigError("--resume continues a run in place; do not combine it with "
                              "--out or --config")
        run_config = _resumed_config(resume, task_name, given)
        reporter = _reporter(run_config, format)
        summary = pipeline.resume(resume, run_config, locations, reporter=reporter,
                                  console=console)
    else:
        base = config_from_toml(load_toml(config), task_name) if config is not None \
            else default_config(task_name or "lm")
        run_config = with_overrides(base, given)
        reporter = _reporter(run_config, format)
        summary = pipeline.train(run_config, locations, out=out, reporter=reporter,
                                 console=console)
    _report(summary, format)


def _resumed_config(run_dir: Path, task: str | None, given: dict) -> RunConfig:
    stored = ckpt.resolved_config(run_dir)
    if task is not None and task != stored.task:
        raise ConfigError(f"--resume {run_dir} is a {stored.task} run, not {task}")
    conflicts = resume_conflicts(stored, given)
    if conflicts:
        raise ConfigError("--resume keeps the run's architecture and data; these options "
                          "differ: " + "; ".join(conflicts))
    return with_overrides(stored, given)


def _reporter(run_config: RunConfig, format: Format) -> Reporter:
    if format == Format.json:
        return Reporter()
    fields = ("loss", "ppl", "tok/s", "lr") if run_config.task == "lm" else ("loss", "texts/s", "lr")
    return RichReporter(err_console, fields)


def _report(summary: dict, format: Format) -> None:
    if format == Format.json:
        print_json(summary)
    else:
        shown = {k: v for k, v in summary.items() if isinstance(v, (int, float))}
        err_console.print(metrics_table("training summary", shown))
        run_dir = summary["run_dir"]
        if summary.get("stopped_by") == "interrupted":
            err_console.print(f"interrupted: checkpoint saved; continue with "
                              f"[bold]seqcli train --resume {run_dir}[/]")
        else:
            use = "seqcli generate" if summary.get("task") == "lm" else "seqcli classify FILE"
            err_console.print(f"run saved to [bold]{run_dir}[/]; try [bold]{use} --model {run_dir}[/]")
    if summary.get("stopped_by") == "interrupted":
        raise typer.Exit(130)
