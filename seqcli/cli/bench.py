"""`seqcli bench train | generate | classify`: throughput against references, side by side.

Flags become the settings dataclasses of ``seqcli.bench``; corpora come from ``SEQCLI_DATA``
(or the cache) and are never downloaded here: without them seeded synthetic text of the same
shape is used and the report's ``corpus`` says so.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from seqcli.bench.processes import ProcessBenchSettings
from seqcli.bench.settings import ClassifyBenchSettings, GenerateBenchSettings, TrainBenchSettings
from seqcli.cli.choices import Cell, Device, Format, Impl, Precision, format_option
from seqcli.cli.common import err_console, locations, out_console, print_json

# Defaults come from the settings dataclasses, so --help shows what a run uses.
TB, GB, CB = TrainBenchSettings(), GenerateBenchSettings(), ClassifyBenchSettings()
PB = ProcessBenchSettings()

app = typer.Typer(help="Throughput benchmarks with references run side by side, interleaved.",
                  no_args_is_help=True)

FormatOpt = Annotated[Format, format_option(Format, "text (a table), or json: one document on stdout.")]
CellOpt = Annotated[Cell, typer.Option("--cell", help="rnn | lstm | gru.")]
DeviceOpt = Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")]
PrecisionOpt = Annotated[Precision, typer.Option("--precision", help="seqcli's precision: auto | fp32 | bf16 | fp16 (references stay fp32).")]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", help="torch intra-op threads (default: torch's choice).", min=1)]
RoundsOpt = Annotated[int, typer.Option("--rounds", help="Interleaved rounds (each candidate runs once per round).", min=1)]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed.")]


@app.command("train")
def train(
    cell: CellOpt = Cell(TB.cell),
    hidden: Annotated[int, typer.Option("--hidden", help="Hidden units per layer.", min=1)] = TB.hidden_size,
    layers: Annotated[int, typer.Option("--layers", help="Stacked layers.", min=1)] = TB.num_layers,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Windows per batch.", min=1)] = TB.batch_size,
    seq_len: Annotated[int, typer.Option("--seq-len", help="Steps per window.", min=1)] = TB.seq_len,
    embedding: Annotated[Optional[int], typer.Option("--embedding", help="seqcli's embedding size (default: the vocabulary size, as wide as one-hot).", min=1)] = TB.embedding_size,
    steps: Annotated[int, typer.Option("--steps", help="Training steps per candidate per round.", min=1)] = TB.steps,
    quality_steps: Annotated[int, typer.Option("--quality-steps", help="Also train this many steps at auto precision and at fp32 and compare validation loss (0: skip).", min=0)] = TB.quality_steps,
    device: DeviceOpt = Device.auto, precision: PrecisionOpt = Precision.auto, threads: ThreadsOpt = None,
    rounds: RoundsOpt = TB.rounds, seed: SeedOpt = TB.seed, format: FormatOpt = Format.text,
    nproc: Annotated[Optional[int], typer.Option("--nproc", help="Instead: the real `seqcli train` in 1 process against N data-parallel processes (steps are per run, at least 20).", min=2)] = None,
) -> None:
    """Training tokens/s: seqcli fused and scratch against d2l's scratch and nn.LSTM loops."""
    from seqcli.bench.data import d2l_chars
    from seqcli.bench.processes import bench_processes
    from seqcli.bench.train import bench_train

    data = d2l_chars(locations().data, locations().cache)
    if nproc is not None:
        settings = ProcessBenchSettings(
            nproc=nproc, cell=cell.value, hidden_size=hidden, num_layers=layers,
            embedding_size=embedding or data.vocab_size, batch_size=batch_size,
            seq_len=seq_len, precision=precision.value, rounds=rounds,
            steps=max(steps, PB.steps))
        report = bench_processes(settings, data.text, data.source, _progress(rounds, format))
        _show(report, "tokens", format)
        return
    _threads(threads)
    settings = TrainBenchSettings(cell=cell.value, hidden_size=hidden, num_layers=layers,
                                  batch_size=batch_size, seq_len=seq_len, embedding_size=embedding,
                                  device=device.value, precision=precision.value, rounds=rounds, steps=steps,
                                  quality_steps=quality_steps, seed=seed)
    report = bench_train(settings, data, _progress(rounds, format))
    _show(report, "tokens", format)


