"""seqcli/config_checks.py: every rule at its boundary, each error naming the option."""

import dataclasses
import math

import pytest

from seqcli.choices import MAX_SEED, MAX_SUBWORDS
from seqcli.config import FIELD_SECTIONS, RunConfig, default_config
from seqcli.config_checks import check_choice, validate
from seqcli.errors import ConfigError

NAN, INF = math.nan, math.inf


def config(task="lm", **settings) -> RunConfig:
    """The task's defaults with flat settings replaced, built without validating."""
    base = default_config(task)
    sections = {"model": base.model, "data": base.data, "train": base.train}
    for name, value in settings.items():
        section = FIELD_SECTIONS[name]
        sections[section] = dataclasses.replace(sections[section], **{name: value})
    return RunConfig(task=task, **sections)


def ok(task="lm", **settings):
    validate(config(task, **settings))


def bad(match, task="lm", **settings):
    with pytest.raises(ConfigError, match=match) as info:
        validate(config(task, **settings))
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("task", ["lm", "classify"])
def test_defaults_are_valid(task):
    ok(task)


def test_check_choice():
    check_choice("gru", ("rnn", "gru"), "--cell")
    with pytest.raises(ConfigError) as info:
        check_choice("tree", ("rnn", "gru"), "--cell")
    assert str(info.value) == "--cell must be one of rnn, gru; got 'tree'"
    with pytest.raises(ConfigError, match="got None"):
        check_choice(None, ("rnn",), "--cell")
    with pytest.raises(ConfigError):
        check_choice("RNN", ("rnn",), "--cell")


@pytest.mark.parametrize("value", [0.0, 0, 0.5, 0.999999])
def test_dropout_accepted_in_half_open_unit_interval(value):
    ok(dropout=value)


@pytest.mark.parametrize("value", [1.0, 1, 1.5, -0.01, -1e-12])
def test_dropout_outside_interval_rejected(value):
    bad(r"^--dropout must be in \[0, 1\); got", dropout=value)


@pytest.mark.parametrize("value", [1e-9, 0.1, 0.999999])
def test_val_fraction_accepted_in_open_unit_interval(value):
    ok(val_fraction=value)


@pytest.mark.parametrize("value", [0.0, 0, 1.0, 1, -0.1, 2.0])
def test_val_fraction_outside_interval_rejected(value):
    bad(r"^--val-fraction must be in \(0, 1\); got", val_fraction=value)


@pytest.mark.parametrize("name, option", [("word_dropout", "--word-dropout")])
class TestClassifierOnlyRates:
    @pytest.mark.parametrize("value", [0.0, 0.1, 0.95])
    def test_accepted_for_classify(self, name, option, value):
        ok("classify", **{name: value})

    @pytest.mark.parametrize("value", [-0.01, 0.951, 1.0, NAN, INF, -INF])
    def test_out_of_range_or_not_finite_rejected(self, name, option, value):
        bad(rf"^{option} must be in \[0, 0.95\] \(0: off\); got", "classify", **{name: value})

    def test_lm_rejects_any_nonzero_value(self, name, option):
        message = bad(f"^{option} trains classifiers; use it with --task classify$", "lm",
                      **{name: 0.1})
        assert message == f"{option} trains classifiers; use it with --task classify"

    def test_lm_accepts_zero(self, name, option):
        ok("lm", **{name: 0.0})

    def test_is_a_train_config_field(self, name, option):
        assert FIELD_SECTIONS[name] == "train"
        assert getattr(default_config("lm").train, name) == 0.0


@pytest.mark.parametrize("seed", [0, 1, MAX_SEED - 1])
def test_seed_range_accepted(seed):
    ok(seed=seed)


@pytest.mark.parametrize("seed", [-1, MAX_SEED, MAX_SEED + 1, 1.0, True, "1", None])
def test_seed_outside_range_or_not_an_int_rejected(seed):
    bad(rf"^--seed must be an integer from 0 to {MAX_SEED - 1}; got", seed=seed)


@pytest.mark.parametrize("name, option", [
    ("dropout", "--dropout"), ("val_fraction", "--val-fraction"),
    ("weight_decay", "--weight-decay")])
@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_non_finite_fractions_rejected(name, option, value):
    bad(f"^{option} must be a finite number; got", **{name: value})


