"""seqcli/training/reporting.py: the bar's total follows whichever budget binds."""

import io

import pytest
from rich.console import Console

from seqcli.training.reporting import Reporter, RichReporter, _fmt, binding_total, metrics_table


def test_no_time_budget_gives_the_step_total():
    assert binding_total(5265, 430, 30.0, None) == 5265
    assert binding_total(5265, 430, 30.0, 0) == 5265  # 0: no time limit


def test_time_budget_running_out_first_projects_the_step_count():
    # 430 steps in 30 s: a 90 s budget ends at 1290 steps, well before the 5265-step budget
    assert binding_total(5265, 430, 30.0, 90.0) == 1290
    assert binding_total(5265, 7, 3.0, 10.0) == 24  # 23.3 rounded up


def test_step_budget_binding_first_keeps_the_step_total():
    assert binding_total(1000, 430, 30.0, 90.0) == 1000
    assert binding_total(1290, 430, 30.0, 90.0) == 1290


def test_projection_never_falls_below_the_current_step():
    assert binding_total(5265, 430, 30.0, 10.0) == 430  # over time already
    assert binding_total(5265, 430, 30.0, 29.0) == 430


def test_no_pace_yet_gives_the_step_total():
    assert binding_total(5265, 0, 0.0, 90.0) == 5265
    assert binding_total(5265, 10, 0.0, 90.0) == 5265
    assert binding_total(5265, 0, 5.0, 90.0) == 5265


def make(fields=("loss",)):
    buffer = io.StringIO()
    return RichReporter(Console(file=buffer, width=120), fields), buffer


def test_rich_reporter_shows_the_projected_total():
    reporter, buffer = make(("loss", "lr"))
    reporter.start(5265, 0, "train", budget_seconds=90.0)
    reporter.step(430, {"loss": 1.5, "lr": 1.5e-4, "hidden": 7}, seconds=30.0)
    reporter.finish()
    out = buffer.getvalue()
    assert "430/1290" in out and "5265" not in out
    assert "loss 1.5" in out and "lr 1.50e-04" in out
    assert "hidden" not in out  # only the fields it was given
    assert reporter.progress is None


def test_rich_reporter_without_a_time_budget_shows_the_step_budget():
    reporter, buffer = make()
    reporter.start(5265, 100, "train")
    reporter.step(430, {"loss": 2.0}, seconds=30.0)
    reporter.finish()
    assert "430/5265" in buffer.getvalue()


def test_rich_reporter_before_any_step_shows_placeholders():
    reporter, buffer = make()
    reporter.start(50, 10, "resume", budget_seconds=None)
    reporter.finish()
    out = buffer.getvalue()
    assert "resume" in out and "10/50" in out and "loss -" in out


def test_evaluation_line():
    reporter, buffer = make()
    reporter.evaluation(200, {"val_loss": 1.23456, "val_perplexity": 3.437}, improved=True)
    reporter.evaluation(300, {"val_loss": 1.3}, improved=False)
    lines = buffer.getvalue().splitlines()
    assert lines == ["step 200: val_loss 1.235  val_perplexity 3.437 (best)",
                     "step 300: val_loss 1.3"]


def test_silent_reporter_does_nothing():
    reporter = Reporter()
    reporter.start(10, 0, "x", budget_seconds=5)
    reporter.step(1, {"loss": 1.0}, seconds=1.0)
    reporter.evaluation(1, {"val_loss": 1.0}, True)
    reporter.message("text")
    reporter.finish()


@pytest.mark.parametrize("value, shown", [
    (0.0, "0"), (1.5, "1.5"), (3.14159, "3.142"), (12345.6, "12,346"), (1.5e-4, "1.50e-04"),
    (2.5e6, "2.50e+06"), (7, "7"), ("text", "text"), (-0.5, "-0.5")])
def test_number_formatting(value, shown):
    assert _fmt(value) == shown


def test_metrics_table():
    buffer = io.StringIO()
    Console(file=buffer, width=80).print(metrics_table("eval", {"loss": 1.23456, "n": 10}))
    out = buffer.getvalue()
    assert "eval" in out and "1.235" in out and "10" in out and "metric" in out


def test_eta_follows_the_binding_budget():
    """430 steps in 30 s of a 90 s budget: about a minute left, whatever the step budget."""
    buffer = io.StringIO()
    reporter = RichReporter(Console(file=buffer, width=160), ("loss",))
    reporter.start(5265, 0, "training lm", budget_seconds=90.0)
    reporter.step(430, {"loss": 1.5}, seconds=30.0)
    reporter.finish()
    assert "430/1290" in buffer.getvalue() and "0:01:00" in buffer.getvalue()
