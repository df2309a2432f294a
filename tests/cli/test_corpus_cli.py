"""`seqcli corpus list | fetch | info` through CliRunner (no network: the opener is patched)."""

import json
import urllib.error

import pytest
from typer.testing import CliRunner

from seqcli.cli import corpus as corpus_cli
from seqcli.cli.main import app
from seqcli.data import download as dl
from seqcli.data.registry import get_corpus

runner = CliRunner()
NAMES = ["timemachine", "tinyshakespeare", "rt-polarity", "sst2"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Empty cache, no mirror, a scratch working folder, and no network."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEQCLI_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SEQCLI_DATA", raising=False)

    def offline(url, timeout):
        raise urllib.error.URLError("network is off in tests")

    monkeypatch.setattr(dl, "_open_url", offline)


def fake_mirror(tmp_path, name="timemachine", extra=0):
    """A mirror whose files have the registry's sizes (the mirror is trusted by size)."""
    mirror = tmp_path / "mirror"
    for file in get_corpus(name).files:
        path = mirror / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * (file.size + extra))
    return mirror


def test_help():
    result = runner.invoke(app, ["corpus", "--help"])
    assert result.exit_code == 0
    for command in ("list", "fetch", "info"):
        assert command in result.stdout


def test_list_table_and_json():
    table = runner.invoke(app, ["corpus", "list"])
    assert table.exit_code == 0, table.output
    for name in NAMES:
        assert name in table.stdout
    assert "174.8 KiB" in table.stdout
    listed = runner.invoke(app, ["corpus", "list", "--format", "json"])
    assert listed.exit_code == 0
    document = json.loads(listed.stdout)
    assert [c["name"] for c in document] == NAMES
    assert document[0]["bytes"] == 178979 and document[2]["licence"]


def test_list_rejects_unknown_format():
    result = runner.invoke(app, ["corpus", "list", "--format", "xml"])
    assert result.exit_code == 2
    assert "xml" in result.stderr


def test_info_registry_name_not_available_locally():
    result = runner.invoke(app, ["corpus", "info", "sst2"])
    assert result.exit_code == 0, result.output
    assert "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1" in result.stdout
    assert "not available locally" in result.stdout
    assert "SST-2.zip" in result.stdout


def test_info_registry_name_json_with_mirror(tmp_path, monkeypatch):
    mirror = fake_mirror(tmp_path, "rt-polarity")
    monkeypatch.setenv("SEQCLI_DATA", str(mirror))
    result = runner.invoke(app, ["corpus", "info", "rt-polarity", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["encoding"] == "cp1252" and document["labels"] == ["negative", "positive"]
    assert [(f["origin"], f["local"]) for f in document["files"]] == [
        ("mirror", str(mirror / "rt-polarity" / "rt-polarity.pos")),
        ("mirror", str(mirror / "rt-polarity" / "rt-polarity.neg"))]


def test_info_path_reports_text_statistics(tmp_path, monkeypatch):
    raw = b"\x93great\x94 film\r\nbad caf\xe9 \x85\n"
    (tmp_path / "reviews.txt").write_bytes(raw)
    result = runner.invoke(app, ["corpus", "info", "reviews.txt", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    text = "\u201cgreat\u201d film\nbad caf\u00e9 \u2026\n"
    assert document["encoding"] == "cp1252"
    assert document["lines"] == 2 and document["bytes"] == len(raw)
    assert document["characters"] == len(text)
    assert document["distinct_characters"] == len(set(text))
    table = runner.invoke(app, ["corpus", "info", "reviews.txt"])
    assert table.exit_code == 0 and "cp1252" in table.stdout
    monkeypatch.setattr(corpus_cli, "WHOLE_FILE_LIMIT", 0)  # large files are streamed
    streamed = runner.invoke(app, ["corpus", "info", "reviews.txt", "--format", "json"])
    assert json.loads(streamed.stdout) == document


def test_info_folder_lists_files_and_problems(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text("one\ntwo")
    (folder / "b.bin").write_bytes(b"\x00\x01\x02")
    result = runner.invoke(app, ["corpus", "info", "texts", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kind"] == "directory" and document["file_count"] == 2
    a, b = document["files"]
    assert a["lines"] == 2 and "looks binary" in b["error"]


@pytest.mark.parametrize("target, message", [
    ("missing.txt", "no such file"),
    ("nonesuch", "known corpora: timemachine, tinyshakespeare, rt-polarity, sst2"),
])
def test_info_errors_are_one_line(target, message):
    result = runner.invoke(app, ["corpus", "info", target])
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_info_binary_file(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"\x00" * 10)
    result = runner.invoke(app, ["corpus", "info", "x.bin"])
    assert result.exit_code == 1 and "looks binary" in result.stderr


def test_fetch_offline_names_the_three_ways():
    result = runner.invoke(app, ["corpus", "fetch", "timemachine"])
    assert result.exit_code == 1
    err = result.stderr
    assert err.count("\n") == 1
    assert "pass a path" in err and "SEQCLI_DATA" in err and "timemachine.txt" in err
    assert "seqcli corpus fetch timemachine" in err and "network is off" in err


def test_fetch_from_mirror_prints_the_path(tmp_path, monkeypatch):
    mirror = fake_mirror(tmp_path)
    monkeypatch.setenv("SEQCLI_DATA", str(mirror))
    result = runner.invoke(app, ["corpus", "fetch", "timemachine"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(mirror / "timemachine.txt")
    assert "mirror" in result.stderr


def test_fetch_uses_the_cache(tmp_path):
    cached = tmp_path / "cache" / "corpora" / "timemachine.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x" * 178979)
    result = runner.invoke(app, ["corpus", "fetch", "timemachine"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(cached)


def test_fetch_mirror_size_mismatch(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQCLI_DATA", str(fake_mirror(tmp_path, extra=1)))
    result = runner.invoke(app, ["corpus", "fetch", "timemachine"])
    assert result.exit_code == 1 and "timemachine.txt" in result.stderr


def test_fetch_needs_a_registry_name():
    result = runner.invoke(app, ["corpus", "fetch", "timemachin"])
    assert result.exit_code == 1 and "did you mean 'timemachine'" in result.stderr
