"""Shared fixtures: tiny corpora written here, and the real mirror when SEQCLI_DATA has it."""

import os
from pathlib import Path

import pytest
import torch

# Test models are tiny: one thread is as fast, and on a busy 2-core machine extra OpenMP
# threads only spin. Subprocess tests (the real CLI) keep torch's default.
torch.set_num_threads(1)

# A few sentences of our own, repeated with small changes so a model can learn something.
_LINES = [
    "the time traveller looked at the small machine on the table.",
    "we sat in the smoking room and listened to his strange story.",
    "the psychologist smiled, but the medical man did not say a word.",
    "in the morning the laboratory was quiet and the machine was gone.",
    "he spoke of the future, of the eloi and of the dark morlocks below.",
]


def tiny_text(repeats: int = 12) -> str:
    lines = []
    for r in range(repeats):
        for i, line in enumerate(_LINES):
            lines.append(line if (r + i) % 3 else line.capitalize())
    return "\n".join(lines) + "\n"


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.txt"
    path.write_text(tiny_text(), encoding="utf-8")
    return path


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "runs"
    monkeypatch.setenv("SEQCLI_RUNS", str(path))
    monkeypatch.setenv("SEQCLI_CACHE", str(tmp_path / "cache"))
    return path


@pytest.fixture
def real_corpora() -> Path:
    """The shared corpus mirror, through the same variable a user would set."""
    value = os.environ.get("SEQCLI_DATA")
    if not value or not (Path(value) / "timemachine.txt").is_file():
        pytest.skip("SEQCLI_DATA does not point at a corpus mirror")
    return Path(value)


_REVIEWS = [("a wonderful film, moving and warm", "positive"),
            ("an awful mess, dull and long", "negative"),
            ("a great cast and a lovely story", "positive"),
            ("a boring plot and terrible acting", "negative")]


def write_reviews(path: Path, repeats: int = 12) -> Path:
    """A tiny labelled CSV of our own (two classes, easy to learn)."""
    lines = ["text,label"] + [f'"{text}",{label}' for text, label in _REVIEWS * repeats]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def reviews_csv(tmp_path: Path) -> Path:
    return write_reviews(tmp_path / "reviews.csv")


# Forty short Chinese food-delivery reviews of our own, labelled as waimai_10k is (1 positive,
# 0 negative), with the "label,review" header that file has.
_ZH_POSITIVE = ["很好吃，送得也快", "味道不错，分量很足", "服务态度好，下次还点", "菜很新鲜，包装也好",
                "送餐很准时，非常满意", "好吃不贵，推荐", "米饭香，汤也热乎", "骑手很有礼貌，赞",
                "口味正宗，很喜欢", "量大实惠，味道好", "非常好吃，孩子也喜欢", "饭菜干净，吃得放心",
                "速度快，还是热的", "很满意的一次外卖", "菜品丰富，价格合理", "味道很棒，会再来",
                "包装精美，食物可口", "老板人好，送了饮料", "鸡肉很嫩，很入味", "整体不错，五星好评"]
_ZH_NEGATIVE = ["太难吃了，再也不点", "送了两个小时，菜都凉了", "味道很差，量也少", "米饭是硬的，不好吃",
                "服务态度差，很生气", "菜里有头发，恶心", "等了很久，还送错了", "太咸了，没法吃",
                "价格贵，味道一般般", "包装破了，汤洒了一地", "肉不新鲜，有怪味", "骑手态度恶劣",
                "分量太少，吃不饱", "很失望，不会再买", "又油又腻，难以下咽", "催了好几次才送到",
                "饭菜是冷的，差评", "东西少了一样，也不退款", "口味变差了，不推荐", "难吃，浪费钱"]


def write_chinese_reviews(path: Path) -> Path:
    """The forty reviews as a "label,review" CSV, the classes interleaved."""
    rows = [f"{label},{text}" for pair in zip(_ZH_POSITIVE, _ZH_NEGATIVE)
            for label, text in zip("10", pair)]
    path.write_text("label,review\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def chinese_reviews_csv(tmp_path: Path) -> Path:
    return write_chinese_reviews(tmp_path / "reviews_zh.csv")


@pytest.fixture
def waimai_csv() -> Path:
    """The shared waimai_10k reviews, through SEQCLI_DATA; skipped when absent."""
    value = os.environ.get("SEQCLI_DATA")
    path = Path(value or ".") / "waimai_10k" / "waimai_10k.csv"
    if not value or not path.is_file():
        pytest.skip("SEQCLI_DATA holds no waimai_10k/waimai_10k.csv")
    return path
