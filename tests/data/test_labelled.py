"""Labelled-data readers: every layout, header detection, malformed rows, cp1252, splits."""

import io
import json
from collections import Counter
from pathlib import Path

import pytest

from seqcli.classify.splits import read_split
from seqcli.data.inputs import iter_inputs
from seqcli.data.labelled import read_labelled, stratified_folds, stratified_split
from seqcli.data.registry import ResolvedCorpus, resolve_corpus
from seqcli.data.registry_file import Corpus, CorpusFile, CorpusSource
from seqcli.errors import DataError


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_with_header_and_quoted_commas(tmp_path):
    path = write(tmp_path / "d.csv", 'text,label\n"good, really good",pos\nbad,neg\n')
    data = read_labelled(path)
    assert data.texts == ["good, really good", "bad"]
    assert data.labels == ["pos", "neg"]


def test_tsv_keeps_bare_quotes_and_strips_trailing_space(tmp_path):
    path = write(tmp_path / "d.tsv", 'sentence\tlabel\na "quoted" film \t1\nmeh \t0\n')
    data = read_labelled(path)
    assert data.texts == ['a "quoted" film', "meh"]
    assert data.labels == ["1", "0"]


def test_headerless_two_columns_finds_the_label_column(tmp_path):
    rows = "".join(f"{lab}\tsome text number {i}\n" for i, lab in enumerate("ppnnpn"))
    data = read_labelled(write(tmp_path / "d.tsv", rows))
    assert data.labels == list("ppnnpn")
    assert data.texts[0] == "some text number 0"


def test_unusual_header_names_are_detected(tmp_path):
    path = write(tmp_path / "d.csv", "words,stars\nfine,5\nawful,1\nok,5\n")
    data = read_labelled(path)
    assert data.texts == ["fine", "awful", "ok"] and data.labels == ["5", "1", "5"]


@pytest.mark.parametrize("header, swap", [("review,rating", False), ("score,tweet", True),
                                          ("sentiment,blurb", True)])
def test_a_header_naming_one_known_column_is_a_header(tmp_path, header, swap):
    rows = [("good film", "x"), ("bad film", "y"), ("fine film", "x")]
    body = "".join(f"{b},{a}\n" if swap else f"{a},{b}\n" for a, b in rows)
    data = read_labelled(write(tmp_path / "d.csv", f"{header}\n{body}"))
    assert data.texts == [a for a, _ in rows] and data.labels == [b for _, b in rows]


def test_unterminated_quote_is_reported_at_its_row(tmp_path):
    path = write(tmp_path / "d.csv", 'text,label\ngood,pos\n"never closed,neg\nbad,neg\n')
    with pytest.raises(DataError, match=r"d\.csv:3: malformed row \(a quote opened here"):
        read_labelled(path)
    with pytest.raises(DataError, match=r"d\.csv:3: malformed row \(a quote opened here"):
        list(iter_inputs([str(path)]))


def test_declared_columns_among_many(tmp_path):
    path = write(tmp_path / "d.csv", "id,body_text,score,extra\n1,nice,up,x\n2,poor,down,y\n")
    data = read_labelled(path, text_column="body_text", label_column="score")
    assert data.texts == ["nice", "poor"] and data.labels == ["up", "down"]
    with pytest.raises(DataError, match="no text column 'missing'"):
        read_labelled(path, text_column="missing", label_column="score")
    with pytest.raises(DataError, match="--text-column"):
        read_labelled(path)


def test_declared_index_columns_without_header(tmp_path):
    path = write(tmp_path / "d.csv", "a,x,nice\nb,y,poor\n")
    data = read_labelled(path, text_column="2", label_column="0")
    assert data.texts == ["nice", "poor"] and data.labels == ["a", "b"]


