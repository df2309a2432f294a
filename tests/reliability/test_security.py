"""Security through the real CLI: loading a run never executes code, downloads are verified
before use, archive extraction stays inside its folder, and no shell ever sees user input.

(tests/core/test_checkpoint.py covers the planted pickle at the loader level and
tests/data/test_download.py the extraction rules one by one; here the same attacks arrive the
way a user would meet them: a run directory someone sent, a corpus download, a hostile name.)
"""

from __future__ import annotations

import ast
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from seqcli.cli.main import app
from seqcli.data import download as dl
from seqcli.data import registry, registry_file
from seqcli.training import checkpoint as ckpt

TINY = ["--hidden", "16", "--embedding", "8", "--layers", "1", "--seq-len", "8",
        "--batch-size", "4", "--max-steps", "2", "--eval-every", "2"]
SEQCLI = Path(__file__).resolve().parents[2] / "seqcli"


def invoke(*args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def one_error_line(result, code=1) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    # (a download's progress bar may come first)
    lines = [line for line in result.stderr.strip().splitlines() if "━" not in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def run(tiny_corpus, runs_dir, tmp_path):
    result = invoke("train", "--corpus", tiny_corpus, *TINY, "--out", tmp_path / "run",
                    "--format", "json")
    assert result.exit_code == 0, result.output
    return tmp_path / "run"


# --- a planted pickle -------------------------------------------------------------------


class _Creates:
    """Unpickling this would run `open(target, "w")` (or a shell command, below)."""

    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return (self.call, self.args)


def _plant(path: Path, evil, *, raw: bool = False) -> None:
    payload = {ckpt.KEY_VERSION: 1, ckpt.KEY_MODEL: {"w": torch.ones(1)}, "x": evil}
    if raw:  # a bare pickle, not torch's zip container
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)


@pytest.mark.parametrize("file", [ckpt.BEST_FILE, ckpt.LAST_FILE])
@pytest.mark.parametrize("how", ["open", "system", "raw"])
def test_planted_pickle_in_a_run_is_refused_and_never_runs(file, how, run, tmp_path):
    marker = tmp_path / "pwned"
    evil = (_Creates(os.system, f"touch {marker}") if how == "system"
            else _Creates(open, str(marker), "w"))
    _plant(run / file, evil, raw=how == "raw")
    assert not marker.exists()
    if file == ckpt.LAST_FILE:
        (run / ckpt.BEST_FILE).unlink()  # generate/evaluate fall back to last.pt
    commands = [("generate", "--model", run, "--length", "3"), ("evaluate", "--model", run)]
    if file == ckpt.LAST_FILE:
        commands.append(("train", "--resume", run))
    for command in commands:
        line = one_error_line(invoke(*command))
        expected = "truncated or corrupt" if how == "raw" else "refusing to load"
        assert expected in line and file in line, line
        if how != "raw":
            assert "objects other than tensors" in line
            assert ("unsupported global io.open" if how == "open" else "posix.system") in line
    assert not marker.exists()


# --- verified downloads -----------------------------------------------------------------


def _fake_corpus(monkeypatch, tmp_path, served: bytes, expected: bytes, *, archive="none",
                 members=None):
    """A one-corpus registry whose file comes from `served` (a file:// URL) and whose
    checksum is that of `expected`."""
    source = tmp_path / "served.bin"
    source.write_bytes(served)
    entry = {"name": "tiny", "task": "lm", "format": "text", "description": "d", "licence": "l",
             "citation": "c", "files": [{"path": "tiny/tiny.txt",
                                        "sha256": hashlib.sha256(expected).hexdigest(),
                                        "size": len(expected)}],
             "source": {"url": source.as_uri(), "archive": archive}}
    if members:
        entry["source"]["members"] = members
    corpora = registry_file.parse_registry({"schema_version": 1, "corpora": [entry]})
    monkeypatch.setattr(registry, "registry", lambda: corpora)
    return source


def test_checksum_mismatch_deletes_the_temp_file_and_says_so(monkeypatch, tmp_path, runs_dir):
    cache = tmp_path / "cache"
    _fake_corpus(monkeypatch, tmp_path, b"tampered text\n" * 50, b"the real text\n" * 50)
    seen = []
    real_open = dl._open_url

    class Watching(io.BytesIO):
        def read(self, size=-1):  # while the download runs, its temp file exists
            seen.extend(p.name for p in (cache / "corpora" / "tiny").glob(".*.tmp-*"))
            return super().read(size)

    monkeypatch.setattr(dl, "_open_url", lambda url, timeout: Watching(
        real_open(url, timeout).read()))
    env = {"SEQCLI_CACHE": str(cache), "SEQCLI_DATA": str(tmp_path / "none")}
    for command in (("corpus", "fetch", "tiny"), ("train", "--corpus", "tiny", *TINY)):
        result = invoke(*command, env=env)
        line = [l for l in result.stderr.splitlines() if l.startswith("error:")]
        assert result.exit_code == 1 and len(line) == 1, result.output
        assert "SHA-256 mismatch" in line[0] and "discarded" in line[0]
        assert [p for p in cache.rglob("*") if p.is_file()] == []  # no temp, no final file
    assert seen, "the download went through a temp file"
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_verified_download_is_used(monkeypatch, tmp_path):
    text = b"the real text of the corpus\n" * 20
    _fake_corpus(monkeypatch, tmp_path, text, text)
    result = invoke("corpus", "fetch", "tiny", env={"SEQCLI_CACHE": str(tmp_path / "cache"),
                                                    "SEQCLI_DATA": str(tmp_path / "none")})
    assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip()).read_bytes() == text


