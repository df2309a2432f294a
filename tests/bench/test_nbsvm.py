"""benchmarks/nbsvm.py: its features on tiny texts, its fit, and the script on a tiny file."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_chinese_reviews

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # the scripts import their siblings (_plan) by name
import nbsvm  # noqa: E402


def test_word_ngrams_split_as_seqclis_word_tokenizer_lower_cased():
    assert nbsvm.units("It's a GOOD film, good!", "word") == \
        ["it", "'", "s", "a", "good", "film", ",", "good", "!"]
    grams = nbsvm.ngrams("a GOOD film, good", "word", (1, 2))
    assert grams == sorted({"a", "good", "film", ",", "a good", "good film", "film ,",
                            ", good"})  # distinct: "good" once (binary features)
    assert nbsvm.ngrams("我爱Python", "word") == sorted(
        {"我", "爱", "python", "我 爱", "爱 python"})


def test_char_ngrams_are_character_uni_and_bigrams():
    assert nbsvm.ngrams("很好吃", "char") == sorted({"很", "好", "吃", "很好", "好吃"})
    assert nbsvm.ngrams("ＡＢ  c", "char", (2, 2)) == sorted({"ab", "b ", " c"})  # NFKC, one space
    assert nbsvm.ngrams("好", "char", (2, 3)) == []
    with pytest.raises(ValueError, match="analyzer"):
        nbsvm.units("x", "byte")


def test_nb_ratio_is_the_smoothed_log_count_ratio():
    sparse = pytest.importorskip("scipy.sparse")
    X = sparse.csr_matrix([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    r = nbsvm.nb_ratio(X, [True, False, True])
    # p = 1 + [1, 0, 2] = [2, 1, 3] (sum 6); q = 1 + [1, 1, 0] = [2, 2, 1] (sum 5)
    expected = [math.log((2 / 6) / (2 / 5)), math.log((1 / 6) / (2 / 5)),
                math.log((3 / 6) / (1 / 5))]
    assert list(r) == pytest.approx(expected)


def test_fit_predict_learns_tiny_chinese_reviews_and_reports_its_choices():
    pytest.importorskip("sklearn")
    texts = ["很好吃", "好吃推荐", "味道好", "很满意", "太难吃", "难吃差评", "味道差", "很失望"] * 3
    labels = ["1"] * 4 + ["0"] * 4
    result = nbsvm.fit_predict(texts, labels * 3, ["真好吃", "真难吃"], analyzer="char")
    assert result.predictions == ["1", "0"]
    assert result.C in nbsvm.C_GRID and set(result.tuning) == {f"{c:g}" for c in nbsvm.C_GRID}
    distinct = {g for t in texts for g in nbsvm.ngrams(t, "char")}
    assert result.features == len(distinct)
    fixed = nbsvm.fit_predict(texts, labels * 3, ["真好吃"], analyzer="char", C=1.0)
    assert fixed.C == 1.0 and fixed.tuning == {}


def test_more_than_two_classes_one_model_each():
    pytest.importorskip("sklearn")
    texts = ["red apple", "red cherry", "green leaf", "green grass", "blue sky", "blue sea"] * 4
    labels = ["red", "red", "green", "green", "blue", "blue"] * 4
    result = nbsvm.fit_predict(texts, labels, ["red red", "blue water", "green tea"], C=1.0)
    assert result.predictions == ["red", "blue", "green"]


def test_script_reads_a_labelled_file_as_seqcli_does(tmp_path):
    pytest.importorskip("sklearn")
    corpus = write_chinese_reviews(tmp_path / "reviews.csv")
    done = subprocess.run([sys.executable, str(BENCHMARKS / "nbsvm.py"), "--corpus",
                           str(corpus), "--analyzer", "char"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["protocol"] == "stratified 0.2 of the corpus (seed 0)"
    assert (report["train_texts"], report["test_texts"]) == (32, 8)
    assert 0 <= report["accuracy"] <= 1 and report["ngram"] == [1, 2]
    assert report["machine"]["cores"] >= 1
    assert {"cpu", "lscpu_model", "flags"} <= set(report["machine"])
    folds = subprocess.run([sys.executable, str(BENCHMARKS / "nbsvm.py"), "--corpus",
                            str(corpus), "--analyzer", "char", "--folds", "4"],
                           capture_output=True, text=True, timeout=120)
    assert folds.returncode == 0, folds.stderr
    assert [f["test_texts"] for f in json.loads(folds.stdout)["folds"]] == [10] * 4
