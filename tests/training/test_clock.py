"""seqcli/training/clock.py: the run's clock, the room kept for its end, the budget's share used.

The trainer under a real budget is in tests/training/test_trainer.py."""

import time

import pytest

from seqcli.training.clock import MARGIN, EndCosts, RunClock, time_fraction


def test_the_clock_adds_earlier_invocations_and_leaves_out_paused_time():
    clock = RunClock(started=time.perf_counter() - 2.0, before=60.0)
    with clock.paused():
        time.sleep(0.2)
    assert 62.0 <= clock.read() < 62.15
    assert clock.read() - clock.this_invocation() == pytest.approx(60.0, abs=0.01)


def test_the_reserve_is_the_carried_one_until_an_evaluation_is_measured():
    costs = EndCosts(final_share=10.0, step=0.1, carried=4.0)
    assert costs.reserve() == pytest.approx(MARGIN * 0.1 + 4.0)
    costs.evaluation, costs.scoring, costs.curves = 0.5, 0.2, 0.3
    # the next step, one more evaluation, the curves and ten evaluations' worth of scoring
    assert costs.reserve() == pytest.approx(MARGIN * (0.1 + 0.5 + 0.3 + 2.0))


@pytest.mark.parametrize("seconds,reserve,budget,share", [
    (30.0, 0.0, 60.0, 0.5), (30.0, 20.0, 60.0, 0.75), (50.0, 20.0, 60.0, 1.0),
    (5.0, 70.0, 60.0, 1.0), (30.0, 5.0, None, 0.0), (30.0, 5.0, 0.0, 0.0)])
def test_the_share_of_the_budget_counts_the_reserve_as_spent(seconds, reserve, budget, share):
    assert time_fraction(seconds, reserve, budget) == pytest.approx(share)
