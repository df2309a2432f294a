"""A held-out slice by whole text: nothing of a held-out sentence is trained on."""

from collections import Counter

from seqcli.data.labelled import stratified_split
from seqcli.data.text_split import text_split

POSITIVE = ["a gripping and moving film", "the cast is wonderful", "warm funny and wise",
            "a lovely little story", "the film is a joy", "smart and tender",
            "a moving story", "funny and warm"]
NEGATIVE = ["a dull and tedious film", "the plot is a mess", "flat lifeless and long",
            "the film is a chore"]


def _spans(sentence: str) -> list[str]:
    words = sentence.split()
    return [" ".join(words[a:b]) for a in range(len(words))
            for b in range(a + 1, len(words) + 1) if b - a < len(words)]


def _inside(phrase: str, sentence: str) -> bool:
    return f" {phrase} " in f" {sentence} " and phrase != sentence


def phrase_corpus(*classes: tuple[str, list[str]]) -> tuple[list[str], list[str]]:
    """Like SST-2's train.tsv: every sentence, then each of its sub-phrases not yet a row."""
    texts, labels, seen = [], [], set()
    for label, sentences in classes:
        for sentence in sentences:
            for text in [sentence, *_spans(sentence)]:
                if text not in seen:
                    seen.add(text)
                    texts.append(text)
                    labels.append(label)
    return texts, labels


def _split(texts, labels, fraction=0.25, seed=3, **given):
    return text_split(texts, labels, fraction, seed, lowercase=True, **given)


def test_a_held_out_sentence_and_its_phrases_are_kept_out_of_training():
    texts, labels = phrase_corpus(("pos", POSITIVE), ("neg", NEGATIVE))
    split = _split(texts, labels)
    held = [texts[i] for i in split.val]
    assert set(held) <= set(POSITIVE + NEGATIVE)  # whole sentences only, no phrase
    trained = [texts[i] for i in split.train]
    assert not [t for t in trained for s in held if t == s or _inside(t, s)]
    # every other row is trained on: a sentence that is not held out keeps all its phrases
    # except those it shares with a held-out one
    expected = [t for t in texts if t not in held and not any(_inside(t, s) for s in held)]
    assert trained == expected
    assert split.dropped == len(texts) - len(trained) - len(held) > 0
    assert split.roots == len(POSITIVE + NEGATIVE) and split.held_out == len(held)


def test_a_phrase_shared_with_a_held_out_sentence_is_not_trained_on():
    pos = ["the film is a joy", "the film is warm"]
    neg = ["the film is a chore", "the film is flat"]
    texts, labels = phrase_corpus(("pos", pos), ("neg", neg))
    split = _split(texts, labels, fraction=0.5)
    trained = {texts[i] for i in split.train}
    assert len(split.val) == 2 and len(trained & set(pos)) == len(trained & set(neg)) == 1
    # inside every sentence, so inside a held-out one, though trained sentences hold it too
    assert "the film is" not in trained and "the film" not in trained and "is" not in trained


def test_the_held_out_roots_are_stratified_by_label():
    texts, labels = phrase_corpus(("pos", POSITIVE), ("neg", NEGATIVE))
    split = _split(texts, labels, fraction=0.25)
    assert Counter(labels[i] for i in split.val) == {"pos": 2, "neg": 1}
    assert split.held_out == 3 and split.roots == 12


def test_the_split_is_seeded():
    texts, labels = phrase_corpus(("pos", POSITIVE), ("neg", NEGATIVE))
    assert _split(texts, labels, seed=5) == _split(texts, labels, seed=5)
    assert len({tuple(_split(texts, labels, seed=s).val) for s in range(6)}) > 1


def test_without_phrases_or_duplicates_it_is_the_row_split():
    texts = POSITIVE + NEGATIVE
    labels = ["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE)
    split = _split(texts, labels, fraction=0.3, seed=11)
    assert (split.train, split.val) == stratified_split(labels, 0.3, 11)
    assert split.dropped == 0


def test_exact_duplicates_fall_on_one_side():
    texts = ["Great film", "great  film", "dull plot", "warm story", "bad acting", "dull plot"]
    labels = ["pos", "pos", "neg", "pos", "neg", "neg"]
    for seed in range(4):
        split = _split(texts, labels, fraction=0.5, seed=seed)
        for rows in ({0, 1}, {2, 5}):
            assert rows <= set(split.val) or rows <= set(split.train)
        assert split.dropped == 0 and split.roots == 4


def test_the_cost_guard_groups_duplicates_only():
    texts, labels = phrase_corpus(("pos", POSITIVE), ("neg", NEGATIVE))
    texts, labels = texts + ["smart and tender"], labels + ["pos"]
    split = _split(texts, labels, max_work=10)
    assert not split.checked and split.dropped == 0
    assert split.roots == len(texts) - 1  # every distinct text is a root
    assert sorted(split.train + split.val) == list(range(len(texts)))
    duplicate = [texts.index("smart and tender"), len(texts) - 1]
    assert set(duplicate) <= set(split.val) or set(duplicate) <= set(split.train)
