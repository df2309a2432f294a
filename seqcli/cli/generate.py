"""`seqcli generate`: continue a prime with a trained language model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqcli.cli.choices import Device, Format, Precision, format_option
from seqcli.cli.common import err_console, locations, print_json
from seqcli.config import DEFAULT_TEMPERATURE, SampleConfig
from seqcli.errors import UsageError

DEFAULTS = SampleConfig()


def generate(
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest language-model run).")] = None,
    prime: Annotated[str, typer.Option("--prime", help="Text to continue; fed through the network once.")] = "",
    length: Annotated[int, typer.Option("--length", help="Tokens to generate.")] = DEFAULTS.length,
    temperature: Annotated[Optional[float], typer.Option("--temperature", help=f"Sampling temperature (> 0). [default: {DEFAULT_TEMPERATURE:g}]", show_default=False)] = None,
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Sample among the k most likely tokens.")] = DEFAULTS.top_k,
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="Sample from the smallest set with probability >= p.")] = DEFAULTS.top_p,
    greedy: Annotated[bool, typer.Option("--greedy", help="Always take the most likely token.")] = DEFAULTS.greedy,
    num_samples: Annotated[int, typer.Option("--num-samples", help="Samples to draw, as one batch. Sample i uses seed --seed + i-1 (the same text that seed gives alone). The first streams as it grows, the others are printed when all are done.")] = DEFAULTS.num_samples,
    beam: Annotated[Optional[int], typer.Option("--beam", help="Beam search of width N instead of sampling: deterministic, ranked by mean log-probability per token; --beam 1 is --greedy. With --num-samples K (<= N): the K best beams. Not with --temperature, --top-k, --top-p.")] = DEFAULTS.beam,
    stop: Annotated[Optional[list[str]], typer.Option("--stop", metavar="S", help="End a sample where its new text first contains S (repeatable; a newline in bash: $'\\n'). S is cut off unless --keep-stop.")] = None,
    keep_stop: Annotated[bool, typer.Option("--keep-stop", help="End a stopped sample with its stop string instead of cutting it off.")] = DEFAULTS.keep_stop,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed: the same seed gives the same text.")] = DEFAULTS.seed,
    device: Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")] = Device.auto,
    precision: Annotated[Precision, typer.Option("--precision", help="auto | fp32 | bf16 | fp16.")] = Precision.auto,
    format: Annotated[Format, format_option(Format, "text (streamed), or json: one document on stdout (the samples, and per sample the stop string that ended it, the new tokens and, for beams, the score).")] = Format.text,
) -> None:
    """Generate text that begins with --prime."""
    if beam is not None and temperature is not None:  # refused before the model loads
        raise UsageError("--beam scores with the model's own probabilities: drop --temperature")
    from seqcli.lm.generate import check_left_to_right, generate_samples
    from seqcli.runs import load_run, newest_run

    config = SampleConfig(length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                          greedy=greedy, num_samples=num_samples, seed=seed, beam=beam,
                          stop=tuple(stop or ()), keep_stop=keep_stop)
    run_dir = model if model is not None else newest_run(locations().runs, "lm")
    run = load_run(run_dir, device=device.value, precision=precision.value, expect_task="lm")
    check_left_to_right(run.config.data, run_dir)
    unknown = run.tokenizer.unknown(prime)
    if unknown:
        err_console.print(f"note: the prime has {len(unknown)} token(s) never seen in training "
                          f"({', '.join(map(repr, unknown[:5]))}); they are read as unknown",
                          highlight=False, markup=False)
    streaming = format == Format.text
    label = "beam" if beam is not None else "sample"
    samples = generate_samples(run.model, run.tokenizer, prime, config, run.placement,
                               on_text=_first(label, num_samples) if streaming else None)
    if streaming:
        for i, later in enumerate(samples[1:], start=2):
            _stream(f"\n--- {label} {i} ---\n{later.text}")
        _stream("\n")
        return
    print_json({"run_dir": str(run_dir), "prime": prime,
                "samples": [s.text for s in samples],
                "stopped": [s.stopped for s in samples],
                "scores": [s.score for s in samples] if beam is not None else None,
                "new_tokens": [s.new_tokens for s in samples],
                "length": length,
                "temperature": None if beam is not None else config.sampling_temperature,
                "top_k": top_k,
                "top_p": top_p, "greedy": greedy, "beam": beam, "stop": list(config.stop),
                "keep_stop": keep_stop, "seed": seed})


def _first(label: str, num_samples: int):
    """Streams the first sample, named when there are several (the header waits for its
    first text, so a refused option prints nothing)."""
    started = False

    def show(text: str) -> None:
        nonlocal started
        if not started and num_samples > 1:
            _stream(f"--- {label} 1 ---\n")
        started = True
        _stream(text)
    return show


def _stream(text: str) -> None:
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:  # a terminal that cannot show a character (or an undecodable
        # argv byte in the prime): show a replacement rather than fail mid-sample
        encoding = sys.stdout.encoding or "utf-8"
        sys.stdout.write(text.encode(encoding, "replace").decode(encoding, "replace"))
    sys.stdout.flush()