@pytest.mark.parametrize("body, message", [
    ("text,label\ngood,pos\nbad\n", r"d\.csv:3: ragged row"),
    ("text,label\ngood,pos\nbad,neg,extra\n", r"d\.csv:3: ragged row"),
    ("text,label\ngood,pos\n\nbad,\n", r"d\.csv:4: missing label"),
    ("text,label\ngood,pos\n  ,neg\n", r"d\.csv:3: empty text"),
    ("text,label\ngood,pos\nfine,pos\n", "at least two classes"),
    ("text,label\n", "has no labelled examples"),
])
def test_malformed_tables_name_file_and_line(tmp_path, body, message):
    with pytest.raises(DataError, match=message):
        read_labelled(write(tmp_path / "d.csv", body))


def test_jsonl_any_label_type(tmp_path):
    lines = [{"text": "yes", "label": 1}, {"text": "no", "label": 0}, {"text": "hm", "label": True}]
    data = read_labelled(write(tmp_path / "d.jsonl", "\n".join(map(json.dumps, lines)) + "\n"))
    assert data.texts == ["yes", "no", "hm"] and data.labels == ["1", "0", "true"]


@pytest.mark.parametrize("body, message", [
    ('{"text": "a", "label": "x"}\n{oops\n', r"d\.jsonl:2: invalid JSON"),
    ('{"text": "a", "label": "x"}\n{"text": "b"}\n', r"d\.jsonl:2: missing label"),
    ('{"text": "a", "label": "x"}\n{"text": 3, "label": "y"}\n', r"d\.jsonl:2: field 'text'"),
    ('{"words": "a", "label": "x"}\n', r"d\.jsonl:1: no text field"),
    ('[1, 2]\n', r"d\.jsonl:1: expected a JSON object"),
])
def test_malformed_jsonl(tmp_path, body, message):
    with pytest.raises(DataError, match=message):
        read_labelled(write(tmp_path / "d.jsonl", body))


def test_folder_per_label_imdb_layout(tmp_path):
    tmp_path = tmp_path / "train"
    for label, texts in {"pos": ["great", "lovely"], "neg": ["dull"], "unsup": ["??"]}.items():
        (tmp_path / label).mkdir(parents=True)
        for i, text in enumerate(texts):
            write(tmp_path / label / f"{i}_7.txt", text + "\n")
    write(tmp_path / "urls_pos.txt", "http://x\n")
    data = read_labelled(tmp_path)
    assert Counter(data.labels) == {"pos": 2, "neg": 1}
    assert sorted(data.texts) == ["dull", "great", "lovely"]
    with pytest.raises(DataError, match="pass one of them"):  # aclImdb/ rather than aclImdb/train
        read_labelled(tmp_path.parent)


CP1252 = "it\x92s a \x93gem\x94 \x97 truly\x85 caf\xe9\n"


def test_paired_files_in_cp1252_are_decoded_as_cp1252(tmp_path):
    write(tmp_path / "polarity.pos", "", "cp1252")
    (tmp_path / "polarity.pos").write_bytes(CP1252.encode("latin-1"))
    (tmp_path / "polarity.neg").write_bytes(b"dreadful \x96 really\n\nbad\n")
    write(tmp_path / "README.txt", "about the data\n")
    data = read_labelled(tmp_path)
    assert Counter(data.labels) == {"pos": 1, "neg": 2}
    text = data.texts[data.labels.index("pos")]
    assert text == "it\u2019s a \u201cgem\u201d \u2014 truly\u2026 caf\u00e9"
    assert not any("\x80" <= ch <= "\x9f" for t in data.texts for ch in t)  # no C1 controls


def test_registry_corpora_map_labels_and_read_paired(tmp_path):
    tsv = write(tmp_path / "train.tsv", "sentence\tlabel\ngood \t1\nbad \t0\n")
    corpus = Corpus("tiny", "classify", "tsv", "utf-8", "d", "l", "c",
                    (CorpusFile("t/train.tsv", "0" * 64, 1),), CorpusSource("http://x"),
                    text_column="sentence", label_column="label",
                    label_names={"0": "negative", "1": "positive"})
    resolved = ResolvedCorpus(corpus, {"t/train.tsv": tsv}, {"t/train.tsv": "mirror"}, tmp_path)
    data = read_split(resolved, "train")
    assert data.labels == ["positive", "negative"]
    assert read_split(resolved, "validation") is None
    (tmp_path / "x.a").write_bytes(b"caf\xe9 one\n")
    (tmp_path / "x.b").write_bytes(b"two\n")
    paired = Corpus("p", "classify", "paired", "cp1252", "d", "l", "c",
                    (CorpusFile("p/x.a", "0" * 64, 1, label="alpha"),
                     CorpusFile("p/x.b", "0" * 64, 1, label="beta")), CorpusSource("http://x"))
    resolved = ResolvedCorpus(paired, {"p/x.a": tmp_path / "x.a", "p/x.b": tmp_path / "x.b"},
                              {}, tmp_path)
    data = read_split(resolved, "train")
    assert data.texts == ["caf\u00e9 one", "two"] and data.labels == ["alpha", "beta"]


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(DataError, match="cannot tell the format"):
        read_labelled(write(tmp_path / "d.txt", "just prose\n"))


