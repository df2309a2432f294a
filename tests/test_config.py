"""seqcli/config.py: typed sections, flat overrides, task defaults, TOML files, resuming."""

from __future__ import annotations  # annotations are strings here, as in seqcli/config.py

import dataclasses
from dataclasses import dataclass

import pytest

from seqcli.config import (CLASSIFY_DEFAULTS, FIELD_SECTIONS, RESUMABLE, SECTIONS, DataConfig,
                           ModelConfig, RunConfig, TrainConfig, build_section, config_from_toml,
                           default_config, flat_overrides, load_toml, resume_conflicts,
                           task_default, with_overrides)
from seqcli.errors import ConfigError


@dataclass(frozen=True)
class Sample:
    """A section whose annotations are strings: only typing.get_type_hints resolves them."""

    count: int = 1
    rate: float = 0.5
    limit: int | None = None
    name: str | None = None
    flag: bool = False


def test_section_annotations_are_strings():
    assert all(isinstance(f.type, str) for f in dataclasses.fields(Sample))
    assert all(isinstance(f.type, str) for f in dataclasses.fields(ModelConfig))


def test_build_section_accepts_well_typed_values():
    built = build_section(Sample, {"count": 3, "rate": 2, "limit": None, "name": None,
                                   "flag": True}, "sample")
    assert built == Sample(count=3, rate=2, limit=None, name=None, flag=True)
    assert build_section(Sample, {}, "sample") == Sample()
    assert build_section(Sample, {"limit": 7, "name": "x"}, "sample") == Sample(limit=7, name="x")


@pytest.mark.parametrize("key, value, expected", [
    ("count", 1.5, "int"), ("count", True, "int"), ("count", "3", "int"), ("count", None, "int"),
    ("rate", "0.5", "float"), ("rate", False, "float"), ("rate", None, "float"),
    ("limit", 2.0, "int"), ("limit", True, "int"), ("name", 3, "str"),
    ("flag", 1, "bool"), ("flag", 0, "bool"), ("flag", "true", "bool"),
])
def test_build_section_rejects_wrong_types(key, value, expected):
    with pytest.raises(ConfigError) as info:
        build_section(Sample, {key: value}, "sample")
    assert str(info.value) == f"sample.{key}: expected {expected}, got {value!r}"


def test_build_section_on_the_real_sections():
    with pytest.raises(ConfigError, match=r"^model.num_layers: expected int, got 1.5$"):
        build_section(ModelConfig, {"num_layers": 1.5}, "model")
    with pytest.raises(ConfigError, match=r"^model.hidden_size: expected int, got True$"):
        build_section(ModelConfig, {"hidden_size": True}, "model")
    with pytest.raises(ConfigError, match=r"^model.bidirectional: expected bool, got 1$"):
        build_section(ModelConfig, {"bidirectional": 1}, "model")
    assert build_section(ModelConfig, {"dropout": 0}, "model").dropout == 0  # float takes int
    assert build_section(TrainConfig, {"max_steps": None}, "train").max_steps is None
    assert build_section(TrainConfig, {"max_minutes": 3}, "train").max_minutes == 3
    assert build_section(DataConfig, {"text_column": None}, "data").text_column is None
    assert build_section(DataConfig, {"text_column": "review"}, "data").text_column == "review"


def test_build_section_rejects_unknown_keys_and_non_tables():
    with pytest.raises(ConfigError, match=r"^model: unknown key 'hiden_size' \(known: "):
        build_section(ModelConfig, {"hiden_size": 3}, "model")
    with pytest.raises(ConfigError, match="^model: expected a table of settings, got list$"):
        build_section(ModelConfig, [1], "model")


def test_flat_names_are_unique_across_sections():
    names = [f.name for kind in SECTIONS.values() for f in dataclasses.fields(kind)]
    assert len(names) == len(set(names)) == len(FIELD_SECTIONS)


