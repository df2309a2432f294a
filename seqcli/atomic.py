"""Atomic file replacement: the one mechanism behind checkpoints, run files and downloads.

Data goes to a temp file beside the target (named ``.<name>.tmp-<pid>`` so a later process can
tell a dead writer's leftovers), is flushed and fsynced, then renamed over the target, and the
folder is fsynced so the rename survives a power cut. A crash, a kill or Ctrl-C at any moment
leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def temp_path(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.tmp-{os.getpid()}")


@contextlib.contextmanager
def atomic_file(dest: Path) -> Iterator[BinaryIO]:
    """Yield a binary handle; on a clean exit the bytes replace `dest`, otherwise vanish."""
    dest = Path(dest)
    tmp = temp_path(dest)
    try:
        with open(tmp, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
