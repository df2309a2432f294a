"""seqcli/choices.py and seqcli/cli/choices.py: one list per choice, read by the CLI's enums,
the models' registries and the config checks alike."""

import pytest
import torch

from seqcli import choices
from seqcli.cli import choices as cli_choices
from seqcli.config import default_config, with_overrides
from seqcli.errors import ConfigError
from seqcli.models.cells import CELLS
from seqcli.models.classifier import Classifier, pool
from seqcli.models.zoo import RECURRENT_IMPLS

ENUMS = {
    "Task": choices.TASKS, "Cell": choices.CELLS, "Impl": choices.IMPLS,
    "TokenizerKind": choices.TOKENIZERS, "Pooling": choices.POOLINGS,
    "Optim": choices.OPTIMIZERS, "Schedule": choices.SCHEDULES,
    "Partition": choices.PARTITIONS, "ClassWeights": choices.CLASS_WEIGHTS,
    "Device": choices.DEVICES, "Precision": choices.PRECISIONS,
    "Format": choices.TEXT_FORMATS,
    "ClassifyFormat": choices.CLASSIFY_FORMATS,
}


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_cli_enum_values_are_the_choice_list(name):
    enum = getattr(cli_choices, name)
    assert [member.value for member in enum] == list(ENUMS[name])
    for value in ENUMS[name]:
        assert enum(value) == value  # str enums: the member compares equal to its value
        assert cli_choices.value(enum(value)) == value


def test_value_of_no_choice_is_none():
    assert cli_choices.value(None) is None


def test_choice_lists_are_tuples_of_unique_strings():
    for values in ENUMS.values():
        assert isinstance(values, tuple) and values
        assert all(isinstance(v, str) for v in values)
        assert len(set(values)) == len(values)


def test_numeric_limits():
    assert choices.MAX_SEED == 2**32
    assert choices.MAX_SUBWORDS == 2**24


def test_cell_registry_matches_the_list():
    assert tuple(CELLS) == choices.CELLS


def test_impl_registry_matches_the_list():
    assert tuple(RECURRENT_IMPLS) == choices.IMPLS


@pytest.mark.parametrize("pooling", choices.POOLINGS)
def test_classifier_accepts_every_listed_pooling(pooling):
    torch.manual_seed(0)
    model = Classifier(20, 4, 3, 2, pooling=pooling).eval()
    logits, state = model(torch.tensor([[2, 3, 4], [5, 6, 0]]), torch.tensor([3, 2]))
    assert logits.shape == (2, 2) and state is None
    assert torch.isfinite(logits).all()


def test_classifier_rejects_an_unlisted_pooling():
    with pytest.raises(ValueError, match="unknown pooling 'sum'"):
        Classifier(20, 4, 3, 2, pooling="sum")
    with pytest.raises(ValueError, match="unknown pooling 'sum'"):
        pool(torch.zeros(1, 2, 3), torch.tensor([2]), "sum")


FIELDS = {  # option -> (section, field, list of allowed values)
    "--cell": ("model", "cell", choices.CELLS),
    "--impl": ("model", "impl", choices.IMPLS),
    "--pooling": ("model", "pooling", choices.POOLINGS),
    "--tokenizer": ("data", "tokenizer", choices.TOKENIZERS),
    "--optimizer": ("train", "optimizer", choices.OPTIMIZERS),
    "--schedule": ("train", "schedule", choices.SCHEDULES),
    "--partition": ("data", "partition", choices.PARTITIONS),
    "--device": ("train", "device", choices.DEVICES),
    "--precision": ("train", "precision", choices.PRECISIONS),
}
ACCEPTED = [(option, task, value) for option, (_, _, values) in FIELDS.items()
            for task in choices.TASKS for value in values]


@pytest.mark.parametrize("option, task, value", ACCEPTED)
def test_config_accepts_every_listed_value(option, task, value):
    section, name, _ = FIELDS[option]
    run = with_overrides(default_config(task), {(section, name): value})
    assert getattr(getattr(run, section), name) == value


@pytest.mark.parametrize("option", sorted(FIELDS))
def test_config_rejects_an_unlisted_value_naming_the_option(option):
    section, name, values = FIELDS[option]
    with pytest.raises(ConfigError, match=f"^{option} must be one of {', '.join(values)}; "
                                          f"got 'nonsense'$"):
        with_overrides(default_config("lm"), {(section, name): "nonsense"})


def test_choices_are_case_sensitive():
    with pytest.raises(ConfigError, match="--cell must be one of"):
        with_overrides(default_config("lm"), {("model", "cell"): "LSTM"})


def test_class_weights_choices():
    for value in choices.CLASS_WEIGHTS:
        run = with_overrides(default_config("classify"), {("train", "class_weights"): value})
        assert run.train.class_weights == value
    with pytest.raises(ConfigError, match="--class-weights must be one of auto, none"):
        with_overrides(default_config("classify"), {("train", "class_weights"): "balanced"})


def test_tasks():
    for task in choices.TASKS:
        assert default_config(task).task == task
    with pytest.raises(ConfigError, match="--task must be one of lm, classify; got 'translate'"):
        default_config("translate")


def _commands(command, path=()):
    """Every runnable command of the CLI with its path: ("corpus", "list"), ..."""
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield path, command
        return
    for name, sub in subcommands.items():
        yield from _commands(sub, (*path, name))


# Commands without a document to print: fetch prints one path per line, plot writes a PNG,
# serve answers in JSON over HTTP and logs its address and requests on stderr until stopped
NO_DOCUMENT = {("corpus", "fetch"), ("runs", "plot"), ("serve",)}


def test_every_command_asks_for_a_document_the_same_way():
    """One convention on every command: --format, whose values begin text (for people), json
    (one document on stdout); no visible --json or other spelling; and every --out that can
    meet a user's file has --force (train's --out is a new run directory: it refuses a run)."""
    import typer.main

    from seqcli.cli.main import app

    seen = []
    for path, command in _commands(typer.main.get_command(app)):
        options = {name: param for param in command.params for name in param.opts}
        assert "--json" not in options or options["--json"].hidden, path
        if path in NO_DOCUMENT:
            assert "--format" not in options, path
        else:
            assert options["--format"].metavar.startswith("<text|json"), path
            seen.append(path)
        if "--out" in options and path != ("train",):
            assert "--force" in options, path
    assert len(seen) == 15


def test_a_renamed_format_value_still_works_with_a_note():
    from typer.testing import CliRunner

    from seqcli.cli.main import app

    new = CliRunner().invoke(app, ["corpus", "list", "--format", "text"])
    old = CliRunner().invoke(app, ["corpus", "list", "--format", "table"])
    assert old.exit_code == 0 and old.stdout == new.stdout
    assert old.stderr.strip() == "note: --format table is now --format text"
    wrong = CliRunner().invoke(app, ["corpus", "list", "--format", "xml"])
    assert wrong.exit_code == 2 and "'xml' is not one of 'text', 'json'" in wrong.stderr
