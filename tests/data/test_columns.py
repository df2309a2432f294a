"""The shared CSV/TSV/JSONL column reader: rows and line numbers, quoting, column lookup, JSONL
keys, laziness, and the same answers through both of its users."""

import csv
import io
from pathlib import Path

import pytest

from seqcli.data.columns import (LABEL_NAMES, TEXT_NAMES, find_column, header_names, json_key,
                                 json_rows, json_string, table_rows)
from seqcli.data.inputs import iter_inputs
from seqcli.data.labelled import read_labelled
from seqcli.errors import DataError

PATH = Path("d.csv")


def rows(text: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    return list(table_rows(io.StringIO(text), delimiter, PATH))


def test_rows_are_numbered_by_their_first_line_and_blank_rows_are_skipped_but_counted():
    text = 'text,label\n\n"two\nlines",a\n  ,  \nlast,b\n'
    assert rows(text) == [(1, ["text", "label"]), (3, ["two\nlines", "a"]), (6, ["last", "b"])]


def test_csv_follows_rfc_4180_quoting_and_tsv_does_no_quote_processing():
    assert rows('"a, b","say ""hi"""\n') == [(1, ["a, b", 'say "hi"'])]
    assert rows('"a, b"\t"x\n', "\t") == [(1, ['"a, b"', '"x'])]  # GLUE: bare quotes are text


@pytest.mark.parametrize("text, message", [
    ('ok,1\n"never closed,2\nmore,3\n', r"d\.csv:2: malformed row \(a quote opened here is never"),
    ('ok,1\n"a"b,2\n', r"d\.csv:2: malformed row \(',' expected after '\"'\)"),
    ("ok,1\n" + "x" * (csv.field_size_limit() + 1) + ",2\n",
     r"d\.csv:2: malformed row \(a field is longer than [\d,]+ characters\)"),
])
def test_malformed_rows_are_one_line_naming_file_and_line(text, message):
    with pytest.raises(DataError, match=message) as caught:
        rows(text)
    assert "\n" not in str(caught.value)


def test_rows_are_read_lazily_and_a_bad_row_fails_only_when_reached():
    pulled = []

    def lines():
        for i, line in enumerate(["text\n", "one\n", "two\n", '"broken\n']):
            pulled.append(i)
            yield line

    reader = table_rows(lines(), ",", PATH)
    assert next(reader) == (1, ["text"]) and pulled == [0]
    assert next(reader) == (2, ["one"]) and pulled == [0, 1]
    assert next(reader) == (3, ["two"])
    with pytest.raises(DataError, match=r"d\.csv:4: malformed row"):
        next(reader)


def test_header_names_are_stripped_and_lower_case():
    assert header_names([" Text ", "LABEL", ""]) == ["text", "label", ""]


@pytest.mark.parametrize("names, declared, expected", [
    (["id", "body"], "BODY", (1, True)),  # a declared name, any case: the row is a header
    (["a", "b", "c"], "2", (2, False)),  # a 0-based index: the row is data
    (["1", "0"], "0", (1, True)),  # a header cell "0" wins over column 0
    (["id", "review", "text"], None, (2, True)),  # usual names in their order of preference
    (["id", "words"], None, (None, False)),  # nothing usual: the reader decides
])
def test_find_column(names, declared, expected):
    assert find_column(names, declared, TEXT_NAMES, PATH, "text") == expected


@pytest.mark.parametrize("declared", ["missing", "3", "-1", "\u00b2"])  # "²".isdigit() is True
def test_an_unfit_declared_column_lists_the_first_row(declared):
    message = rf"d\.csv: no label column '{declared}'; the first row has 'a', 'b', 'c'"
    with pytest.raises(DataError, match=message):
        find_column(["a", "b", "c"], declared, LABEL_NAMES, PATH, "label")


def test_json_rows_number_lines_and_skip_blank_ones():
    lines = ['{"text": "a"}\n', "\n", "  \n", '{"text": "b"}']
    assert list(json_rows(lines, Path("d.jsonl"))) == [(1, {"text": "a"}), (4, {"text": "b"})]


@pytest.mark.parametrize("line, message", [
    ("{oops", r"d\.jsonl:2: invalid JSON \(Expecting property name"),
    ("[1, 2]", r"d\.jsonl:2: expected a JSON object, got list$"),
    ('"text"', r"d\.jsonl:2: expected a JSON object, got str$"),
])
def test_json_rows_refuse_what_is_not_one_object_per_line(line, message):
    with pytest.raises(DataError, match=message):
        list(json_rows(['{"text": "a"}\n', line + "\n"], Path("d.jsonl")))


def test_json_keys_are_declared_or_found_by_usual_name_in_any_case():
    record = {"Review": "fine", "Stars": 4, "y": 1}
    assert json_key(record, None, TEXT_NAMES, PATH, 1, "text") == "Review"
    assert json_key(record, None, LABEL_NAMES, PATH, 1, "label") == "y"
    assert json_key(record, "Stars", LABEL_NAMES, PATH, 1, "label") == "Stars"
    with pytest.raises(DataError, match=r"d\.csv:7: no label field 'stars'$"):  # declared: exact
        json_key(record, "stars", LABEL_NAMES, PATH, 7, "label")
    with pytest.raises(DataError, match=r"d\.csv:2: no text field \(looked for text, sentence, "
                                        r"review, content\.\.\.\); pass --text-column$"):
        json_key({"words": "x"}, None, TEXT_NAMES, PATH, 2, "text")


@pytest.mark.parametrize("record", [{}, {"text": 3}, {"text": None}, {"text": ["a"]}])
def test_json_string_refuses_a_missing_or_non_string_field(record):
    with pytest.raises(DataError, match=r"d\.csv:5: field 'text' is missing or not a string"):
        json_string(record, "text", PATH, 5)


@pytest.mark.parametrize("name, body", [
    ("d.csv", 'id,Review,label\n1,"good, really",pos\n2,bad,neg\n'),
    ("d.tsv", 'sentence\tlabel\n"good, really\tpos\nbad\tneg\n'),
    ("d.jsonl", '{"Text": "good, really", "label": 1}\n\n{"Text": "bad", "label": 0}\n'),
])
def test_training_data_and_inputs_read_the_same_texts_from_the_same_file(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body)
    expected = ['"good, really' if name.endswith(".tsv") else "good, really", "bad"]
    assert read_labelled(path).texts == expected
    assert [item.text for item in iter_inputs([str(path)])] == expected


@pytest.mark.parametrize("name, body, declared, message", [
    ("d.csv", "id,body\n1,x\n", "words", r"d\.csv: no text column 'words'; the first row has "
                                         r"'id', 'body'$"),
    ("d.csv", 'text\n"open\n', None, r"d\.csv:2: malformed row \(a quote opened here"),
    ("d.jsonl", '{"text": "a", "y": 1}\n{"text": 3, "y": 0}\n', None,
     r"d\.jsonl:2: field 'text' is missing or not a string$"),
    ("d.jsonl", "[1]\n", None, r"d\.jsonl:1: expected a JSON object, got list$"),
])
def test_both_readers_complain_in_the_same_words(tmp_path, name, body, declared, message):
    path = tmp_path / name
    path.write_text(body)
    with pytest.raises(DataError, match=message):
        read_labelled(path, text_column=declared, label_column="1" if declared else None)
    with pytest.raises(DataError, match=message):
        list(iter_inputs([str(path)], text_column=declared))


def test_pathological_json_is_a_data_error_not_a_crash(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text("[" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"deep.jsonl:1: invalid JSON"):
        list(json_rows(path.read_text().splitlines(), path))
    path.write_text('{"text": ' + "9" * 5000 + "}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"deep.jsonl:1: invalid JSON"):
        list(json_rows(path.read_text().splitlines(), path))
