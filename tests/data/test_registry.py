"""The corpus registry and resolution: user path > mirror > cache > download (local server)."""

import hashlib
import http.server
import io
import json
import socket
import tarfile
import threading
import tomllib
import zipfile
from functools import partial
from importlib import resources
from pathlib import Path

import pytest

from seqcli.data import registry
from seqcli.data.download import sha256_file
from seqcli.data.registry import get_corpus, list_corpora, resolve_corpus
from seqcli.data.registry_file import parse_registry
from seqcli.data.text import read_text_with_encoding
from seqcli.errors import ChecksumError, CorpusNotFoundError, DataError

REPO = Path(__file__).resolve().parents[2]
TINY = b"a tiny corpus of our own\n" * 40
POS, NEG = b"good film\nfine acting\n", b"bad film\nno plot\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the real registry --------------------------------------------------------------------


def test_registry_entries():
    corpora = {c.name: c for c in list_corpora()}
    assert list(corpora) == ["timemachine", "tinyshakespeare", "rt-polarity", "sst2"]
    tm = corpora["timemachine"]
    assert (tm.task, tm.format, tm.source.archive) == ("lm", "text", "none")
    assert tm.files[0].path == "timemachine.txt" and tm.files[0].size == 178979
    assert tm.source.url == "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt"
    rt = corpora["rt-polarity"]
    assert (rt.task, rt.format, rt.encoding) == ("classify", "paired", "cp1252")
    assert rt.source.archive == "tar.gz"
    assert {f.path: (f.label, f.member) for f in rt.files} == {
        "rt-polarity/rt-polarity.pos": ("positive", "rt-polaritydata/rt-polarity.pos"),
        "rt-polarity/rt-polarity.neg": ("negative", "rt-polaritydata/rt-polarity.neg")}
    sst = corpora["sst2"]
    assert (sst.format, sst.text_column, sst.label_column) == ("tsv", "sentence", "label")
    assert dict(sst.label_names) == {"0": "negative", "1": "positive"}
    assert [f.path for f in sst.split_files("validation")] == ["sst2/dev.tsv"]
    assert sst.files[0].member == "SST-2/train.tsv"
    assert sst.source.md5 == "9f81648d4199384278b86e315dac217c"
    assert sst.labels == rt.labels == ("negative", "positive")
    assert all(c.licence and c.citation and c.description for c in corpora.values())


def test_registry_is_read_as_package_data():
    text = resources.files("seqcli.corpora").joinpath("registry.json").read_text("utf-8")
    assert [c.name for c in parse_registry(json.loads(text))] == [c.name for c in list_corpora()]


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "seqcli").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert on_disk | {"seqcli.corpora"} <= set(config["packages"])
    assert config["package-dir"]["seqcli.corpora"] == "corpora"
    assert (REPO / "corpora" / "__init__.py").is_file()


def test_unknown_name_lists_known_names():
    with pytest.raises(CorpusNotFoundError) as info:
        get_corpus("timemachin")
    message = str(info.value)
    for name in ("timemachine", "tinyshakespeare", "rt-polarity", "sst2"):
        assert name in message
    assert "did you mean 'timemachine'" in message


def entry(**changes):
    base = {"name": "x", "task": "lm", "format": "text", "description": "d", "licence": "l",
            "citation": "c", "files": [{"path": "x.txt", "sha256": "a" * 64, "size": 1}],
            "source": {"url": "http://127.0.0.1/x.txt", "archive": "none"}}
    return {"schema_version": 1, "corpora": [{**base, **changes}]}


@pytest.mark.parametrize("changes, problem", [
    ({"task": "translate"}, "task must be"),
    ({"files": [{"path": "../x.txt", "sha256": "a" * 64, "size": 1}]}, "'..'"),
    ({"files": [{"path": "x.txt", "sha256": "XYZ", "size": 1}]}, "sha256"),
    ({"source": {"url": "http://h/x.zip", "archive": "zip"}}, "members"),
    ({"source": {"url": "http://h/x.rar", "archive": "rar"}}, "archive must be"),
    ({"format": "paired"}, "label"),
    ({"name": "Bad Name"}, "lower-case"),
])
def test_parse_registry_rejects_bad_entries(changes, problem):
    with pytest.raises(DataError, match=problem):
        parse_registry(entry(**changes))


