"""`seqcli train`: flags -> RunConfig -> seqcli.pipeline (the path `seqcli.train` takes too).

Every option's default shown in --help is read from the config dataclasses (`task_default`),
so the help can never disagree with what a run does. torch and the training code are imported
inside the functions that run, so --help and a bad flag answer without loading them.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.markup import escape

from seqcli.cli.choices import (Cell, ClassWeights, Device, Format, Impl, Optim, Partition, Pooling,
                                Precision, Schedule, Selection, Task, TokenizerKind, format_option,
                                value)
from seqcli.cli.common import err_console, locations, print_json, state
from seqcli.config import (FIELD_SECTIONS, RunConfig, config_from_toml, default_config, load_toml,
                           task_default, with_overrides)
from seqcli.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from seqcli.training.distributed import Group

# Options named otherwise than their config field; every other option is its field's name.
ALIASES = {"layers": "num_layers", "hidden": "hidden_size", "embedding": "embedding_size"}
M, D, T, O = "Model", "Data", "Training", "Output"
MAX_PROCESSES = 1024


def _field(option: str) -> tuple[str, str]:
    name = ALIASES.get(option, option)
    return FIELD_SECTIONS[name], name


def _opt(*names: str, help: str, panel: str, field: str | None = None, **kw: Any):
    """An option whose help ends with its default per task, e.g. ``[lm: 50; classify: 100]``."""
    if field is not None:
        section, name = _field(field)
        lm, clf = task_default("lm", section, name), task_default("classify", section, name)
        shown = f"[{_show(lm)}]" if lm == clf else f"[lm: {_show(lm)}; classify: {_show(clf)}]"
        help = f"{help} {escape(shown)}"  # rich would read [...] as markup and drop it
    return typer.Option(*names, help=help, rich_help_panel=panel, show_default=False, **kw)


def _show(default: Any) -> str:
    if default is None:
        return "none"
    if isinstance(default, bool):
        return "on" if default else "off"
    return f"{default:g}" if isinstance(default, float) else str(default)


def train(
    task: Annotated[Optional[Task], _opt("--task", help="lm or classify.", panel=D)] = None,
    corpus: Annotated[Optional[str], _opt("--corpus", help="Corpus name (see `seqcli corpus list`) or a path.", panel=D, field="corpus")] = None,
    tokenizer: Annotated[Optional[TokenizerKind], _opt("--tokenizer", help="char | word | bpe (byte-level) | bpe-char (BPE over the text's characters).", panel=D, field="tokenizer")] = None,
    cell: Annotated[Optional[Cell], _opt("--cell", help="rnn | lstm | gru.", panel=M, field="cell")] = None,
    layers: Annotated[Optional[int], _opt("--layers", help="Stacked recurrent layers.", panel=M, field="layers")] = None,
    hidden: Annotated[Optional[int], _opt("--hidden", help="Hidden units per layer.", panel=M, field="hidden")] = None,
    embedding: Annotated[Optional[int], _opt("--embedding", help="Embedding size.", panel=M, field="embedding")] = None,
    bidirectional: Annotated[Optional[bool], _opt("--bidirectional/--unidirectional", help="Run both directions (classifiers only).", panel=M, field="bidirectional")] = None,
    dropout: Annotated[Optional[float], _opt("--dropout", help="Dropout on the top layer's output and between layers (and on the embeddings unless --input-dropout).", panel=M, field="dropout")] = None,
    input_dropout: Annotated[Optional[float], _opt("--input-dropout", help="Dropout on the embeddings [default: as --dropout].", panel=M, field="input_dropout")] = None,
    embedding_dropout: Annotated[Optional[float], _opt("--embedding-dropout", help="Drop whole words (rows of the embedding matrix) per batch.", panel=M, field="embedding_dropout")] = None,
    weight_drop: Annotated[Optional[float], _opt("--weight-drop", help="DropConnect on the hidden-to-hidden weights, a new mask per batch (AWD-LSTM); the fused kernels stay.", panel=M, field="weight_drop")] = None,
    freeze_embedding: Annotated[Optional[bool], _opt("--freeze-embedding/--train-embedding", help="Keep the embedding as it starts (e.g. a backward language model on its forward twin's vectors).", panel=M, field="freeze_embedding")] = None,
    locked_dropout: Annotated[Optional[bool], _opt("--locked-dropout/--no-locked-dropout", help="One dropout mask per sequence, shared by all its steps (variational dropout).", panel=M, field="locked_dropout")] = None,
    drop_mult: Annotated[Optional[float], _opt("--drop-mult", help="Scale every dropout rate by this factor.", panel=M, field="drop_mult")] = None,
    impl: Annotated[Optional[Impl], _opt("--impl", help="fused (torch.nn, cuDNN/oneDNN) or scratch (cells from the equations).", panel=M, field="impl")] = None,
    tie_weights: Annotated[Optional[bool], _opt("--tie-weights", help="Share embedding and output weights (needs --embedding = --hidden).", panel=M, field="tie_weights")] = None,
    pooling: Annotated[Optional[Pooling], _opt("--pooling", help="Classifier pooling: last | mean | max.", panel=M, field="pooling")] = None,
    subwords: Annotated[Optional[int], _opt("--subwords", help="Classifier: add each token's character 3-5-grams, hashed into this many buckets, so words unseen in training still carry meaning (fastText-style); 0: off.", panel=M, field="subwords")] = None,
    wide: Annotated[Optional[int], _opt("--wide", help="Classifier: add a linear model over the text's word uni- and bigrams, hashed into this many buckets, trained with the recurrent one (wide and deep; char tokens: character uni- and bigrams); 0: off.", panel=M, field="wide")] = None,
    seq_len: Annotated[Optional[int], _opt("--seq-len", help="BPTT window in tokens.", panel=D, field="seq_len")] = None,
    batch_size: Annotated[Optional[int], _opt("--batch-size", help="Sequences per batch.", panel=D, field="batch_size")] = None,
    reverse: Annotated[Optional[bool], _opt("--reverse/--forward", help="Language model: read the text right to left (a bidirectional classifier's backward encoder, see --init-from-backward).", panel=D, field="reverse")] = None,
    selection: Annotated[Optional[Selection], _opt("--selection", help="Classifier: pick checkpoints and stop early on a held-out slice of the training data, or on the corpus' own validation split (corpus). texts: a slice of whole texts, every training row inside one (its sub-phrases, its duplicates) held back too; train: a slice of rows (runs before texts was the default). With either, the corpus' validation split is the test set, scored once at the end.", panel=D, field="selection")] = None,
    partition: Annotated[Optional[Partition], _opt("--partition", help="sequential (state carried) or random (state reset).", panel=D, field="partition")] = None,
    val_fraction: Annotated[Optional[float], _opt("--val-fraction", help="Held-out fraction (last part of an LM text).", panel=D, field="val_fraction")] = None,
    vocab_size: Annotated[Optional[int], _opt("--vocab-size", help="Word/BPE vocabulary size.", panel=D, field="vocab_size")] = None,
    min_frequency: Annotated[Optional[int], _opt("--min-frequency", help="Word/BPE minimum token count.", panel=D, field="min_frequency")] = None,
    lowercase: Annotated[Optional[bool], _opt("--lowercase/--keep-case", help="Lower-case text before tokenizing.", panel=D, field="lowercase")] = None,
    max_length: Annotated[Optional[int], _opt("--max-length", help="Classifier: tokens kept per text.", panel=D, field="max_length")] = None,
    text_column: Annotated[Optional[str], _opt("--text-column", help="CSV/TSV/JSONL text column.", panel=D)] = None,
    label_column: Annotated[Optional[str], _opt("--label-column", help="CSV/TSV/JSONL label column.", panel=D)] = None,
    validation: Annotated[Optional[str], _opt("--validation", help="Classifier: separate labelled validation file.", panel=D)] = None,
    epochs: Annotated[Optional[int], _opt("--epochs", help="Passes over the training data.", panel=T, field="epochs")] = None,
    max_steps: Annotated[Optional[int], _opt("--max-steps", help="Stop after this many optimizer steps.", panel=T, field="max_steps")] = None,
    max_minutes: Annotated[Optional[float], _opt("--max-minutes", help="Wall-clock budget of the whole run, in minutes: training stops early enough that evaluations, checkpoints and the final scoring end inside it; a resumed run goes on with the same clock (resume with a larger value to train longer); 0: no limit.", panel=T, field="max_minutes")] = None,
    lr: Annotated[Optional[float], _opt("--lr", help="Peak learning rate.", panel=T, field="lr")] = None,
    optimizer: Annotated[Optional[Optim], _opt("--optimizer", help="adamw | sgd.", panel=T, field="optimizer")] = None,
    weight_decay: Annotated[Optional[float], _opt("--weight-decay", help="AdamW weight decay.", panel=T, field="weight_decay")] = None,
    schedule: Annotated[Optional[Schedule], _opt("--schedule", help="Learning-rate schedule after warm-up: cosine or constant.", panel=T, field="schedule")] = None,
    warmup_steps: Annotated[Optional[int], _opt("--warmup-steps", help="Linear warm-up steps.", panel=T, field="warmup_steps")] = None,
    clip: Annotated[Optional[float], _opt("--clip", help="Clip the global gradient norm to this.", panel=T, field="clip")] = None,
    ema: Annotated[Optional[float], _opt("--ema", help="Evaluate and keep a moving average of the weights with this decay; 0: off.", panel=T, field="ema")] = None,
    eval_every: Annotated[Optional[int], _opt("--eval-every", help="Evaluate (and checkpoint) every N steps.", panel=T, field="eval_every")] = None,
    eval_batches: Annotated[Optional[int], _opt("--eval-batches", help="Language models: evaluations during training score a fixed sample, the validation split's first N batches (each --batch-size stretches spread over the split); the weights kept as best are scored on the whole split at the end. 0: the whole split every time.", panel=T, field="eval_batches")] = None,
    trace_test: Annotated[Optional[bool], _opt("--trace-test/--no-trace-test", help="Classifier, for benchmarks: also score the test set (e.g. SST-2 dev) at every evaluation, logged as test_accuracy in metrics.jsonl beside the wall time; never used to select, and its time is left out of the run's clock and --max-minutes.", panel=T, field="trace_test")] = None,
    patience: Annotated[Optional[int], _opt("--patience", help="Early stop after N evaluations without improvement.", panel=T, field="patience")] = None,
    class_weights: Annotated[Optional[ClassWeights], _opt("--class-weights", help="Classifier: auto (inverse frequency) or none.", panel=T)] = None,
    embeddings: Annotated[Optional[str], _opt("--embeddings", help="Classifier: pretrained vectors (GloVe/word2vec text).", panel=T)] = None,
    adversarial: Annotated[Optional[float], _opt("--adversarial", help="Classifier: also train on embeddings perturbed against the loss by this fraction of their norm (Miyato et al. 2017); 0: off.", panel=T, field="adversarial")] = None,
    pretrain_minutes: Annotated[Optional[float], _opt("--pretrain-minutes", help="Classifier: first train a language model on the training texts for N minutes (a run of its own), then start from its encoder.", panel=T, field="pretrain_minutes")] = None,
    init_from: Annotated[Optional[str], _opt("--init-from", help="Start from this language-model run: a classifier from its tokenizer, embedding and recurrent layers (ULMFiT); a language model from all its weights (fine-tune on new text).", panel=T, field="init_from")] = None,
    init_from_backward: Annotated[Optional[str], _opt("--init-from-backward", help="Classifier: fill the backward direction from this right-to-left (--reverse) language model, trained with --init-from the forward one and --freeze-embedding.", panel=T, field="init_from_backward")] = None,
    pretrain_vocab: Annotated[Optional[int], _opt("--pretrain-vocab", help="Classifier: the --pretrain-minutes language model's vocabulary (rarer words join from the mean vector); 0: the classifier's own.", panel=T, field="pretrain_vocab")] = None,
    word_dropout: Annotated[Optional[float], _opt("--word-dropout", help="Classifier: replace this share of training tokens by [UNK] at each step; 0: off.", panel=T, field="word_dropout")] = None,
    device: Annotated[Optional[Device], _opt("--device", help="auto | cpu | cuda | mps.", panel=T, field="device")] = None,
    precision: Annotated[Optional[Precision], _opt("--precision", help="auto | fp32 | bf16 | fp16 (auto: bf16 where the hardware computes in it).", panel=T, field="precision")] = None,
    seed: Annotated[Optional[int], _opt("--seed", help="Random seed.", panel=T, field="seed")] = None,
    out: Annotated[Optional[Path], _opt("--out", help="Run directory (default: $SEQCLI_RUNS or ./runs, /<task>-<time>).", panel=O)] = None,
    resume: Annotated[Optional[Path], _opt("--resume", help="Continue the run in DIR from its last checkpoint.", panel=O)] = None,
    config: Annotated[Optional[Path], _opt("--config", help="TOML file with [model], [data], [train] tables.", panel=O)] = None,
    format: Annotated[Format, format_option(Format, "text (progress and a table on stderr), or json: the summary as one document on stdout.", rich_help_panel=O, show_default=False)] = Format.text,
    nproc: Annotated[Optional[int], _opt("--nproc", help="Train data-parallel in N local processes (torch's elastic launcher; under torchrun leave it out). [1]", panel=T)] = None,
) -> None:
    """Train a language model (default: char LSTM on The Time Machine) or a classifier."""
    options = {k: v for k, v in locals().items() if k not in ("task", "out", "resume", "config",
                                                                 "format", "nproc")}
    if nproc is not None and (nproc < 1 or nproc > MAX_PROCESSES):
        raise UsageError(f"--nproc must be from 1 to {MAX_PROCESSES}; got {nproc}")
    given = {_field(k): (v.value if isinstance(v, Enum) else v)
             for k, v in options.items() if v is not None}
    if class_weights is not None and class_weights.value == "none":
        given[_field("class_weights")] = None
    run_config = _config(value(task), given, resume, out, config)
    from seqcli.cli.launch import check_shareable, launch, worker_spec
    from seqcli.training import distributed

    spec = worker_spec(os.environ)
    if nproc is not None and nproc > 1 and spec.world_size > 1:
        raise UsageError("--nproc starts its own workers; under torchrun leave it out")
    if nproc is not None and nproc > 1:  # checked once here, then every worker starts
        check_shareable(run_config, nproc)
        raise typer.Exit(launch(nproc, state.argv))
    group = distributed.start(spec, run_config.train.device)
    finished = False
    try:
        summary = _run(run_config, resume, out, format, group)
        finished = True
    finally:
        distributed.stop(group, finished)
    if group.is_main:
        _report(summary, format)
    code = 0 if summary.get("stopped_by") != "interrupted" else \
        143 if summary.get("signal") == "SIGTERM" else 130
    if group.active:  # skip C++ teardown: gloo's threads can abort a finished worker at exit
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        raise typer.Exit(code)


def _config(task: str | None, given: dict, resume: Path | None, out: Path | None,
            config: Path | None) -> RunConfig:
    """The run's settings: the resumed run's own, or the task's defaults, then the TOML file,
    then the flags given."""
    if resume is not None and (out is not None or config is not None):
        raise ConfigError("--resume continues a run in place; do not combine it with "
                          "--out or --config")
    if resume is not None:
        from seqcli import pipeline

        return pipeline.resume_config(resume, task, given)
    base = config_from_toml(load_toml(config), task) if config is not None \
        else default_config(task or "lm")
    starts_from = ("init_from", "pretrain_minutes")  # settings come from another run too
    if not any(given.get(("train", name), getattr(base.train, name)) for name in starts_from):
        with_overrides(base, given)  # the flags' own errors, before torch loads
    from seqcli import pipeline

    return pipeline.fresh_config(base, given)


def _run(run_config: RunConfig, resume: Path | None, out: Path | None, format: Format,
         group: Group) -> dict:
    """Train or resume; only rank 0 shows progress."""
    from seqcli import pipeline
    from seqcli.api import make_reporter

    console = err_console if format == Format.text and group.is_main else None
    reporter = make_reporter(run_config, console is not None, err_console)
    if resume is not None:
        return pipeline.resume(resume, run_config, locations(), console=console,
                               reporter=reporter, group=group)
    return pipeline.train(run_config, locations(), out=out, console=console, reporter=reporter,
                          group=group)


def _report(summary: dict, format: Format) -> None:
    from seqcli.training.reporting import metrics_table

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
