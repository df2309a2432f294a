"""seqcli/locations.py: explicit values, then SEQCLI_* variables, then the defaults."""

import dataclasses
from pathlib import Path

import pytest

from seqcli.locations import Locations, default_cache, from_environment

ENV = {"SEQCLI_RUNS": "/env/runs", "SEQCLI_DATA": "/env/data", "SEQCLI_CACHE": "/env/cache",
       "XDG_CACHE_HOME": "/xdg"}


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home folder of our own, so ~/.cache is known (Path.home() reads $HOME)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_defaults_with_an_empty_environment(home):
    where = from_environment({})
    assert where == Locations(runs=Path("runs"), data=None, cache=home / ".cache" / "seqcli")


def test_environment_beats_defaults():
    where = from_environment(ENV)
    assert where == Locations(Path("/env/runs"), Path("/env/data"), Path("/env/cache"))


def test_explicit_arguments_beat_the_environment(tmp_path):
    where = from_environment(ENV, runs=tmp_path / "r", data=str(tmp_path / "d"),
                             cache=tmp_path / "c")
    assert where == Locations(tmp_path / "r", tmp_path / "d", tmp_path / "c")
    assert all(isinstance(p, Path) for p in (where.runs, where.data, where.cache))


def test_each_location_resolves_on_its_own(home):
    where = from_environment({"SEQCLI_DATA": "/env/data"}, runs="mine")
    assert where == Locations(Path("mine"), Path("/env/data"), home / ".cache" / "seqcli")


def test_empty_variables_count_as_unset(home):
    where = from_environment({"SEQCLI_RUNS": "", "SEQCLI_DATA": "", "SEQCLI_CACHE": "",
                              "XDG_CACHE_HOME": ""})
    assert where == Locations(Path("runs"), None, home / ".cache" / "seqcli")


def test_default_cache_order(home):
    assert default_cache({"SEQCLI_CACHE": "/a", "XDG_CACHE_HOME": "/xdg"}) == Path("/a")
    assert default_cache({"XDG_CACHE_HOME": "/xdg"}) == Path("/xdg/seqcli")
    assert default_cache({}) == home / ".cache" / "seqcli"


def test_the_process_environment_is_not_read(monkeypatch, home):
    monkeypatch.setenv("SEQCLI_RUNS", "/process/runs")
    monkeypatch.setenv("SEQCLI_DATA", "/process/data")
    monkeypatch.setenv("SEQCLI_CACHE", "/process/cache")
    monkeypatch.setenv("XDG_CACHE_HOME", "/process/xdg")
    assert from_environment({}) == Locations(Path("runs"), None, home / ".cache" / "seqcli")


def test_locations_are_frozen():
    where = from_environment(ENV)
    with pytest.raises(dataclasses.FrozenInstanceError):
        where.runs = Path("elsewhere")
