"""`seqcli serve`: trained runs as a local HTTP service (see seqcli/server/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from seqcli.cli.choices import Device, Precision
from seqcli.cli.common import err_console, locations
from seqcli.server.limits import ServeLimits

LIMITS = ServeLimits()


def serve(
    model: Annotated[Optional[list[Path]], typer.Option("--model", help="Run directory to serve (repeatable; default: the newest language model and the newest classifier).")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Anything but loopback makes the server reachable from other machines: use --api-key.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).")] = 8000,
    api_key: Annotated[Optional[str], typer.Option("--api-key", envvar="SEQCLI_API_KEY", show_envvar=True, help="Callers must send 'Authorization: Bearer KEY' (every route but /health).")] = None,
    cors_origin: Annotated[Optional[list[str]], typer.Option("--cors-origin", help="A web origin allowed to call the API from a browser (repeatable; none by default).")] = None,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows generating at once per language model (a request with n takes n).")] = LIMITS.max_rows,
    max_queue: Annotated[int, typer.Option("--max-queue", help="Requests waiting per model; more are refused with 429.")] = LIMITS.max_queue,
    max_prompt_tokens: Annotated[int, typer.Option("--max-prompt-tokens", help="Tokens of a prompt, or of one text to classify, score, explain or inspect.")] = LIMITS.max_prompt_tokens,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Largest max_tokens a completion may ask for.")] = LIMITS.max_tokens,
    max_n: Annotated[int, typer.Option("--max-n", help="Largest n (completions per request).")] = LIMITS.max_n,
    max_stops: Annotated[int, typer.Option("--max-stops", help="Stop strings per request.")] = LIMITS.max_stops,
    max_texts: Annotated[int, typer.Option("--max-texts", help="Texts per classify, score, explain or inspect request.")] = LIMITS.max_texts,
    max_body_bytes: Annotated[int, typer.Option("--max-body-bytes", help="Largest request body; more is refused with 413.")] = LIMITS.max_body_bytes,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds a request may take, waiting included (504 beyond).")] = LIMITS.timeout,
    batch_window_ms: Annotated[float, typer.Option("--batch-window-ms", help="How long a classify or score request waits for others to batch with.")] = LIMITS.batch_window_ms,
    device: Annotated[Device, typer.Option("--device", help="auto | cpu | cuda | mps.")] = Device.auto,
    precision: Annotated[Precision, typer.Option("--precision", help="fp32 | auto | bf16 | fp16. fp32 by default: a seeded request then gets exactly the text `seqcli generate --precision fp32` gives, whatever it is batched with (under bf16 the batch changes the rounding).")] = Precision.fp32,
) -> None:
    """Serve language models and classifiers over HTTP (OpenAI-style /v1/completions with
    streaming, plus /v1/classify, /v1/score, /v1/explain, /v1/inspect) until Ctrl-C."""
    # Imported here so `seqcli serve --help` answers without loading torch or the web stack.
    from seqcli.server.launch import serve as run_server

    limits = ServeLimits(max_rows=max_rows, max_queue=max_queue,
                         max_prompt_tokens=max_prompt_tokens, max_tokens=max_tokens,
                         max_n=max_n, max_stops=max_stops, max_texts=max_texts,
                         max_body_bytes=max_body_bytes, timeout=timeout,
                         batch_window_ms=batch_window_ms)
    run_server(model, host=host, port=port, api_key=api_key, cors_origins=cors_origin or (),
               limits=limits, device=device.value, precision=precision.value,
               runs=locations().runs,
               announce=lambda line: err_console.print(line, markup=False, highlight=False,
                                                       soft_wrap=True))
