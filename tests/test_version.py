"""seqcli/version.py: one version, the one pyproject.toml declares."""

import re
import tomllib
from pathlib import Path

import seqcli
from seqcli import version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def declared_version() -> str:
    with open(PYPROJECT, "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def test_package_version_is_the_declared_one():
    assert seqcli.__version__ == declared_version()


def test_version_module_is_the_source():
    assert version.__version__ == seqcli.__version__
    assert "__version__" in seqcli.__all__


def test_version_is_a_release_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)?", version.__version__)
