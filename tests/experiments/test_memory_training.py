"""Training and scoring one cell at one distance: reproducible, learning, held out."""

import torch

from seqcli.experiments.agreement import AgreementTask
from seqcli.experiments.memory_settings import MemoryConfig, with_settings
from seqcli.experiments.memory_training import accuracy, held_out, train_model

CPU = torch.device("cpu")


def test_training_is_reproducible_and_learns_a_short_distance():
    config = with_settings(MemoryConfig(), dict(hidden=8, steps=60, eval_size=200))
    first, again = (train_model("lstm", 2, config, CPU) for _ in range(2))
    for a, b in zip(first.parameters(), again.parameters()):
        assert torch.equal(a, b)
    assert accuracy(first, 2, config, CPU) > 0.9
    untrained = with_settings(config, dict(steps=1))
    assert accuracy(train_model("lstm", 2, untrained, CPU), 2, untrained, CPU) < 0.8


def test_chrono_initialisation_only_when_asked():
    chrono = MemoryConfig(steps=0, lr=0.5, hidden=8)
    default = MemoryConfig(steps=0, lr=0.5, hidden=8, init="default")
    length = AgreementTask(9).length
    forget = slice(8, 16)  # LSTM gates (i, f, g, o) of 8 units
    kept = train_model("lstm", 9, chrono, CPU).recurrent.rnn.bias_ih_l0.detach()[forget]
    plain = train_model("lstm", 9, default, CPU).recurrent.rnn.bias_ih_l0.detach()[forget]
    assert kept.min() >= 0 and kept.max() <= torch.log(torch.tensor(length - 1.0))
    assert not torch.equal(kept, plain)


def test_the_held_out_sequences_are_not_the_training_batches():
    config = MemoryConfig()
    task = AgreementTask(5)
    scored, _ = task.batch(64, held_out(config))
    trained, _ = task.batch(64, torch.Generator().manual_seed(config.seed + 1))
    assert not torch.equal(scored, trained)
    assert torch.equal(scored, task.batch(64, held_out(config))[0])  # the same every time
