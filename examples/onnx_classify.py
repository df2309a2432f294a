"""Label texts with a classifier exported by `seqcli export --to onnx`, without seqcli.

    python examples/onnx_classify.py runs/classify-20261201-101500/export/model.onnx \
        "a wonderful film" "an awful mess"

Needs onnxruntime, numpy and tokenizers. Reads MODEL.onnx, MODEL.onnx.json and the
tokenizer.json beside them, and feeds the graph as `seqcli classify` does: lowercased when the
run lowercased, truncated to max_length, right-padded with pad_id, the true lengths, (when
the run uses subword features) each token's character n-gram buckets and (when it has a wide
side) each text's word n-gram buckets. Prints one line per text: label, probability, text
(tests/export/test_examples.py compares it with seqcli's).
"""

import json
import sys
import zlib
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def load_encoder(path: Path):
    """text -> (ids, each token's text), for seqcli's char format or a tokenizers file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("kind") == "char":  # seqcli's own: vocab[i] has id i + 2 (0 pad, 1 unknown)
        index = {c: i + 2 for i, c in enumerate(data["vocab"])}
        return lambda text: ([index.get(c, 1) for c in text], list(text))
    tokenizer = Tokenizer.from_file(str(path))  # word or BPE: the tokenizers library's file
    tokenizer.encode_special_tokens = True  # "[PAD]" typed in a text is text

    def encode(text):
        found = tokenizer.encode(text, add_special_tokens=False)
        return found.ids, [text[start:end] for start, end in found.offsets]
    return encode


def ngram_buckets(token: str, subwords: dict) -> list[int]:
    """The token's character n-gram buckets, as the sidecar's subwords recipe says."""
    marked = f"<{token}>"
    grams = dict.fromkeys(marked[i:i + n]
                          for n in range(subwords["min_n"], subwords["max_n"] + 1)
                          for i in range(len(marked) - n + 1))
    return [zlib.crc32(g.encode("utf-8")) % (subwords["buckets"] - 1) + 1
            for g in list(grams)[:subwords["max_ngrams"]]]


def wide_buckets(tokens: list[str], wide: dict) -> list[int]:
    """The text's distinct token uni- and bigrams' buckets, as the sidecar's wide recipe says."""
    grams = dict.fromkeys(tokens)
    grams.update(dict.fromkeys(a + wide["separator"] + b for a, b in zip(tokens, tokens[1:])))
    return [zlib.crc32(g.encode("utf-8")) % (wide["buckets"] - 1) + 1 for g in grams]


def padded(rows: list[list[int]]) -> np.ndarray:
    """Rows of buckets right-padded with 0 to the longest (at least one column)."""
    array = np.zeros((len(rows), max(1, max(len(r) for r in rows))), np.int64)
    for r, row in enumerate(rows):
        array[r, :len(row)] = row
    return array


def feeds(meta: dict, encode, texts: list[str]) -> dict:
    lower, limit = meta["tokenizer"]["lowercase"], meta["max_length"]
    rows = [encode(t.lower() if lower else t) for t in texts]
    tokens = [words[:limit] for _, words in rows]
    rows = [(ids[:limit] or [meta["tokenizer"]["unk_id"]], words[:limit] or [""])
            for ids, words in rows]
    width = max(len(ids) for ids, _ in rows)
    pad = meta["tokenizer"]["pad_id"]
    inputs = {"ids": np.array([ids + [pad] * (width - len(ids)) for ids, _ in rows], np.int64),
              "lengths": np.array([len(ids) for ids, _ in rows], np.int64)}
    if meta["subwords"]:
        grams = [[ngram_buckets(w, meta["subwords"]) for w in words] for _, words in rows]
        ngrams = np.zeros((len(rows), width, max(len(g) for r in grams for g in r) or 1),
                          np.int64)
        for r, row in enumerate(grams):
            for t, buckets in enumerate(row):
                ngrams[r, t, :len(buckets)] = buckets
        inputs["ngrams"] = ngrams
    if meta.get("wide"):
        inputs["wide"] = padded([wide_buckets(t, meta["wide"]) for t in tokens])
    return inputs


def main(model: str, texts: list[str]) -> None:
    path = Path(model)
    meta = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    encode = load_encoder(path.with_name(meta["tokenizer"]["file"]))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, feeds(meta, encode, texts))
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    for text, p in zip(texts, probs):
        print(f"{meta['labels'][int(p.argmax())]}\t{p.max():.4f}\t{text}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python examples/onnx_classify.py MODEL.onnx TEXT...")
    main(sys.argv[1], sys.argv[2:])
