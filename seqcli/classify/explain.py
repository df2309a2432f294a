"""Why a classifier chose its label: Integrated Gradients (captum) on the token embeddings.

The path runs from the padding embedding (zero: padding's word vector and its empty n-gram
bag) to the text's embeddings (word + subword vectors when subwords are on), and each token's
score is its attribution summed over the embedding. Scores add up to the change of the class
score between the padding and the text, up to `delta` (captum's convergence delta): a large
one says more `steps` are needed.

A wide side (seqcli/classify/wide.py) is linear in its n-gram indicators and the baseline has
none, so it needs no path: each n-gram's weight for the class is its exact share, split among
the tokens it covers, and added to the gradient scores of the recurrent side.

Gradients through a recurrent layer need the module in training mode on cuDNN, so the model
runs in training mode with every dropout at 0: the same function as in evaluation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from captum.attr import IntegratedGradients

from seqcli.classify.encoding import encode_for_model, token_strings
from seqcli.classify.wide import token_scores
from seqcli.data.offsets import original_spans
from seqcli.errors import UsageError
from seqcli.models.dropouts import dropouts_off
from seqcli.runs import LoadedRun

MAX_STEPS = 1000


@dataclass
class Explanation:
    text: str
    label: str  # predicted
    probability: float  # of the predicted label
    target: str  # the label the scores explain (the predicted one unless asked otherwise)
    tokens: list[dict]  # {"token", "start", "end", "score"}
    delta: float  # |sum of scores - change in the target's score|

    def to_dict(self) -> dict:
        return dict(vars(self))


def explain(run: LoadedRun, texts: list[str], *, label: str | None = None,
            steps: int = 50) -> list[Explanation]:
    """One Explanation per text, toward `label` (default: each text's predicted label)."""
    if label is not None and label not in run.labels:
        raise UsageError(f"--label {label!r} is not one of the run's labels "
                         f"({', '.join(run.labels)})")
    if not 1 <= steps <= MAX_STEPS:
        raise UsageError(f"--steps must be from 1 to {MAX_STEPS}; got {steps}")
    if not texts or any(not t.strip() for t in texts):
        raise UsageError("explain needs some text (one is empty)")
    with _without_dropout(run.model):
        return [_explain_one(run, text, label, steps) for text in texts]


def _explain_one(run: LoadedRun, text: str, label: str | None, steps: int) -> Explanation:
    device, model = run.placement.device, run.model
    data, _ = encode_for_model(run.tokenizer, [text], None, run.config)
    x, lengths, _, ngrams, wide = data.batch([0])
    x = x.to(device)
    ngrams, wide = (None if t is None else t.to(device) for t in (ngrams, wide))
    with torch.no_grad():
        embedded = model.embed(x, ngrams).float()
        probs = model.classify_embedded(embedded, lengths, wide).softmax(-1)[0]
    predicted = int(probs.argmax())
    target = predicted if label is None else run.labels.index(label)
    ig = IntegratedGradients(lambda e, n: model.classify_embedded(e, n))  # the deep side
    scores, delta = ig.attribute(embedded, baselines=torch.zeros_like(embedded), target=target,
                                 additional_forward_args=(lengths,), n_steps=steps,
                                 return_convergence_delta=True)
    per_token = scores.sum(-1)[0].tolist()
    if wide is not None:
        per_token = [a + b for a, b in zip(per_token, _wide_scores(run, text, target,
                                                                   len(per_token)))]
    return Explanation(text, run.labels[predicted], float(probs[predicted]), run.labels[target],
                       _tokens(run, text, per_token), abs(float(delta)))


def _wide_scores(run: LoadedRun, text: str, target: int, length: int) -> list[float]:
    """The wide side's logit for `target`, split exactly over the text's tokens (its
    baseline, no n-gram at all, scores 0)."""
    _, words = token_strings(run.tokenizer, [text], run.config)
    scores = token_scores(words[0][:run.config.data.max_length], run.model.wide.weight[:, target])
    return scores + [0.0] * (length - len(scores))


def _tokens(run: LoadedRun, text: str, scores: list[float]) -> list[dict]:
    """The scored tokens with their place in `text` as written (the model may have read it
    lower-cased, which can change its length: seqcli/data/offsets.py maps it back)."""
    spans = original_spans(run.tokenizer, text, run.config.data.lowercase)[:len(scores)]
    spans = spans or [(0, len(text))]
    return [{"token": text[start:end], "start": start, "end": end, "score": score}
            for (start, end), score in zip(spans, scores)]


@contextlib.contextmanager
def _without_dropout(model: torch.nn.Module) -> Iterator[None]:
    """Training mode (for cuDNN's backward) with every dropout off; restored after."""
    was_training = model.training
    try:
        with dropouts_off(model):
            model.train()
            yield
    finally:
        model.train(was_training)