# --- archive extraction through `seqcli corpus fetch` ---------------------------------------


def _tar(entries) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tar.addfile(info, io.BytesIO(entry[1]))
    return buffer.getvalue()


def _tar_link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _zip_symlink(name, target) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        info = zipfile.ZipInfo(name)
        info.external_attr = (0o120777) << 16
        zipped.writestr(info, target)
    return buffer.getvalue()


TEXT = b"the corpus\n" * 30
ARCHIVES = {
    "tar-symlink-out": ("tar.gz", lambda o: _tar([_tar_link("c/tiny.txt", str(o / "x"))]),
                        "c/tiny.txt", "is a link; refusing"),
    "tar-hardlink": ("tar.gz", lambda o: _tar([("c/real", TEXT),
                                               _tar_link("c/tiny.txt", "c/real", tarfile.LNKTYPE)]),
                     "c/tiny.txt", "is a link; refusing"),
    "tar-absolute-member": ("tar.gz", lambda o: _tar([(str(o / "abs.txt"), TEXT)]),
                            "{outside}/abs.txt", "empty or absolute; refusing"),
    "tar-dotdot-member": ("tar.gz", lambda o: _tar([("../../escape.txt", TEXT)]),
                          "../../escape.txt", "contains '..'; refusing"),
    "tar-directory-member": ("tar.gz", lambda o: _tar([_tar_link("c/tiny.txt", "", tarfile.DIRTYPE)]),
                             "c/tiny.txt", "not a regular file"),
    "zip-symlink-out": ("zip", lambda o: _zip_symlink("c/tiny.txt", str(o / "x")), "c/tiny.txt",
                        "is a link; refusing"),
}


@pytest.mark.parametrize("name", list(ARCHIVES))
def test_fetch_refuses_unsafe_archive_members(name, monkeypatch, tmp_path):
    kind, make, member, message = ARCHIVES[name]
    outside = tmp_path / "outside"
    outside.mkdir()
    member = member.format(outside=outside)
    _fake_corpus(monkeypatch, tmp_path, make(outside), TEXT, archive=kind,
                 members={"tiny/tiny.txt": member})
    cache = tmp_path / "cache"
    line = one_error_line(invoke("corpus", "fetch", "tiny", env={
        "SEQCLI_CACHE": str(cache), "SEQCLI_DATA": str(tmp_path / "none")}))
    assert message in line, line
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escape.txt").exists()
    assert [p for p in cache.rglob("*") if p.is_file()] == []  # no archive or temp left
    assert not list(cache.rglob(".download-*"))