@pytest.mark.parametrize("name, option", [
    ("lr", "--lr"), ("clip", "--clip"), ("max_steps", "--max-steps"),
    ("eval_every", "--eval-every"), ("patience", "--patience")])
@pytest.mark.parametrize("value", [NAN, INF, 0, -1])
def test_positive_settings_reject_nan_inf_and_non_positive(name, option, value):
    bad(f"^{option} must be a positive finite number; got", **{name: value})


@pytest.mark.parametrize("value", [NAN, 2.5, -1, True])
def test_eval_batches_is_a_whole_number_of_batches(value):
    bad(r"^--eval-batches must be a whole number >= 0 \(0: the whole validation split",
        eval_batches=value)


@pytest.mark.parametrize("value", [0, 1, 10, None])
def test_eval_batches_zero_or_none_scores_the_whole_split(value):
    ok(eval_batches=value)


def test_trace_test_is_for_classifiers():
    bad(r"^--trace-test scores a classifier's test set", trace_test=True)
    ok("classify", trace_test=True)


@pytest.mark.parametrize("value", [NAN, INF, -1.0])
def test_max_minutes_rejects_nan_inf_and_negative(value):
    bad(r"^--max-minutes must be >= 0", max_minutes=value)


@pytest.mark.parametrize("value", [0, 0.0, 0.5, None])
def test_max_minutes_zero_or_none_means_no_limit(value):
    ok(max_minutes=value)


@pytest.mark.parametrize("value", [NAN, INF, 1.0, -0.1])
def test_ema_outside_range_rejected(value):
    bad(r"^--ema must be in \[0, 1\)", ema=value)


@pytest.mark.parametrize("value", [NAN, INF, 1.01, -0.1])
def test_adversarial_outside_range_rejected(value):
    bad(r"^--adversarial must be in \[0, 1\]", "classify", adversarial=value)


def test_optional_positive_settings_accept_none():
    ok(max_steps=None, patience=None, eval_batches=None)


@pytest.mark.parametrize("value", [0, 2, 16384, MAX_SUBWORDS])
def test_subwords_accepted_for_classify(value):
    ok("classify", subwords=value)


@pytest.mark.parametrize("value", [1, -2, MAX_SUBWORDS + 1, 2.0, True])
def test_subwords_invalid_count_rejected(value):
    bad(r"^--subwords must be 0 \(off\) or an integer from 2 to", "classify", subwords=value)


def test_subwords_only_with_classify():
    bad("^--subwords adds character n-grams to a classifier's tokens; use it with --task "
        "classify$", "lm", subwords=16)
    ok("lm", subwords=0)


@pytest.mark.parametrize("name, option, top", [
    ("num_layers", "--layers", 64), ("hidden_size", "--hidden", 65536),
    ("seq_len", "--seq-len", 1_000_000), ("vocab_size", "--vocab-size", 10_000_000)])
def test_integer_limits(name, option, top):
    ok(**{name: 1})
    ok(**{name: top, "tie_weights": False})
    for value in (0, top + 1, 2.0, True):
        bad(f"^{option} must be an integer from 1 to {top}; got", **{name: value})


def test_integer_settings_reject_floats():
    bad("^--warmup-steps must be an integer", warmup_steps=1.5)
    bad("^--min-frequency must be an integer", min_frequency=True)
    bad("--weight-decay and --warmup-steps must be >= 0", warmup_steps=-1)
    bad("--min-frequency >= 1", min_frequency=0)


def test_lr_absurdly_large():
    ok(lr=100)
    bad(r"^--lr 100.5 is absurdly large", lr=100.5)


def test_bidirectional_language_model_rejected():
    bad("bidirectional language model cannot generate", bidirectional=True)
    ok("classify", bidirectional=True)


def test_tie_weights_needs_equal_sizes():
    bad("--tie-weights needs --embedding equal to --hidden", tie_weights=True,
        embedding_size=64, hidden_size=128)
    ok(tie_weights=True, embedding_size=32, hidden_size=32)


def test_unknown_task_rejected():
    # A stored or hand-written config has a task key, not the option: the message says "task"
    with pytest.raises(ConfigError, match="^task must be one of lm, classify; got 'speech'$"):
        validate(RunConfig(task="speech"))
