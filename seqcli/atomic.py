"""Atomic file replacement: the one mechanism behind checkpoints, run files and downloads.

Data goes to a temp file beside the target (named ``.<name>.tmp-<pid>`` so a later process can
tell a dead writer's leftovers), is flushed and fsynced, then renamed over the target, and the
folder is fsynced so the rename survives a power cut. A crash, a kill or Ctrl-C at any moment
leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from seqcli.errors import CheckpointError, OverwriteError


def refuse_to_replace(paths: Iterable[Path], force: bool) -> None:
    """The one overwrite rule: a file the user already has is replaced only when they say so
    (--force; ``overwrite=True`` from Python). Checked before any work, so a refusal costs
    nothing and every command says it in the same words."""
    if force:
        return
    for path in paths:
        if Path(path).exists():
            raise OverwriteError(f"{path} already exists; add --force to replace it")


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


def write_bytes(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call `write(handle)` on a temp file beside `path`, then move it into place atomically.

    Any failure (a full disk, an unwritable folder, Ctrl-C) deletes the temp file and leaves the
    previous `path` untouched; file-system errors become one CheckpointError naming the file.
    """
    path = Path(path)
    try:
        with atomic_file(path) as handle:
            write(handle)
    except OSError as err:
        raise CheckpointError(write_failure(path, err)) from None


def write_text(path: Path, text: str) -> None:
    write_bytes(path, lambda handle: handle.write(text.encode("utf-8")))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_failure(path: Path, err: OSError) -> str:
    """'cannot write PATH: No space left on device; ...' for a failed write."""
    reason = err.strerror or str(err) or type(err).__name__
    kept = "the previous version is kept" if Path(path).exists() else "nothing was written"
    hint = "; free some disk space" if err.errno == errno.ENOSPC else ""
    return f"cannot write {path}: {reason} ({kept}{hint})"


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete temp files left by a process that was killed mid-write (its pid is gone)."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not (pid.isascii() and pid.isdigit()) or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # not ours (EPERM), or no such pid can exist: keep it
        return True
    return True
