"""The memory experiment's settings: refused in one line before any training."""

import pytest

import seqcli
from seqcli.errors import UsageError


@pytest.mark.parametrize("settings,message", [
    (dict(cells=("rnn", "tanh")), "unknown cell 'tanh'"),
    (dict(cells=()), "at least one of"),
    (dict(cells=("gru", "gru")), "each cell once"),
    (dict(distances=(0, 5)), "--distances must be between"),
    (dict(steps=0), "--steps must be at least 1"),
    (dict(optimizer="rmsprop"), "--optimizer must be one of"),
    (dict(lr=float("nan")), "--lr must be a positive number"),
    (dict(hiden=5), "unknown memory experiment setting 'hiden'"),
])
def test_bad_settings_are_refused_before_any_training(settings, message):
    with pytest.raises(UsageError, match=message):
        seqcli.experiments.memory(**settings)
