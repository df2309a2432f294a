"""NBSVM-style linear baseline (Wang & Manning 2012): n-gram indicators scaled by naive Bayes.

    pip install scikit-learn          # a benchmark-only dependency, not one of seqcli's
    SEQCLI_DATA=/path/to/corpora python benchmarks/nbsvm.py --corpus sst2
    python benchmarks/nbsvm.py --corpus reviews_zh.csv --analyzer char --test-fraction 0.2
    python benchmarks/nbsvm.py --corpus rt-polarity --folds 10

The model, as in Wang & Manning's NB-LR (their NBSVM with logistic regression in place of the
SVM, as most re-implementations do):

1. Features: binary indicators of n-grams, ``ngram=(1, 2)`` by default. ``analyzer="word"``
   reads tokens as seqcli's word tokenizer splits them (NFKC and lower case, words at
   whitespace and punctuation, every Chinese/Japanese/Thai character a word: the same
   pre-tokenizer object); ``analyzer="char"`` reads the characters of the NFKC, lower-cased
   text (whitespace runs as one space): character uni+bigrams for Chinese.
2. The naive-Bayes log-count ratio ``r = log((p / |p|_1) / (q / |q|_1))`` with
   ``p = alpha + sum of the positive class' feature vectors``, ``q`` likewise for the other
   class, ``alpha = 1``; every feature vector is multiplied by ``r`` elementwise.
3. Logistic regression (liblinear, L2) on the scaled features. C is tuned on a fixed grid
   (`C_GRID`) by a stratified, seeded tenth of the training texts (`seqcli.data.labelled.
   stratified_split`, seed 0), then the model is refit on all the training texts with the
   best C. With more than two classes each class gets its own r and model (one against the
   rest) and the highest decision wins.

As a module: ``fit_predict(train_texts, train_labels, test_texts, analyzer="word",
ngram=(1, 2))`` returns the predicted labels with the chosen C and the timings. As a script
it reads corpora exactly as ``seqcli train --task classify`` does (a registry name through
SEQCLI_DATA, or any labelled path: SST-2 tsv, MR pos/neg, CSV, JSONL) and prints one JSON
report: the corpus' own validation split is the test set when it has one (SST-2 dev);
otherwise ``--test FILE``, a stratified ``--test-fraction`` of the corpus, or ``--folds K``
cross-validation with the folds `benchmarks/mr_cv.py` uses (`stratified_folds`, seed 0).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _plan import machine

from seqcli.classify.splits import read_split, resolve_labelled
from seqcli.data.labelled import LabelledData, read_labelled, stratified_folds, stratified_split
from seqcli.data.spans import normalise
from seqcli.data.tokenizers import word_pre_tokenizer
from seqcli.locations import from_environment

ALPHA = 1.0
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
TUNE_FRACTION, SEED = 0.1, 0


def units(text: str, analyzer: str) -> list[str]:
    """The words (seqcli's word tokenizer) or characters of the NFKC, lower-cased text."""
    text = normalise(text, lowercase=True)
    if analyzer == "word":
        return [piece for piece, _ in _WORDS.pre_tokenize_str(text)]
    if analyzer == "char":
        return list(text)
    raise ValueError(f"analyzer must be 'word' or 'char', not {analyzer!r}")


_WORDS = word_pre_tokenizer()


def ngrams(text: str, analyzer: str = "word", ngram: tuple[int, int] = (1, 2)) -> list[str]:
    """The distinct n-grams (ngram[0] to ngram[1] units) of a text: binary features."""
    seq = units(text, analyzer)
    joiner = " " if analyzer == "word" else ""
    low, high = ngram
    found = {joiner.join(seq[i:i + n]) for n in range(low, high + 1)
             for i in range(len(seq) - n + 1)}
    return sorted(found)


def nb_ratio(X, positive):
    """r = log((p/|p|_1) / (q/|q|_1)) over the rows of X (binary) where `positive` is True."""
    import numpy as np

    positive = np.asarray(positive, dtype=bool)
    p = ALPHA + np.asarray(X[positive].sum(axis=0)).ravel()
    q = ALPHA + np.asarray(X[~positive].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


@dataclass
class Fitted:
    """One binary NB-LR per class (one in all for two classes)."""
    classes: list[str]
    ratios: list = field(default_factory=list)
    models: list = field(default_factory=list)

    def decisions(self, X):
        import numpy as np

        scores = np.column_stack([m.decision_function(X.multiply(r).tocsr())
                                  for r, m in zip(self.ratios, self.models)])
        if len(self.classes) == 2:  # one model: positive scores mean classes[1]
            scores = np.column_stack([-scores[:, 0], scores[:, 0]])
        return scores

    def predict(self, X) -> list[str]:
        return [self.classes[i] for i in self.decisions(X).argmax(axis=1)]


def fit(X, labels: Sequence[str], C: float) -> Fitted:
    from sklearn.linear_model import LogisticRegression

    classes = sorted(set(labels))
    fitted = Fitted(classes)
    for target in classes[1:] if len(classes) == 2 else classes:
        positive = [label == target for label in labels]
        r = nb_ratio(X, positive)
        model = LogisticRegression(C=C, solver="liblinear", max_iter=1000)
        model.fit(X.multiply(r).tocsr(), positive)
        fitted.ratios.append(r)
        fitted.models.append(model)
    return fitted


def tune_c(X, labels: Sequence[str]) -> tuple[float, dict[str, float]]:
    """The best C of C_GRID on a stratified tenth of the training texts (first best wins)."""
    train, held = stratified_split(labels, TUNE_FRACTION, SEED)
    scores = {}
    for C in C_GRID:
        predicted = fit(X[train], [labels[i] for i in train], C).predict(X[held])
        scores[f"{C:g}"] = sum(p == labels[i] for p, i in zip(predicted, held)) / len(held)
    best = max(C_GRID, key=lambda C: scores[f"{C:g}"])
    return best, scores


@dataclass
class Result:
    predictions: list[str]
    C: float
    tuning: dict[str, float]  # C -> accuracy on the tuning slice (empty when C was given)
    features: int
    fit_seconds: float  # features, tuning and the final fit
    predict_seconds: float


def fit_predict(train_texts: Sequence[str], train_labels: Sequence[str],
                test_texts: Sequence[str], analyzer: str = "word",
                ngram: tuple[int, int] = (1, 2), C: float | None = None) -> Result:
    """Train on the labelled texts, label the test texts (C tuned when not given)."""
    from sklearn.feature_extraction.text import CountVectorizer

    started = time.perf_counter()
    vectorizer = CountVectorizer(analyzer=lambda t: ngrams(t, analyzer, ngram), binary=True,
                                 dtype=float)
    X = vectorizer.fit_transform(train_texts).tocsr()
    labels = list(train_labels)
    tuning: dict[str, float] = {}
    if C is None:
        C, tuning = tune_c(X, labels)
    fitted = fit(X, labels, C)
    trained = time.perf_counter()
    predictions = fitted.predict(vectorizer.transform(test_texts).tocsr())
    done = time.perf_counter()
    return Result(predictions, C, tuning, X.shape[1], round(trained - started, 3),
                  round(done - trained, 3))


def accuracy(predicted: Sequence[str], gold: Sequence[str]) -> float:
    return sum(p == g for p, g in zip(predicted, gold)) / len(gold)


def scored(train: LabelledData, test: LabelledData, analyzer: str,
           ngram: tuple[int, int]) -> dict:
    """fit_predict on one split, as a JSON-ready record."""
    result = fit_predict(train.texts, train.labels, test.texts, analyzer, ngram)
    return {"accuracy": accuracy(result.predictions, test.labels), "train_texts": len(train),
            "test_texts": len(test), "C": result.C, "tuning": result.tuning,
            "features": result.features, "fit_seconds": result.fit_seconds,
            "predict_seconds": result.predict_seconds}


def read_corpus(corpus: str, text_column: str | None,
                label_column: str | None) -> tuple[LabelledData, LabelledData | None]:
    """(training texts, the corpus' own validation split or None), as seqcli reads them."""
    resolved = resolve_labelled(corpus, from_environment(os.environ), None)
    train = read_split(resolved, "train", text_column, label_column)
    if train is None:
        raise SystemExit(f"{corpus}: the corpus has no training split")
    return train, read_split(resolved, "validation", text_column, label_column)


def evaluate(options: argparse.Namespace) -> dict:
    """Score one split (or each fold) as the options say; the report's body."""
    train, own_test = read_corpus(options.corpus, options.text_column, options.label_column)
    ngram = options.ngram
    if options.folds:
        folds = stratified_folds(train.labels, options.folds, SEED)
        results = [scored(train.subset([i for j, f in enumerate(folds) if j != k for i in f]),
                          train.subset(fold), options.analyzer, ngram)
                   for k, fold in enumerate(folds)]
        values = [r["accuracy"] for r in results]
        return {"protocol": f"{options.folds}-fold CV (stratified_folds, seed {SEED})",
                "mean_accuracy": statistics.mean(values),
                "std_accuracy": statistics.stdev(values) if len(values) > 1 else 0.0,
                "folds": results}
    if options.test:
        test, protocol = read_labelled(Path(options.test), text_column=options.text_column,
                                       label_column=options.label_column), f"file {options.test}"
    elif own_test is not None:
        test, protocol = own_test, "the corpus' validation split"
    else:
        keep, held = stratified_split(train.labels, options.test_fraction, SEED)
        train, test = train.subset(keep), train.subset(held)
        protocol = f"stratified {options.test_fraction:g} of the corpus (seed {SEED})"
    return {"protocol": protocol, **scored(train, test, options.analyzer, ngram)}


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="a corpus name or a labelled path")
    parser.add_argument("--analyzer", choices=("word", "char"), default="word")
    parser.add_argument("--ngram", default="1,2", help="smallest,largest n (default 1,2)")
    parser.add_argument("--test", default=None, help="a labelled file to score on")
    parser.add_argument("--test-fraction", type=float, default=0.2,
                        help="held out of the corpus when it has no validation split")
    parser.add_argument("--folds", type=int, default=0, help="K-fold cross-validation instead")
    parser.add_argument("--text-column", default=None)
    parser.add_argument("--label-column", default=None)
    options = parser.parse_args(argv)
    low, _, high = options.ngram.partition(",")
    try:
        options.ngram = (int(low), int(high or low))
    except ValueError:
        parser.error(f"--ngram takes two whole numbers such as 1,2; got {options.ngram!r}")
    if not 1 <= options.ngram[0] <= options.ngram[1]:
        parser.error("--ngram needs 1 <= smallest <= largest")
    if options.folds == 1 or options.folds < 0 or not 0 < options.test_fraction < 1:
        parser.error("--folds must be 0 (off) or at least 2; --test-fraction in (0, 1)")
    return options


def need_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise SystemExit("nbsvm needs scikit-learn (a benchmark-only dependency): "
                         "pip install scikit-learn") from None


def main() -> None:
    options = parse_options()
    need_sklearn()
    report = {"benchmark": "nbsvm", "corpus": options.corpus, "analyzer": options.analyzer,
              "ngram": list(options.ngram), "alpha": ALPHA, **evaluate(options),
              "machine": machine()}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
