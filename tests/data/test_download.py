"""Streamed download (local HTTP server, no network), atomic writes and safe extraction."""

import hashlib
import http.server
import io
import socket
import stat
import tarfile
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest
from rich.console import Console

from seqcli.data import download as dl
from seqcli.data.download import (DownloadError, atomic_file, download, extract_members, safe_join,
                                  sha256_file)
from seqcli.errors import ChecksumError, DataError

PAYLOAD = b"the time traveller\n" * 5000  # ~95 KB: several chunks


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/served on 127.0.0.1; yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nothing.txt"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_download_streams_verifies_and_reports_progress(server, tmp_path):
    folder, url = server
    (folder / "data.txt").write_bytes(PAYLOAD)
    out = io.StringIO()
    dest = tmp_path / "out" / "data.txt"
    got = download(f"{url}/data.txt", dest, sha256=sha(PAYLOAD),
                   console=Console(file=out, force_terminal=False))
    assert got == sha(PAYLOAD) == sha256_file(dest)
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(dest.parent) == []
    assert "data.txt" in out.getvalue()


def test_checksum_mismatch_deletes_temp_and_keeps_old_file(server, tmp_path):
    folder, url = server
    (folder / "data.txt").write_bytes(PAYLOAD)
    dest = tmp_path / "data.txt"
    dest.write_bytes(b"previous good copy\n")
    with pytest.raises(ChecksumError) as info:
        download(f"{url}/data.txt", dest, sha256="0" * 64)
    message = str(info.value)
    assert "expected " + "0" * 64 in message and "got " + sha(PAYLOAD) in message
    assert "\n" not in message
    assert dest.read_bytes() == b"previous good copy\n"
    assert leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing(monkeypatch, tmp_path):
    class Broken:
        headers = {"Content-Length": str(len(PAYLOAD))}
        calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 2:
                raise KeyboardInterrupt
            return PAYLOAD[:n]

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(dl, "_open_url", lambda url, timeout: Broken())
    dest = tmp_path / "data.txt"
    with pytest.raises(KeyboardInterrupt):
        download("http://example.invalid/data.txt", dest)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_truncated_transfer_is_an_error(monkeypatch, tmp_path):
    class Short(io.BytesIO):
        headers = {"Content-Length": "100"}

    monkeypatch.setattr(dl, "_open_url", lambda url, timeout: Short(b"only ten b"))
    with pytest.raises(DownloadError, match="after 10 of 100 bytes"):
        download("http://example.invalid/x", tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_connection_refused_and_http_errors(server, tmp_path):
    _, url = server
    with pytest.raises(DownloadError, match="could not download"):
        download(closed_port_url(), tmp_path / "x", timeout=5)
    with pytest.raises(DownloadError, match="404"):
        download(f"{url}/missing.txt", tmp_path / "x")
    assert list(tmp_path.glob(".*.tmp-*")) == [] and not (tmp_path / "x").exists()


def test_file_url(tmp_path):
    source = tmp_path / "source.txt"
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "copy.txt"
    assert download(source.as_uri(), dest, sha256=sha(PAYLOAD)) == sha(PAYLOAD)
    assert dest.read_bytes() == PAYLOAD


def test_atomic_file_removes_temp_on_error(tmp_path):
    dest = tmp_path / "f.txt"
    with pytest.raises(RuntimeError):
        with atomic_file(dest) as handle:
            handle.write(b"half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


# --- archives ---------------------------------------------------------------------------


def make_tar(path: Path, entries) -> Path:
    """entries: (name, bytes) for files, or a TarInfo prepared by the caller."""
    with tarfile.open(path, "w:gz") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                name, data = entry
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def make_zip(path: Path, entries) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for entry in entries:
            if isinstance(entry, zipfile.ZipInfo):
                zipped.writestr(entry, "target")
            else:
                zipped.writestr(zipfile.ZipInfo(entry[0]), entry[1])
    return path


def link(name: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = "/etc/passwd"
    return info


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_extracts_only_named_members_and_verifies(tmp_path, kind):
    entries = [("pkg/a.txt", b"alpha\n"), ("pkg/b.txt", b"beta\n"), ("../evil", b"x")]
    make = make_tar if kind == "tar.gz" else make_zip
    archive = make(tmp_path / f"a.{kind}", entries)
    dest = tmp_path / "dest"
    out = extract_members(archive, kind, {"pkg/a.txt": "corpus/a.txt"}, dest,
                          sha256={"pkg/a.txt": sha(b"alpha\n")}, sizes={"pkg/a.txt": 6})
    assert out == {"pkg/a.txt": dest / "corpus" / "a.txt"}
    assert (dest / "corpus" / "a.txt").read_bytes() == b"alpha\n"
    assert sorted(p.name for p in dest.rglob("*")) == ["a.txt", "corpus"]
    assert not (tmp_path / "evil").exists()


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_extracted_checksum_mismatch_leaves_nothing(tmp_path, kind):
    make = make_tar if kind == "tar.gz" else make_zip
    archive = make(tmp_path / f"a.{kind}", [("a.txt", b"alpha\n")])
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError, match="expected"):
        extract_members(archive, kind, {"a.txt": "a.txt"}, dest, sha256={"a.txt": "1" * 64})
    assert list(dest.iterdir()) == []
    with pytest.raises(ChecksumError, match="larger than"):
        extract_members(archive, kind, {"a.txt": "a.txt"}, dest, sizes={"a.txt": 3})
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
@pytest.mark.parametrize("name", ["../x", "a/../../x", "/abs/x", "C:/x", "a\\..\\x"])
def test_refuses_unsafe_member_names(tmp_path, kind, name):
    make = make_tar if kind == "tar.gz" else make_zip
    archive = make(tmp_path / f"a.{kind}", [(name, b"x")])
    with pytest.raises(DataError, match="refusing"):
        extract_members(archive, kind, {name: "x"}, tmp_path / "dest")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_refuses_tar_links(tmp_path, kind):
    archive = make_tar(tmp_path / "a.tar.gz", [link("data.txt", kind)])
    with pytest.raises(DataError, match="is a link"):
        extract_members(archive, "tar.gz", {"data.txt": "data.txt"}, tmp_path / "dest")
    assert not (tmp_path / "dest" / "data.txt").exists()


def test_refuses_zip_symlink_and_directories(tmp_path):
    info = zipfile.ZipInfo("data.txt")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = make_zip(tmp_path / "a.zip", [info, ("folder/", b"")])
    with pytest.raises(DataError, match="is a link"):
        extract_members(archive, "zip", {"data.txt": "data.txt"}, tmp_path / "dest")
    with pytest.raises(DataError, match="not a regular file"):
        extract_members(archive, "zip", {"folder/": "folder"}, tmp_path / "dest")


def test_refuses_targets_outside_destination(tmp_path):
    archive = make_tar(tmp_path / "a.tar.gz", [("a.txt", b"alpha\n")])
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(DataError, match="refusing"):
        extract_members(archive, "tar.gz", {"a.txt": "../a.txt"}, dest)
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "sneaky").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DataError, match="outside"):
        extract_members(archive, "tar.gz", {"a.txt": "sneaky/a.txt"}, dest)
    assert list(outside.iterdir()) == []
    with pytest.raises(DataError):
        safe_join(dest, "/etc/passwd")


def test_missing_member_and_bad_archive(tmp_path):
    archive = make_zip(tmp_path / "a.zip", [("a.txt", b"alpha\n")])
    with pytest.raises(DataError, match="has no member"):
        extract_members(archive, "zip", {"b.txt": "b.txt"}, tmp_path / "dest")
    not_zip = tmp_path / "b.zip"
    not_zip.write_bytes(b"this is not an archive")
    with pytest.raises(DataError, match="not a readable zip"):
        extract_members(not_zip, "zip", {"a.txt": "a.txt"}, tmp_path / "dest")
    with pytest.raises(DataError, match="not a readable tar.gz"):
        extract_members(not_zip, "tar.gz", {"a.txt": "a.txt"}, tmp_path / "dest")
    with pytest.raises(DataError, match="unknown archive type"):
        extract_members(archive, "rar", {"a.txt": "a.txt"}, tmp_path / "dest")
