import pytest
import torch

from seqcli.training.averaging import WeightAverage


def test_average_follows_its_formula_and_swaps_weights_in_and_out():
    model = torch.nn.Linear(2, 1)
    start = model.weight.detach().clone()
    average = WeightAverage(model, decay=0.5)
    expected = start.clone()
    for t, value in enumerate([1.0, 2.0, 3.0], start=1):
        with torch.no_grad():
            model.weight.fill_(value)
        average.update()
        decay = min(0.5, (1 + t) / (10 + t))
        expected = decay * expected + (1 - decay) * value
    assert torch.allclose(average.shadow[0], expected)
    with average.applied():
        assert torch.allclose(model.weight, expected)
    assert torch.equal(model.weight, torch.full_like(start, 3.0))


def test_average_state_round_trips():
    model = torch.nn.Linear(3, 2)
    first = WeightAverage(model, decay=0.9)
    first.update()
    second = WeightAverage(torch.nn.Linear(3, 2), decay=0.9)
    second.load_state_dict(first.state_dict())
    assert second.updates == 1
    assert all(torch.equal(a, b) for a, b in zip(first.shadow, second.shadow))


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.1])
def test_decay_outside_the_open_interval_is_refused(decay):
    with pytest.raises(ValueError):
        WeightAverage(torch.nn.Linear(1, 1), decay)
