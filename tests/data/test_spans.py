"""Which training texts lie inside which: roots, spans by whole tokens, the cost guard."""

from seqcli.data.spans import index_texts, normalise, spans_inside

PHRASES = ["a very good film", "very good", "good", "film", "a bad plot", "bad", "good film"]


def _keys(index, ids):
    return sorted(index.keys[i] for i in ids)


def test_roots_are_the_texts_inside_no_longer_one():
    index = index_texts(PHRASES, lowercase=True)
    assert index.checked and _keys(index, index.roots) == ["a bad plot", "a very good film"]
    assert index.roots == [0, 4]  # in order of first appearance


def test_spans_are_runs_of_whole_tokens():
    index = index_texts(["good film", "goo", "film good", "good", "ood film"], lowercase=False)
    # "goo" and "ood film" are pieces of tokens, "film good" is no run of "good film"
    assert _keys(index, index.roots) == ["film good", "goo", "good film", "ood film"]
    assert _keys(index, spans_inside(index, [0])) == ["good"]


def test_spans_inside_lists_every_level_below_a_text():
    index = index_texts(PHRASES, lowercase=True)
    assert _keys(index, spans_inside(index, [0])) == ["film", "good", "good film", "very good"]
    assert _keys(index, spans_inside(index, [4])) == ["bad"]
    assert spans_inside(index, [2]) == set()  # a single token holds no shorter text


def test_duplicates_case_and_spacing_are_one_text_after_the_runs_lowercasing():
    texts = ["A Very  good film", "a very good film", "Very good", "very good"]
    lowered = index_texts(texts, lowercase=True)
    assert lowered.keys == ["a very good film", "very good"]
    assert lowered.rows == [[0, 1], [2, 3]] and lowered.roots == [0]
    kept = index_texts(texts, lowercase=False)
    assert kept.keys == ["A Very good film", "a very good film", "Very good", "very good"]
    assert kept.roots == [0, 1]  # each case of "very good" lies inside its own sentence
    assert normalise("\tFULL\u00a0width ", lowercase=True) == "full width"


def test_the_cost_guard_skips_containment_but_still_groups_duplicates():
    texts = PHRASES + ["very good", "film"]
    index = index_texts(texts, lowercase=True, max_work=10)
    assert not index.checked
    assert index.roots == list(range(len(PHRASES)))  # every distinct text is a root
    assert index.rows[1] == [1, 7] and index.rows[3] == [3, 8]
    assert spans_inside(index, index.roots) == set()
    # under the limit (sum of L^2/2 over distinct texts: 8+2+.5+.5+4.5+.5+2 = 18) it searches
    assert index_texts(texts, lowercase=True, max_work=18).checked
    assert not index_texts(texts, lowercase=True, max_work=17).checked