def test_fetch_refuses_a_cache_folder_that_links_outside(monkeypatch, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    _fake_corpus(monkeypatch, tmp_path, _tar([("c/tiny.txt", TEXT)]), TEXT, archive="tar.gz",
                 members={"tiny/tiny.txt": "c/tiny.txt"})
    cache = tmp_path / "cache"
    (cache / "corpora").mkdir(parents=True)
    (cache / "corpora" / "tiny").symlink_to(outside, target_is_directory=True)
    line = one_error_line(invoke("corpus", "fetch", "tiny", env={
        "SEQCLI_CACHE": str(cache), "SEQCLI_DATA": str(tmp_path / "none")}))
    assert "would land outside" in line
    assert list(outside.iterdir()) == []


# --- no shell, ever, with user input ----------------------------------------------------


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = (func.id if isinstance(func, ast.Name) else
                    f"{ast.unparse(func.value)}.{func.attr}" if isinstance(func, ast.Attribute)
                    else "")
            yield node, name


def test_no_shell_eval_or_unsafe_deserialisation_in_the_source():
    problems = []
    for path in sorted(SEQCLI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(SEQCLI.parent)
        for node, name in _calls(tree):
            keywords = {k.arg: k.value for k in node.keywords}
            if name in ("os.system", "os.popen", "eval", "exec", "pickle.load", "pickle.loads",
                        "marshal.loads", "yaml.load", "pty.spawn") or name.startswith(("os.exec", "os.spawn")):
                problems.append(f"{where}:{node.lineno}: {name}()")
            shell = keywords.get("shell")
            if shell is not None and not (isinstance(shell, ast.Constant) and shell.value is False):
                problems.append(f"{where}:{node.lineno}: {name}(shell=...)")
            if name.endswith("torch.load") or name == "load" and "weights_only" in keywords:
                value = keywords.get("weights_only")
                if not (isinstance(value, ast.Constant) and value.value is True):
                    problems.append(f"{where}:{node.lineno}: torch.load without weights_only=True")
            if name.startswith("subprocess.") and node.args and not isinstance(
                    node.args[0], (ast.List, ast.Tuple)):
                problems.append(f"{where}:{node.lineno}: {name} with a command string")
    assert problems == []


HOSTILE = ["$(touch pwned)", "; touch pwned", "`touch pwned`", "| touch pwned", "x && touch pwned"]


def test_hostile_names_never_reach_a_shell(run, tiny_corpus, tmp_path, monkeypatch):
    """Every way a process could be started fails loudly; hostile strings go everywhere."""
    monkeypatch.chdir(tmp_path)
    started = []

    def refuse(*args, **kwargs):
        started.append(args)
        raise AssertionError(f"a process was started: {args!r}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    for name in ("system", "popen", "execv", "execve", "execvp", "spawnv", "posix_spawn",
                 "posix_spawnp"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)
    monkeypatch.setattr(dl, "_open_url", lambda url, timeout: (_ for _ in ()).throw(OSError("offline")))
    hostile_file = tmp_path / "$(touch pwned); `touch pwned`.txt"
    shutil.copy(tiny_corpus, hostile_file)
    for text in HOSTILE:
        invoke("train", "--corpus", text, *TINY)
        invoke("generate", "--model", run, "--prime", text, "--length", "3")
        invoke("generate", "--model", text)
        invoke("evaluate", "--model", run, "--corpus", text)
        invoke("corpus", "info", text)
        invoke("corpus", "fetch", text)
        invoke("runs", "show", text)
        invoke("train", "--config", text)
    result = invoke("train", "--corpus", hostile_file, *TINY, "--out", tmp_path / "$(touch pwned)",
                    "--format", "json")
    assert result.exit_code == 0, result.output
    assert invoke("generate", "--model", tmp_path / "$(touch pwned)", "--prime", HOSTILE[0],
                  "--length", "3").exit_code == 0
    assert started == []
    assert not list(tmp_path.rglob("pwned"))