def test_flat_overrides_maps_names_to_sections():
    overrides = flat_overrides({"hidden_size": 512, "corpus": "sst2", "lr": 0.1,
                                "max_steps": None, "word_dropout": 0.2})
    assert overrides == {("model", "hidden_size"): 512, ("data", "corpus"): "sst2",
                         ("train", "lr"): 0.1, ("train", "max_steps"): None,
                         ("train", "word_dropout"): 0.2}
    assert flat_overrides({}) == {}


def test_flat_overrides_unknown_name_suggests_the_closest():
    with pytest.raises(ConfigError) as info:
        flat_overrides({"hiden_size": 512})
    assert str(info.value) == "unknown setting 'hiden_size' (did you mean 'hidden_size'?)"
    with pytest.raises(ConfigError, match=r"did you mean 'word_dropout'\?"):
        flat_overrides({"word_dropuot": 0.1})


def test_flat_overrides_unknown_name_without_a_close_one_lists_all():
    with pytest.raises(ConfigError, match=r"^unknown setting 'zzzzzz' \(known: .*hidden_size"):
        flat_overrides({"zzzzzz": 1})


def test_flat_overrides_checks_types():
    with pytest.raises(ConfigError, match=r"^model.hidden_size: expected int, got 'big'$"):
        flat_overrides({"hidden_size": "big"})
    with pytest.raises(ConfigError, match=r"^train.epochs: expected int, got 2.5$"):
        flat_overrides({"epochs": 2.5, "corpus": "x"})


@pytest.mark.parametrize("section, name, lm, classify", [
    ("train", "warmup_steps", 50, 100),
    ("train", "word_dropout", 0.0, 0.25),
    ("train", "adversarial", 0.0, 0.0),
    ("model", "wide", 0, 262144),
    ("train", "wide_lr_scale", 1.0, 0.1),
    ("model", "hidden_size", 256, 128),
    ("model", "num_layers", 1, 1),
    ("model", "weight_drop", 0.0, 0.0),
    ("train", "max_minutes", 5.0, 10.0),
    ("data", "tokenizer", "char", "word"),
    ("data", "corpus", "timemachine", "sst2"),
    ("model", "bidirectional", False, True),
    ("model", "subwords", 0, 16384),
    ("model", "cell", "lstm", "lstm"),  # not in CLASSIFY_DEFAULTS: the shared default
    ("data", "seq_len", 64, 64),  # unused by classifiers
    ("data", "batch_size", 16, 64),
])
def test_task_default(section, name, lm, classify):
    assert task_default("lm", section, name) == lm
    assert task_default("classify", section, name) == classify


@pytest.mark.parametrize("task", ["lm", "classify"])
def test_task_default_agrees_with_default_config(task):
    run = default_config(task)
    for name, section in FIELD_SECTIONS.items():
        assert getattr(getattr(run, section), name) == task_default(task, section, name), name


def test_classify_defaults_name_real_fields():
    for section, name in CLASSIFY_DEFAULTS:
        assert FIELD_SECTIONS[name] == section
    for section, name in RESUMABLE:
        assert FIELD_SECTIONS[name] == section


def test_with_overrides_returns_a_validated_copy():
    base = default_config("lm")
    changed = with_overrides(base, {("model", "hidden_size"): 64, ("train", "lr"): 0.01})
    assert changed.model.hidden_size == 64 and changed.train.lr == 0.01
    assert base.model.hidden_size == 256  # frozen: the original is untouched
    with pytest.raises(ConfigError, match=r"--dropout must be in \[0, 1\)"):
        with_overrides(base, {("model", "dropout"): 1.0})


