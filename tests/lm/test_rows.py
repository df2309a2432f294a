"""Choosing the next token for a set of rows: each row by its own options, masked first."""

import torch

from seqcli.config import SampleConfig
from seqcli.data.tokenizers import CharTokenizer, train_tokenizer
from seqcli.device import place
from seqcli.lm.decoding import join_rows, run_prime, select_rows, step
from seqcli.lm.generate import generate_samples
from seqcli.lm.rows import Row, choose_tokens, filter_logits
from seqcli.models.language_model import LanguageModel
from tests.data.test_token_bytes import ZH


def row(vocab_size: int, seed: int = 0, **options) -> Row:
    """A row over a character vocabulary of `vocab_size` ids (ids 0, 1: pad, unknown)."""
    tok = CharTokenizer([chr(ord("a") + i) for i in range(vocab_size - 2)])
    return Row(tok, "", SampleConfig(**options), seed)


def test_greedy_is_argmax():
    logits = torch.tensor([[0.1, 0.2, 3.0, 0.5, 2.9]])
    assert choose_tokens(logits, [row(5, greedy=True)]) == [2]


def test_greedy_never_picks_pad_or_unknown():
    logits = torch.tensor([[9.0, 8.0, 1.0, 0.5]])
    assert choose_tokens(logits, [row(4, greedy=True)]) == [2]


def test_top_k_masks_all_but_k():
    logits = torch.tensor([[1.0, 4.0, 3.0, 2.0, 0.0]])
    kept = torch.isfinite(filter_logits(logits, top_k=2))
    assert kept.tolist() == [[False, True, True, False, False]]


def test_top_p_keeps_smallest_nucleus():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    logits = probs.log()
    assert torch.isfinite(filter_logits(logits, top_p=0.5)).tolist() == [[True, False, False, False]]
    assert torch.isfinite(filter_logits(logits, top_p=0.79)).tolist() == [[True, True, False, False]]
    assert torch.isfinite(filter_logits(logits, top_p=0.81)).tolist() == [[True, True, True, False]]
    assert torch.isfinite(filter_logits(logits, top_p=1.0)).all()


def test_sampling_respects_top_k():
    logits = torch.tensor([[0.0, 0.0, 5.0, 4.9, 1.0, 1.0]])
    sampled = row(6, top_k=2, temperature=5.0)
    seen = {choose_tokens(logits, [sampled])[0] for _ in range(200)}
    assert seen == {2, 3}


def test_top_k_and_top_p_may_differ_per_row():
    logits = torch.tensor([[1.0, 4.0, 3.0, 2.0, 0.0]] * 3)
    kept = torch.isfinite(filter_logits(logits, top_k=[1, None, 3], top_p=[None, 0.01, None]))
    assert kept.tolist() == [[False, True, False, False, False], [False, True, False, False, False],
                             [False, True, True, True, False]]


def test_each_row_chooses_by_its_own_options_whatever_it_is_batched_with():
    """A server batches requests with different settings: a row's tokens must not depend on
    the rows beside it (nor on whether they draw noise at all)."""
    logits = torch.randn(40, 3, 12, generator=torch.Generator().manual_seed(0))
    options = [dict(temperature=0.7, seed=1), dict(greedy=True), dict(top_k=3, top_p=0.8,
                                                                        temperature=2.0, seed=2)]
    alone = [[choose_tokens(step[k:k + 1], [r])[0] for step in logits]
             for k, r in enumerate(row(12, **o) for o in options)]
    together, rows = [], [row(12, **o) for o in options]
    for step in logits:
        together.append(choose_tokens(step, rows))
    assert [list(col) for col in zip(*together)] == alone
    assert len(set(alone[0])) > 3 and len(set(alone[2])) > 1  # really sampled


def test_exponential_race_samples_the_distribution():
    """argmax p / E with E ~ Exp(1) draws each token with its probability."""
    probs = torch.tensor([[0.0, 0.0, 0.5, 0.3, 0.2]])
    logits = torch.where(probs > 0, probs.log(), torch.tensor(-1e9))
    sampled = row(5, seed=3, temperature=1.0)
    counts = torch.bincount(torch.tensor([choose_tokens(logits, [sampled])[0]
                                          for _ in range(4000)]), minlength=5)
    assert counts[:2].sum() == 0
    assert torch.allclose(counts.float() / 4000, probs[0], atol=0.03)


def test_a_row_joining_a_running_batch_produces_what_it_produces_alone():
    """What a server batching requests continuously does: rows with their own prime, options
    and generator join a running batch and leave it, each giving its one-shot sample."""
    torch.manual_seed(0)
    tok = train_tokenizer("bpe", [ZH] * 4, vocab_size=320)
    model, fp32 = LanguageModel(tok.vocab_size, 8, 16, cell="lstm").eval(), place("cpu", "fp32")
    requests = [("记忆", SampleConfig(length=12, temperature=1.3, seed=1)),
                ("网络", SampleConfig(length=5, top_k=5, seed=2)),
                ("the", SampleConfig(length=8, greedy=True, stop=("e",)))]
    alone = [generate_samples(model, tok, p, c, fp32)[0].text for p, c in requests]
    joining = [(3 * i, prime, Row(tok, prime, c, c.seed)) for i, (prime, c) in enumerate(requests)]
    rows, logits, state = [], None, None
    with torch.no_grad():
        for t in range(30):
            for _, prime, row in [j for j in joining if j[0] == t]:  # prime it, append its state
                primed, primed_state = run_prime(model, tok, prime, fp32)
                logits = primed if logits is None else torch.cat([logits, primed])
                state = primed_state if state is None else join_rows([state, primed_state])
                rows.append(row)
            if not rows:
                continue
            for row, token in zip(rows, choose_tokens(logits, rows)):
                row.add(token)
            keep = [k for k, row in enumerate(rows) if not row.finished]  # the rest leave
            if not keep:
                rows, logits, state = [], None, None
                continue
            rows, state = [rows[k] for k in keep], select_rows(state, keep)
            logits, state = step(model, [row.tokens[-1] for row in rows], state, fp32)
    assert all(row.finished for *_, row in joining)
    assert [row.sample().text for *_, row in joining] == alone
