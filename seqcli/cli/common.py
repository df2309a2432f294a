"""What every command shares: consoles, the environment read once, and output helpers.

Library code never reads the environment; `locations()` does it here, at the CLI edge, through
the same function the Python API uses, and passes plain values in.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console

from seqcli.locations import Locations, from_environment

# Progress, tables and messages go to stderr so that stdout carries only results
# (generated text, JSON documents) that scripts can pipe.
err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False, soft_wrap=True)


class _State:
    debug = False  # --debug: tracebacks instead of one-line errors


state = _State()


def locations() -> Locations:
    """Runs folder ($SEQCLI_RUNS or ./runs), corpus mirror ($SEQCLI_DATA) and cache."""
    return from_environment(os.environ)


def print_json(document: Any) -> None:
    """Write one JSON document to stdout (no rich markup, no wrapping)."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.flush()