def write(tmp_path, text):
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_from_toml_file(tmp_path):
    path = write(tmp_path, """
task = "classify"

[model]
hidden_size = 64
cell = "gru"

[data]
text_column = "review"

[train]
lr = 0.01
max_minutes = 2
""")
    run = config_from_toml(load_toml(path), None)
    assert run.task == "classify"
    assert run.model.hidden_size == 64 and run.model.cell == "gru"
    assert run.data.text_column == "review"
    assert run.train.lr == 0.01 and run.train.max_minutes == 2
    # the rest comes from the classifier's defaults, not the language model's
    assert run.model.bidirectional is True and run.train.warmup_steps == 100
    assert run.train.word_dropout == 0.25 and run.data.tokenizer == "word"


def test_config_from_toml_task_argument_beats_the_file(tmp_path):
    raw = load_toml(write(tmp_path, 'task = "classify"\n[model]\nhidden_size = 32\n'))
    run = config_from_toml(raw, "lm")
    assert run.task == "lm" and run.model.hidden_size == 32
    assert run.model.bidirectional is False and run.train.warmup_steps == 50


def test_config_from_toml_empty_file_gives_lm_defaults(tmp_path):
    assert config_from_toml(load_toml(write(tmp_path, "")), None) == default_config("lm")


@pytest.mark.parametrize("text, message", [
    ("[trian]\nlr = 0.1\n", r"^config: unknown key 'trian'"),
    ("[model]\nhiden_size = 3\n", r"^model: unknown key 'hiden_size'"),
    ('[model]\nhidden_size = "64"\n', r"^model.hidden_size: expected int, got '64'$"),
    ("[model]\nbidirectional = 1\n", r"^model.bidirectional: expected bool, got 1$"),
    ('[model]\ncell = "tree"\n', r"^--cell must be one of rnn, lstm, gru; got 'tree'$"),
    ("[train]\nword_dropout = 0.1\n", r"^--word-dropout trains classifiers"),
    ("model = 3\n", r"^model: expected a table of settings, got int$"),
    ('task = "speech"\n', r"^--task must be one of lm, classify"),
])
def test_config_from_toml_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        config_from_toml(load_toml(write(tmp_path, text)), None)


def test_load_toml_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match="^config file not found: .*missing.toml$"):
        load_toml(missing)
    broken = write(tmp_path, "[model\nhidden_size = 3\n")
    with pytest.raises(ConfigError, match=r"^invalid TOML in .*run.toml: "):
        load_toml(broken)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="binary.toml"):
        load_toml(binary)


@pytest.mark.parametrize("task", ["lm", "classify"])
def test_run_config_round_trips_through_a_dict(task):
    run = with_overrides(default_config(task), {("model", "hidden_size"): 48})
    assert RunConfig.from_dict(run.to_dict()) == run


def test_run_config_from_dict_rejects_unknown_and_invalid():
    raw = default_config("lm").to_dict()
    with pytest.raises(ConfigError, match="^config: unknown key 'extra'"):
        RunConfig.from_dict({**raw, "extra": 1})
    raw["model"]["dropout"] = 2.0
    with pytest.raises(ConfigError, match=r"--dropout must be in \[0, 1\)"):
        RunConfig.from_dict(raw)


def test_resume_conflicts_reports_only_fixed_settings_that_change():
    stored = default_config("lm")
    overrides = {("train", "epochs"): 99, ("train", "max_steps"): 5, ("train", "device"): "cpu",
                 ("model", "hidden_size"): 512, ("data", "seq_len"): stored.data.seq_len,
                 ("data", "tokenizer"): "word"}
    assert resume_conflicts(stored, overrides) == [
        "model.hidden_size=512 (the run has 256)",
        "data.tokenizer='word' (the run has 'char')",
    ]


def test_resume_conflicts_none_for_resumable_or_unchanged():
    stored = default_config("classify")
    assert resume_conflicts(stored, {}) == []
    every_resumable = {key: None for key in RESUMABLE}
    assert resume_conflicts(stored, every_resumable) == []
    same = {("model", "pooling"): stored.model.pooling, ("train", "lr"): stored.train.lr}
    assert resume_conflicts(stored, same) == []
