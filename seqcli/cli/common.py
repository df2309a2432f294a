"""What every command shares: consoles, environment lookups and the error boundary.

Library code never reads the environment; these helpers do it once, at the CLI edge, and pass
plain values in.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

# Progress, tables and messages go to stderr so that stdout carries only results
# (generated text, JSON documents) that scripts can pipe.
err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False, soft_wrap=True)


class Format(str, Enum):
    text = "text"
    json = "json"


def runs_root() -> Path:
    """Parent folder of run directories: $SEQCLI_RUNS or ./runs."""
    return Path(os.environ.get("SEQCLI_RUNS") or "runs")


def data_dir() -> Path | None:
    """A local mirror of the corpus files ($SEQCLI_DATA), if set."""
    value = os.environ.get("SEQCLI_DATA")
    return Path(value) if value else None


def cache_dir() -> Path:
    """Where downloaded corpora are kept: $SEQCLI_CACHE, else the XDG cache folder."""
    value = os.environ.get("SEQCLI_CACHE")
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "seqcli"


def print_json(document: Any) -> None:
    """Write one JSON document to stdout (no rich markup, no wrapping)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.flush()


class _State:
    debug = False


state = _State()


def fail(message: str, code: int = 1) -> "NoReturn":
    """Print one error line on stderr and leave with `code`."""
    import typer

    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(func):
    """Turn seqcli's own errors into one line and an exit code (tracebacks only with --debug)."""
    import functools

    import typer

    from seqcli.errors import SeqcliError

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except SeqcliError as err:
            if state.debug:
                raise
            fail(_escape(str(err)), err.exit_code)
        except KeyboardInterrupt:
            if state.debug:
                raise
            err_console.print("interrupted")
            raise typer.Exit(130)
        except (OSError, MemoryError) as err:
            if state.debug:
                raise
            fail(_escape(f"{type(err).__name__}: {err}"), 1)

    return wrapper


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text.replace("\n", " "))
