"""`seqcli generate`: continue a prime with a trained language model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqcli.cli.choices import Device, Format, Precision
from seqcli.cli.common import err_console, locations, print_json
from seqcli.config import SampleConfig
from seqcli.lm.generate import generate_texts
from seqcli.runs import load_run, newest_run

DEFAULTS = SampleConfig()


def generate(
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest language-model run).")] = None,
    prime: Annotated[str, typer.Option("--prime", help="Text to continue; fed through the network once.")] = "",
    length: Annotated[int, typer.Option("--length", help="Tokens to generate.")] = DEFAULTS.length,
    temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature (> 0).")] = DEFAULTS.temperature,
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Sample among the k most likely tokens.")] = DEFAULTS.top_k,
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="Sample from the smallest set with probability >= p.")] = DEFAULTS.top_p,
    greedy: Annotated[bool, typer.Option("--greedy", help="Always take the most likely token.")] = DEFAULTS.greedy,
    num_samples: Annotated[int, typer.Option("--num-samples", help="Independent samples to draw.")] = DEFAULTS.num_samples,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed: the same seed gives the same text.")] = DEFAULTS.seed,
    device: Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")] = Device.auto,
    precision: Annotated[Precision, typer.Option("--precision", help="auto | fp32 | bf16 | fp16.")] = Precision.auto,
    format: Annotated[Format, typer.Option("--format", help="text (streamed) or json.")] = Format.text,
) -> None:
    """Generate text that begins with --prime."""
    config = SampleConfig(length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                          greedy=greedy, num_samples=num_samples, seed=seed)
    run_dir = model if model is not None else newest_run(locations().runs, "lm")
    run = load_run(run_dir, device=device.value, precision=precision.value, expect_task="lm")
    unknown = run.tokenizer.unknown(prime)
    if unknown:
        err_console.print(f"note: the prime has {len(unknown)} token(s) never seen in training "
                          f"({', '.join(map(repr, unknown[:5]))}); they are read as unknown",
                          highlight=False, markup=False)
    streaming = format == Format.text
    samples = generate_texts(run.model, run.tokenizer, prime, config, run.placement,
                             on_text=_stream if streaming else None,
                             on_start=_header(num_samples) if streaming else None)
    if streaming:
        _stream("\n")
    else:
        print_json({"run_dir": str(run_dir), "prime": prime, "samples": samples,
                    "length": length, "temperature": temperature, "top_k": top_k,
                    "top_p": top_p, "greedy": greedy, "seed": seed})


def _header(num_samples: int):
    """Before each sample: end the previous one, and name it when there are several."""
    def start(i: int) -> None:
        if i:
            _stream("\n")
        if num_samples > 1:
            _stream(f"--- sample {i + 1} ---\n")
    return start


def _stream(text: str) -> None:
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:  # a terminal that cannot show a character (or an undecodable
        # argv byte in the prime): show a replacement rather than fail mid-sample
        encoding = sys.stdout.encoding or "utf-8"
        sys.stdout.write(text.encode(encoding, "replace").decode(encoding, "replace"))
    sys.stdout.flush()
