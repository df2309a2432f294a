"""The memory experiment end to end: what it finds, and the JSON it documents."""

import seqcli
from seqcli.experiments.memory_settings import DEFAULT_LR

TINY = dict(distances=(2, 4), hidden=8, steps=20, eval_size=64, gradient_size=16)


def test_gated_cells_learn_what_the_plain_rnn_cannot_reach():
    result = seqcli.experiments.memory(cells=("rnn", "lstm"), distances=(3, 40), hidden=16,
                                       steps=150, eval_size=400, gradient_size=16)
    accuracy = result.accuracy()
    assert accuracy["lstm"][3] > 0.95 and accuracy["lstm"][40] > 0.95
    assert accuracy["rnn"][3] > 0.95 and accuracy["rnn"][40] < 0.65


def test_the_documented_json_and_a_reproducible_result():
    trials = []
    result = seqcli.experiments.memory(on_trial=trials.append, **TINY)
    document = result.to_dict()
    assert set(document) >= {"config", "accuracy", "gradient_norms"}
    assert document["config"]["cells"] == ["rnn", "lstm", "gru"]
    assert document["config"]["lr"] == DEFAULT_LR["sgd"]
    assert document["config"]["gradient_distance"] == 4
    for cell in ("rnn", "lstm", "gru"):
        assert set(document["accuracy"][cell]) == {"2", "4"}
        assert all(0.0 <= a <= 1.0 for a in document["accuracy"][cell].values())
        assert len(document["gradient_norms"][cell]) == 4 + 2
    assert [(t.cell, t.distance) for t in trials] == [
        (c, d) for c in ("rnn", "lstm", "gru") for d in (2, 4)]
    again = seqcli.experiments.memory(**TINY).to_dict()
    assert again["accuracy"] == document["accuracy"]
    assert again["gradient_norms"] == document["gradient_norms"]
