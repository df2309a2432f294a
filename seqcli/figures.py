"""matplotlib set up once for every picture seqcli draws: the non-interactive Agg backend (no
display needed) and atomic PNG writes, so a crash mid-save never leaves half an image.

pyplot is imported when a figure is first drawn, so commands that draw nothing start fast.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from seqcli.atomic import write_bytes


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, dest: Path) -> None:
    """Write `figure` to `dest` as a PNG (atomically) and free it."""
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    figure.clf()
    pyplot().close(figure)
    write_bytes(dest, lambda handle: handle.write(buffer.getvalue()))
