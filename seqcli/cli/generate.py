"""`seqcli generate`: continue a prime with a trained language model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from seqcli.cli.common import Format, err_console, handle_errors, print_json, runs_root
from seqcli.config import SampleConfig
from seqcli.errors import UsageError
from seqcli.generation import check_sample_config, make_generator, sample
from seqcli.runs import load_run
from seqcli.training.checkpoint import newest_run


@handle_errors
def generate(
    model: Annotated[Optional[Path], typer.Option("--model", help="Run directory (default: the newest language-model run).")] = None,
    prime: Annotated[str, typer.Option("--prime", help="Text to continue; fed through the network once.")] = "",
    length: Annotated[int, typer.Option("--length", help="Tokens to generate.")] = 200,
    temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature (> 0).")] = 0.8,
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Sample among the k most likely tokens.")] = None,
    top_p: Annotated[Optional[float], typer.Option("--top-p", help="Sample from the smallest set with probability >= p.")] = None,
    greedy: Annotated[bool, typer.Option("--greedy", help="Always take the most likely token.")] = False,
    num_samples: Annotated[int, typer.Option("--num-samples", help="Independent samples to draw.")] = 1,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed: the same seed gives the same text.")] = None,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda | mps.")] = "auto",
    format: Annotated[Format, typer.Option("--format", help="text (streamed) or json.")] = Format.text,
) -> None:
    """Generate text that begins with --prime."""
    config = SampleConfig(length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                          greedy=greedy, num_samples=num_samples, seed=seed)
    run_dir = model if model is not None else newest_run(runs_root(), "lm")
    run = load_run(run_dir, device=device, expect_task="lm")
    if run.config.model.bidirectional:
        raise UsageError(f"{run_dir} is bidirectional: it reads the future and cannot "
                         f"generate left to right")
    check_sample_config(config, run.tokenizer.vocab_size)
    unknown = run.tokenizer.unknown(prime)
    if unknown:
        err_console.print(f"note: the prime has {len(unknown)} token(s) never seen in training "
                          f"({', '.join(map(repr, unknown[:5]))}); they are read as unknown",
                          highlight=False, markup=False)
    generator = make_generator(seed)
    samples = []
    for i in range(num_samples):
        on_text = _stream if format == Format.text else None
        if on_text is not None and num_samples > 1:
            sys.stdout.write(f"--- sample {i + 1} ---\n")
        samples.append(sample(run.model, run.tokenizer, prime, config, run.placement,
                              on_text=on_text, generator=generator))
        if on_text is not None:
            _stream("\n")
    if format == Format.json:
        print_json({"run_dir": str(run_dir), "prime": prime, "samples": samples,
                    "length": length, "temperature": temperature, "top_k": top_k,
                    "top_p": top_p, "greedy": greedy, "seed": seed})


def _stream(text: str) -> None:
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:  # a terminal that cannot show a character (or an undecodable
        # argv byte in the prime): show a replacement rather than fail mid-sample
        encoding = sys.stdout.encoding or "utf-8"
        sys.stdout.write(text.encode(encoding, "replace").decode(encoding, "replace"))
    sys.stdout.flush()