# --- resolution against a registry of our own --------------------------------------------


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        requests = 0

        def do_GET(self):
            type(self).requests += 1
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                     daemon=True).start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}", Quiet
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake_registry(monkeypatch, server):
    """Three corpora served by the local server: plain file, tar.gz pair, zip of TSVs."""
    folder, url, handler = server
    (folder / "tiny.txt").write_bytes(TINY)
    with tarfile.open(folder / "pair.tar.gz", "w:gz") as tar:
        for name, data in (("pairdata/p.pos", POS), ("pairdata/p.neg", NEG)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tsv = b"sentence\tlabel\ngood\t1\n"
    with zipfile.ZipFile(folder / "t.zip", "w") as zipped:
        zipped.writestr("T/train.tsv", tsv)
    common = {"description": "d", "licence": "l", "citation": "c"}
    document = {"schema_version": 1, "corpora": [
        {"name": "tiny", "task": "lm", "format": "text", **common,
         "files": [{"path": "tiny/tiny.txt", "sha256": sha(TINY), "size": len(TINY)}],
         "source": {"url": f"{url}/tiny.txt", "archive": "none"}},
        {"name": "pair", "task": "classify", "format": "paired", **common,
         "files": [{"path": "pair/p.pos", "sha256": sha(POS), "size": len(POS), "label": "positive"},
                   {"path": "pair/p.neg", "sha256": sha(NEG), "size": len(NEG), "label": "negative"}],
         "source": {"url": f"{url}/pair.tar.gz", "archive": "tar.gz",
                    "members": {"pair/p.pos": "pairdata/p.pos", "pair/p.neg": "pairdata/p.neg"}}},
        {"name": "tsv", "task": "classify", "format": "tsv", **common,
         "columns": {"text": "sentence", "label": "label"}, "label_names": {"1": "positive"},
         "files": [{"path": "tsv/train.tsv", "sha256": sha(tsv), "size": len(tsv)}],
         "source": {"url": f"{url}/t.zip", "archive": "zip",
                    "members": {"tsv/train.tsv": "T/train.tsv"}}},
    ]}
    corpora = parse_registry(document)
    monkeypatch.setattr(registry, "registry", lambda: corpora)
    return corpora, handler


def test_user_path_is_used_as_is(fake_registry, tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text("hello\n")
    resolved = resolve_corpus(str(mine), data_dir=None, cache_dir=tmp_path / "cache")
    assert resolved.corpus is None and resolved.path() == mine and resolved.root == mine
    assert resolved.origins == {"mine.txt": "path"}
    folder = resolve_corpus(str(tmp_path), data_dir=None, cache_dir=tmp_path / "cache")
    assert folder.path() == tmp_path


def test_missing_path_is_an_error(fake_registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for missing in ("nope.txt", "some/dir", str(tmp_path / "gone")):
        with pytest.raises(DataError, match="no such file") as info:
            resolve_corpus(missing, data_dir=None, cache_dir=tmp_path / "cache")
        assert not isinstance(info.value, CorpusNotFoundError)
    with pytest.raises(CorpusNotFoundError, match="known corpora: tiny, pair, tsv"):
        resolve_corpus("nonesuch", data_dir=None, cache_dir=tmp_path / "cache")


def test_bare_name_beats_a_folder_of_that_name(fake_registry, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny").mkdir()
    resolved = resolve_corpus("tiny", data_dir=None, cache_dir=tmp_path / "cache")
    assert resolved.corpus.name == "tiny" and resolved.origins["tiny/tiny.txt"] == "download"
    assert resolve_corpus("./tiny", data_dir=None, cache_dir=tmp_path / "c2").corpus is None


def put(base: Path, relative: str, data: bytes) -> Path:
    path = base / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_order_mirror_then_cache_then_download(fake_registry, tmp_path):
    _, handler = fake_registry
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    in_mirror = put(mirror, "tiny/tiny.txt", TINY)
    in_cache = put(cache / "corpora", "tiny/tiny.txt", TINY)
    first = resolve_corpus("tiny", data_dir=mirror, cache_dir=cache)
    assert (first.path(), first.origins["tiny/tiny.txt"], first.root) == (in_mirror, "mirror", mirror)
    second = resolve_corpus("tiny", data_dir=tmp_path / "empty", cache_dir=cache)
    assert (second.path(), second.origins["tiny/tiny.txt"]) == (in_cache, "cache")
    assert handler.requests == 0
    in_cache.unlink()
    third = resolve_corpus("tiny", data_dir=None, cache_dir=cache)
    assert (third.path(), third.origins["tiny/tiny.txt"]) == (in_cache, "download")
    assert in_cache.read_bytes() == TINY and handler.requests == 1
    assert resolve_corpus("tiny", data_dir=None, cache_dir=cache).origins["tiny/tiny.txt"] == "cache"


def test_mirror_size_mismatch_names_the_file(fake_registry, tmp_path):
    mirror = tmp_path / "mirror"
    put(mirror, "tiny/tiny.txt", TINY + b"extra")
    with pytest.raises(ChecksumError, match="tiny/tiny.txt") as info:
        resolve_corpus("tiny", data_dir=mirror, cache_dir=tmp_path / "cache")
    assert "\n" not in str(info.value)


def test_stale_cache_file_is_replaced_by_download(fake_registry, tmp_path):
    cache = tmp_path / "cache"
    put(cache / "corpora", "tiny/tiny.txt", b"truncated")
    resolved = resolve_corpus("tiny", data_dir=None, cache_dir=cache)
    assert resolved.origins["tiny/tiny.txt"] == "download" and resolved.path().read_bytes() == TINY


@pytest.mark.parametrize("name", ["pair", "tsv"])
def test_archives_download_extract_and_verify(fake_registry, tmp_path, name):
    cache = tmp_path / "cache"
    resolved = resolve_corpus(name, data_dir=None, cache_dir=cache)
    corpus = resolved.corpus
    for file in corpus.files:
        assert resolved.origins[file.path] == "download"
        assert sha256_file(resolved.paths[file.path]) == file.sha256
    leftover = sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())
    assert leftover == sorted(f"corpora/{f.path}" for f in corpus.files)
    assert resolved.root == cache / "corpora"
    if name == "pair":
        assert [p.name for p in resolved.split_paths("train")] == ["p.pos", "p.neg"]


def test_partial_mirror_downloads_only_the_rest(fake_registry, tmp_path):
    mirror, cache = tmp_path / "mirror", tmp_path / "cache"
    put(mirror, "pair/p.pos", POS)
    resolved = resolve_corpus("pair", data_dir=mirror, cache_dir=cache)
    assert dict(resolved.origins) == {"pair/p.pos": "mirror", "pair/p.neg": "download"}
    assert resolved.root is None
    assert not (cache / "corpora" / "pair" / "p.pos").exists()


def test_download_checksum_mismatch_is_reported_and_nothing_is_kept(fake_registry, server, tmp_path):
    folder, _, _ = server
    (folder / "tiny.txt").write_bytes(TINY.upper())
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError, match="expected"):
        resolve_corpus("tiny", data_dir=None, cache_dir=cache)
    assert [p for p in cache.rglob("*") if p.is_file()] == []


def test_offline_message_names_the_three_ways(fake_registry, tmp_path, monkeypatch):
    corpora, _ = fake_registry
    offline = parse_registry({"schema_version": 1, "corpora": [
        {"name": "tiny", "task": "lm", "format": "text", "description": "d", "licence": "l",
         "citation": "c", "files": [{"path": "tiny/tiny.txt", "sha256": sha(TINY), "size": len(TINY)}],
         "source": {"url": f"http://127.0.0.1:{closed_port()}/tiny.txt", "archive": "none"}}]})
    monkeypatch.setattr(registry, "registry", lambda: offline)
    for allow in (True, False):
        with pytest.raises(CorpusNotFoundError) as info:
            resolve_corpus("tiny", data_dir=tmp_path / "mirror", cache_dir=tmp_path / "cache",
                           allow_download=allow)
        message = str(info.value)
        assert "\n" not in message
        assert "pass a path" in message
        assert "SEQCLI_DATA" in message and "tiny/tiny.txt" in message
        assert "seqcli corpus fetch tiny" in message
    assert not (tmp_path / "cache" / "corpora" / "tiny").exists()


# --- the real mirror ----------------------------------------------------------------------


@pytest.mark.corpora
def test_real_mirror_matches_registry(real_corpora, tmp_path):
    for corpus in list_corpora():
        resolved = resolve_corpus(corpus.name, data_dir=real_corpora, cache_dir=tmp_path,
                                  allow_download=False)
        for file in corpus.files:
            assert resolved.origins[file.path] == "mirror"
            assert sha256_file(resolved.paths[file.path]) == file.sha256, file.path
    rt = resolve_corpus("rt-polarity", data_dir=real_corpora, cache_dir=tmp_path, allow_download=False)
    text, encoding = read_text_with_encoding(rt.path("rt-polarity/rt-polarity.pos"))
    assert encoding == "cp1252" and "\u2026" in text and "\x85" not in text