@app.command("generate")
def generate(
    cell: CellOpt = Cell(GB.cell),
    hidden: Annotated[int, typer.Option("--hidden", help="Hidden units per layer.", min=1)] = GB.hidden_size,
    layers: Annotated[int, typer.Option("--layers", help="Stacked layers.", min=1)] = GB.num_layers,
    impl: Annotated[Impl, typer.Option("--impl", help="fused or scratch.")] = Impl(GB.impl),
    length: Annotated[int, typer.Option("--length", help="Tokens to sample.", min=4)] = GB.length,
    num_samples: Annotated[Optional[list[int]], typer.Option("--num-samples", help="Batch sizes to time against as many samples one after another (repeatable; default: 1, 8, 32; 0: skip).", min=0)] = None,
    batch_length: Annotated[int, typer.Option("--batch-length", help="Tokens per sample in the batching comparison.", min=1)] = GB.batch_length,
    device: DeviceOpt = Device.auto, precision: PrecisionOpt = Precision.auto, threads: ThreadsOpt = None,
    rounds: RoundsOpt = GB.rounds, seed: SeedOpt = GB.seed, format: FormatOpt = Format.text,
) -> None:
    """Sampling tokens/s with the state carried, against re-running the prefix per token; and
    --num-samples N as one batch against N samples one after another."""
    from seqcli.bench.data import d2l_chars
    from seqcli.bench.generate import bench_generate

    _threads(threads)
    sizes = GB.batch_sizes if num_samples is None else tuple(n for n in num_samples if n > 0)
    settings = GenerateBenchSettings(cell=cell.value, hidden_size=hidden, num_layers=layers,
                                     impl=impl.value, length=length, device=device.value,
                                     precision=precision.value, rounds=rounds, seed=seed,
                                     batch_sizes=sizes, batch_length=batch_length)
    report = bench_generate(settings, d2l_chars(locations().data, locations().cache), _progress(rounds, format))
    _show(report, "tokens", format)


@app.command("classify")
def classify(
    cell: CellOpt = Cell(CB.cell),
    hidden: Annotated[int, typer.Option("--hidden", help="Hidden units per layer.", min=1)] = CB.hidden_size,
    layers: Annotated[int, typer.Option("--layers", help="Stacked layers.", min=1)] = CB.num_layers,
    embedding: Annotated[int, typer.Option("--embedding", help="Embedding size.", min=1)] = CB.embedding_size,
    bidirectional: Annotated[bool, typer.Option("--bidirectional/--unidirectional", help="Run both directions.")] = CB.bidirectional,
    impl: Annotated[Impl, typer.Option("--impl", help="fused or scratch.")] = Impl(CB.impl),
    texts: Annotated[int, typer.Option("--texts", help="Sentences per round.", min=1)] = CB.texts,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Sentences per batch.", min=1)] = CB.batch_size,
    device: DeviceOpt = Device.auto, precision: PrecisionOpt = Precision.auto, threads: ThreadsOpt = None,
    rounds: RoundsOpt = CB.rounds, seed: SeedOpt = CB.seed, format: FormatOpt = Format.text,
) -> None:
    """Sentences/s of classification against a loop without length bucketing or lengths."""
    from seqcli.bench.classify import bench_classify
    from seqcli.bench.data import sentences

    _threads(threads)
    settings = ClassifyBenchSettings(cell=cell.value, hidden_size=hidden, num_layers=layers,
                                     embedding_size=embedding, bidirectional=bidirectional,
                                     impl=impl.value, texts=texts, batch_size=batch_size,
                                     device=device.value, precision=precision.value, rounds=rounds, seed=seed)
    chosen, train_texts, source = sentences(locations().data, locations().cache, texts)
    report = bench_classify(settings, chosen, train_texts, source, _progress(rounds, format))
    _show(report, "texts", format)


def _threads(threads: int | None) -> None:
    import torch

    if threads is not None:
        torch.set_num_threads(threads)


def _progress(rounds: int, format: Format):
    if format == Format.json:
        return None
    return lambda done: err_console.print(f"round {done}/{rounds} done", highlight=False)


def _show(report: dict[str, Any], unit: str, format: Format) -> None:
    if format == Format.json:
        print_json(report)
        return
    config = report["config"]
    table = Table(title=f"{unit}/s on {config.get('device')} ({config.get('threads')} threads, "
                        f"corpus: {config.get('corpus')})")
    for column in ("candidate", f"{unit}/s", f"{unit}/CPU-s", "peak RSS MB", "precision"):
        table.add_column(column, justify="left" if column == "candidate" else "right")
    for result in report["results"]:
        per_cpu = result.get(f"{unit}_per_cpu_second")
        table.add_row(result["name"], f"{result[f'{unit}_per_second']:,.0f}",
                      "-" if per_cpu is None else f"{per_cpu:,.0f}",
                      f"{result['peak_rss_mb']:,.0f}", str(result.get("precision", config.get("precision_used", ""))))
    out_console.print(table)
    if "batched" in report:
        _show_batched(report["batched"])
    for name, ratio in report["ratios"].items():
        out_console.print(f"{name}: [bold]{ratio:.2f}x[/]")
    for key in ("quality", "flatness"):
        if key in report:
            out_console.print(f"{key}: {report[key]}", highlight=False)


def _show_batched(section: dict[str, Any]) -> None:
    """`bench generate`'s --num-samples comparison: samples/s as well as tokens/s."""
    table = Table(title=f"--num-samples batched vs one by one ({section['config']['length']} "
                        f"tokens per sample)")
    for column in ("candidate", "samples/s", "tokens/s", "peak RSS MB"):
        table.add_column(column, justify="left" if column == "candidate" else "right")
    for result in section["results"]:
        table.add_row(result["name"], f"{result['samples_per_second']:,.2f}",
                      f"{result['tokens_per_second']:,.0f}", f"{result['peak_rss_mb']:,.0f}")
    out_console.print(table)
