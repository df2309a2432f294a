"""Token spans in the text as written, when the model reads it lower-cased."""

from seqcli.data.offsets import lowered, original_spans
from seqcli.data.tokenizers import train_tokenizer


def test_lowering_keeps_where_each_character_came_from():
    text, origin = lowered("İx ΟΔΟΣ")
    assert text == "i̇x οδος" and len(origin) == len(text)
    assert origin[:3] == [0, 0, 1]  # 'İ' became two characters
    assert [text[k] for k, i in enumerate(origin) if i == 6] == ["ς"]  # final sigma, one char


def test_spans_point_into_the_original_text():
    text = "İstanbul and İzmir, THE END"
    for kind in ("char", "word", "bpe"):
        tok = train_tokenizer(kind, ["istanbul and izmir, the end"] * 3, vocab_size=300,
                              lowercase=True)
        spans = original_spans(tok, text, lowercase=True)
        assert len(spans) == len(tok.encode(text.lower()))
        words = {text[start:end].strip() for start, end in spans}
        if kind == "word":
            assert words == {"İstanbul", "and", "İzmir", ",", "THE", "END"}
        covered = {i for start, end in spans for i in range(start, end)}
        assert covered >= {i for i, char in enumerate(text) if char != " "}
        assert [s for s, _ in spans] == sorted(s for s, _ in spans)
    tok = train_tokenizer("char", ["abc"])
    assert original_spans(tok, "aBc", lowercase=False) == [(0, 1), (1, 2), (2, 3)]
