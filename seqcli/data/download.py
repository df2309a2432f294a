"""Streamed downloads with a SHA-256 check, and safe extraction of named archive members.

Nothing half-written ever sits under its final name: bytes go to a hidden temp file in the
destination folder, are flushed and fsynced, checked, then moved into place with `os.replace`
(atomic within one filesystem). Any failure on the way, Ctrl-C included, deletes the temp file.
"""

from __future__ import annotations

import hashlib
import http.client
import stat
import tarfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from rich.console import Console

from seqcli.atomic import atomic_file
from seqcli.errors import ChecksumError, DataError

CHUNK_BYTES = 1 << 16
DEFAULT_TIMEOUT = 30.0  # seconds without progress before urllib gives up
ARCHIVE_TYPES = ("none", "tar.gz", "zip")


class DownloadError(DataError):
    """The server could not be reached, refused the request, or the transfer broke off."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, dest: Path, *, sha256: str | None = None,
             timeout: float = DEFAULT_TIMEOUT, console: Console | None = None,
             description: str | None = None) -> str:
    """Stream `url` into `dest` (atomically) and return the SHA-256 of what was received.

    With `sha256`, a mismatch discards the download and raises ChecksumError. Network failures
    raise DownloadError. A progress bar is drawn on `console` (stderr in the CLI) if given.
    """
    try:
        response = _open_url(url, timeout)
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as err:
        raise DownloadError(f"could not download {url}: {_reason(err)}") from None
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    with response, atomic_file(Path(dest)) as handle:
        total = _content_length(response)
        digest = hashlib.sha256()
        received = 0
        with _progress(console, description or Path(dest).name, total) as advance:
            while chunk := _read_chunk(response, url):
                digest.update(chunk)
                handle.write(chunk)
                received += len(chunk)
                advance(len(chunk))
        if total is not None and received != total:
            raise DownloadError(f"download of {url} broke off after {received} of {total} bytes")
        got = digest.hexdigest()
        if sha256 is not None and got != sha256.lower():
            raise ChecksumError(f"{url}: SHA-256 mismatch (expected {sha256.lower()}, got {got}); "
                                "the download was discarded")
    return got


def _open_url(url: str, timeout: float):
    """Open `url` for reading (http, https or file). Tests may monkeypatch this."""
    request = urllib.request.Request(url, headers={"User-Agent": "seqcli"})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (registry URLs)


def _read_chunk(response, url: str) -> bytes:
    try:
        return response.read(CHUNK_BYTES)
    except (OSError, http.client.HTTPException) as err:
        raise DownloadError(f"download of {url} failed: {_reason(err)}") from None


def _content_length(response) -> int | None:
    value = getattr(response, "headers", {}).get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _reason(err: BaseException) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    return str(err) or type(err).__name__


@contextmanager
def _progress(console: Console | None, description: str,
              total: int | None) -> Iterator[Callable[[int], None]]:
    if console is None:
        yield lambda n: None
        return
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


# --- archives -----------------------------------------------------------------------------


def extract_members(archive: Path, kind: str, members: Mapping[str, str], dest: Path, *,
                    sha256: Mapping[str, str] | None = None,
                    sizes: Mapping[str, int] | None = None) -> dict[str, Path]:
    """Extract only the named members of a tar.gz or zip archive into `dest`.

    `members` maps a member name inside the archive to a relative path under `dest`;
    `sha256`/`sizes` (keyed by member name) are checked before each file is moved into place.
    Absolute names, `..` components, links and anything that would land outside `dest` are
    refused with DataError. Returns member name -> extracted path.
    """
    targets = {}
    for member, relative in members.items():
        _check_name(member, f"{archive}: member")
        targets[member] = safe_join(dest, relative)
    if kind == "tar.gz":
        opener = _tar_reader
    elif kind == "zip":
        opener = _zip_reader
    else:
        raise DataError(f"{archive}: unknown archive type {kind!r} (expected tar.gz or zip)")
    with opener(archive) as read_member:
        for member, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            with read_member(member) as stream, atomic_file(target) as handle:
                try:
                    got = _copy_hashed(stream, handle, limit=(sizes or {}).get(member),
                                       what=f"{archive}: member {member!r}")
                except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError) as err:
                    raise DataError(f"{archive}: member {member!r} is corrupt ({err})") from None
                expected = (sha256 or {}).get(member)
                if expected is not None and got != expected.lower():
                    raise ChecksumError(f"{archive}: member {member!r} has SHA-256 {got}, "
                                        f"expected {expected.lower()}")
    return targets


def safe_join(root: Path, relative: str) -> Path:
    """`root / relative`, refusing absolute paths, `..` and symlinks that lead out of root."""
    _check_name(relative, "path")
    target = root / PurePosixPath(relative)
    if not target.resolve().is_relative_to(root.resolve()):
        raise DataError(f"path {relative!r} would land outside {root}; refusing it")
    return target


def _check_name(name: str, what: str) -> None:
    posix = PurePosixPath(name)
    if not name or name.startswith("/") or "\\" in name or PureWindowsPath(name).drive:
        raise DataError(f"{what} {name!r} is empty or absolute; refusing it")
    if ".." in posix.parts:
        raise DataError(f"{what} {name!r} contains '..'; refusing it")


def _copy_hashed(stream: BinaryIO, handle: BinaryIO, *, limit: int | None, what: str) -> str:
    digest = hashlib.sha256()
    written = 0
    for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
        written += len(chunk)
        if limit is not None and written > limit:
            raise ChecksumError(f"{what} is larger than the expected {limit} bytes")
        digest.update(chunk)
        handle.write(chunk)
    return digest.hexdigest()


@contextmanager
def _tar_reader(archive: Path):
    try:
        tar = tarfile.open(archive, "r:gz")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DataError(f"{archive}: not a readable tar.gz archive ({err})") from None

    def read(member: str) -> BinaryIO:
        try:
            info = tar.getmember(member)
        except KeyError:
            raise DataError(f"{archive}: has no member {member!r}") from None
        if info.issym() or info.islnk():
            raise DataError(f"{archive}: member {member!r} is a link; refusing to extract it")
        if not info.isreg():
            raise DataError(f"{archive}: member {member!r} is not a regular file")
        return tar.extractfile(info)

    with tar:
        yield read


@contextmanager
def _zip_reader(archive: Path):
    try:
        zipped = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(f"{archive}: not a readable zip archive ({err})") from None

    def read(member: str) -> BinaryIO:
        try:
            info = zipped.getinfo(member)
        except KeyError:
            raise DataError(f"{archive}: has no member {member!r}") from None
        if stat.S_ISLNK(info.external_attr >> 16):
            raise DataError(f"{archive}: member {member!r} is a link; refusing to extract it")
        if info.is_dir():
            raise DataError(f"{archive}: member {member!r} is not a regular file")
        return zipped.open(info)

    with zipped:
        yield read
