"""Atomic file replacement: the one mechanism behind checkpoints, run files and downloads.

Data goes to a temp file beside the target (named ``.<name>.tmp-<pid>`` so a later process can
tell a dead writer's leftovers), is flushed and fsynced, then renamed over the target, and the
folder is fsynced so the rename survives a power cut. A crash, a kill or Ctrl-C at any moment
leaves either the old file or the new one, never a mix. Files that are read as one set (an
export) are replaced with `replace_together`, whose last file is the set's record.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
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
    write_bytes(path, lambda handle: handle.write(json_bytes(data)))


def json_bytes(data: Any) -> bytes:
    """How seqcli writes a JSON file: indented, UTF-8, a final newline."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def replace_together(files: Sequence[tuple[Path, bytes]]) -> None:
    """Replace files that are read as one set, the last of them the set's record (an export's
    description, which names the others), so that no reader takes two generations for one.

    A folder cannot rename several files in one step, so: (1) every file is written to its temp
    name beside its target and fsynced; a failure here (a full disk, Ctrl-C) leaves the old set
    as it was; (2) the old record is removed: from here the set reads as unfinished, never as a
    mix; (3) the other files are renamed into place, then the record, last. A crash inside (2)
    or (3) leaves the files without a record, which the next write replaces; a dead writer's
    temp files go with `remove_stale_temps`.
    """
    staged: list[tuple[Path, Path]] = []
    current = Path(files[0][0])
    try:
        for dest, data in files:
            current = Path(dest)
            staged.append((temp_path(current), current))
            _stage(staged[-1][0], data)
        *parts, (record_tmp, record) = staged
        current = record
        record.unlink(missing_ok=True)
        fsync_dir(record.parent)
        for tmp, dest in parts:
            current = dest
            os.replace(tmp, dest)
        current = record
        os.replace(record_tmp, record)
    except BaseException as err:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise CheckpointError(write_failure(current, err)) from None
        raise
    for folder in {dest.parent for _, dest in staged}:
        fsync_dir(folder)


def _stage(tmp: Path, data: bytes) -> None:
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o644)


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