def test_stratified_split_is_seeded_disjoint_and_balanced():
    labels = ["a"] * 80 + ["b"] * 20 + ["c"] * 2
    train, val = stratified_split(labels, 0.25, seed=7)
    assert sorted(train + val) == list(range(len(labels)))
    assert Counter(labels[i] for i in val) == {"a": 20, "b": 5, "c": 1}
    assert stratified_split(labels, 0.25, seed=7) == (train, val)
    assert stratified_split(labels, 0.25, seed=8) != (train, val)


def test_stratified_folds_partition_everything():
    labels = ["p"] * 50 + ["n"] * 30
    folds = stratified_folds(labels, 10, seed=1)
    assert sorted(i for f in folds for i in f) == list(range(80))
    assert all(Counter(labels[i] for i in f) == {"p": 5, "n": 3} for f in folds)


def test_classify_inputs_lines_tables_jsonl_documents_and_stdin(tmp_path):
    lines = write(tmp_path / "r.txt", "first\n\n  second  \n")
    table = write(tmp_path / "r.csv", "id,review\n1,\"nice, very\"\n2,bad\n")
    jsonl = write(tmp_path / "r.jsonl", '{"text": "j1"}\n\n{"text": "j2"}\n')
    got = [(i.source, i.line, i.text) for i in iter_inputs([str(lines), str(table), str(jsonl)])]
    assert got == [(str(lines), 1, "first"), (str(lines), 3, "second"),
                   (str(table), 2, "nice, very"), (str(table), 3, "bad"),
                   (str(jsonl), 1, "j1"), (str(jsonl), 3, "j2")]
    docs = list(iter_inputs([str(lines)], document=True))
    assert [(d.line, d.text) for d in docs] == [(None, "first\n\n  second")]
    stdin = list(iter_inputs(["-"], stdin=io.StringIO("a\nb\n")))
    assert [(i.source, i.line, i.text) for i in stdin] == [("-", 1, "a"), ("-", 2, "b")]
    with pytest.raises(DataError, match="--text-column"):
        list(iter_inputs([str(write(tmp_path / "x.csv", "a,b\n1,2\n"))]))


@pytest.mark.corpora
def test_real_labelled_corpora_read_as_registered(real_corpora, tmp_path):
    def split(name, which):
        resolved = resolve_corpus(name, data_dir=real_corpora, cache_dir=tmp_path)
        return read_split(resolved, which)

    sst_train, sst_dev = split("sst2", "train"), split("sst2", "validation")
    assert len(sst_train) == 67349 and len(sst_dev) == 872
    assert Counter(sst_dev.labels) == {"positive": 444, "negative": 428}
    mr = split("rt-polarity", "train")
    assert Counter(mr.labels) == {"positive": 5331, "negative": 5331}
    joined = "".join(mr.texts)
    assert "\u2014" in joined and "\u2026" in joined and "\u00e9" in joined
    assert not any("\x80" <= ch <= "\x9f" for ch in joined)


@pytest.mark.corpora
def test_waimai_reviews_read_without_declaring_columns(waimai_csv):
    data = read_labelled(waimai_csv)  # header "label,review": both usual names
    assert len(data) == 11987 and Counter(data.labels) == {"0": 7987, "1": 4000}
    assert data.texts[0] == "很快，好吃，味道足，量大"
