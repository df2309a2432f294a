"""ONNX exports of every cell and shape, checked again here from the written file: a language
model generates what `seqcli generate --greedy` generates, and a classifier gives each text in
a padded batch of mixed lengths the logits the PyTorch model gives it alone."""

import json

import pytest
import torch

from seqcli.choices import CELLS
from seqcli.config import SampleConfig
from seqcli.data.tokenizers import PAD_ID, UNK_ID
from seqcli.errors import ExportError, UsageError
from seqcli.export import onnx_file
from seqcli.export.exporter import export_run
from seqcli.lm.generate import generate_samples

ort = pytest.importorskip("onnxruntime")
np = pytest.importorskip("numpy")


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def onnx_greedy(path, meta, ids: list[int], length: int) -> list[int]:
    """The README's loop, greedy: prime once, then one token per step with the state carried,
    never pad or unknown and, for byte-level BPE, only what the sidecar's utf8 rule allows."""
    model = session(path)
    state = {s["input"]: np.zeros([1 if d == "batch" else d for d in s["shape"]], np.float32)
             for s in meta["state"]}
    utf8 = meta["utf8"]
    if utf8 is not None:
        after = np.array([[int(c, 36) for c in row] for row in utf8["next_state"]])
        steps, at = np.array(utf8["steps_to_complete"]), utf8["start_state"]
    x, produced = np.array([ids], np.int64), []
    for left in range(length, 0, -1):
        logits, *new = model.run(None, {"ids": x, **state})
        state = dict(zip(state, new))
        last = logits[0, -1]
        last[[PAD_ID, UNK_ID]] = -np.inf
        if utf8 is not None:
            last[steps[after[at]] >= left] = -np.inf
        produced.append(int(last.argmax()))
        if utf8 is not None:
            at = after[at][produced[-1]]
        x = np.array([[produced[-1]]], np.int64)
    return produced


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_language_model_generates_as_pytorch_does(run_factory, tmp_path, cell, layers):
    impl = "scratch" if layers == 2 else "fused"  # both forms load into the export
    run = run_factory("lm", cell=cell, layers=layers, impl=impl)
    report = export_run(run, tmp_path / "lm.onnx")
    assert report["verified"]["max_abs_error"] < 1e-5
    meta = json.loads((tmp_path / "lm.onnx.json").read_text())
    assert [s["shape"] for s in meta["state"]] == [[layers, "batch", 12]] * (
        2 if cell == "lstm" else 1)
    prime = "the time"
    expected = generate_samples(run.model, run.tokenizer, prime,
                                SampleConfig(length=12, greedy=True), run.placement)[0].text
    produced = onnx_greedy(tmp_path / "lm.onnx", meta, run.tokenizer.encode(prime), 12)
    assert prime + run.tokenizer.decode(produced) == expected


def test_the_sidecar_utf8_rule_gives_seqcli_byte_level_generation(run_factory, tmp_path):
    """A byte-level BPE model (untrained: it would pick stray bytes) generates through
    onnxruntime, with the sidecar's rule, exactly what seqcli does: valid UTF-8."""
    run = run_factory("lm", cell="gru", tokenizer="bpe")
    export_run(run, tmp_path / "lm.onnx")
    meta = json.loads((tmp_path / "lm.onnx.json").read_text())
    assert meta["utf8"] is not None and len(meta["utf8"]["next_state"][0]) == meta["model"][
        "vocab_size"]
    for length in (1, 2, 5, 40):
        expected = generate_samples(run.model, run.tokenizer, "the",
                                    SampleConfig(length=length, greedy=True), run.placement)
        produced = onnx_greedy(tmp_path / "lm.onnx", meta, run.tokenizer.encode("the"), length)
        assert "the" + run.tokenizer.decode(produced) == expected[0].text
        assert "\ufffd" not in expected[0].text
    meta["utf8"] = None  # the rule is needed: without it the same loop breaks the text
    produced = onnx_greedy(tmp_path / "lm.onnx", meta, run.tokenizer.encode("the"), 40)
    assert "\ufffd" in run.tokenizer.decode(produced)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", CELLS)
def test_classifier_handles_padding_like_pytorch(run_factory, tmp_path, cell, bidirectional,
                                                 layers):
    case = CELLS.index(cell) + 3 * layers + bidirectional  # vary the rest across the matrix
    pooling = ("max", "mean", "last")[case % 3]
    run = run_factory("classify", cell=cell, layers=layers, bidirectional=bidirectional,
                      pooling=pooling, subwords=32 if case % 2 else 0,
                      impl="scratch" if case % 4 == 1 else "fused")
    report = export_run(run, tmp_path / "clf.onnx")
    assert report["verified"]["max_abs_error"] < 1e-5
    texts = [[5, 3, 7, 2, 9, 4], [6], [8, 2, 3]]
    ids = torch.tensor([t + [PAD_ID] * (6 - len(t)) for t in texts])
    lengths = torch.tensor([len(t) for t in texts])
    feeds = {"ids": ids.numpy(), "lengths": lengths.numpy()}
    ngrams = None
    if run.config.model.subwords:
        ngrams = torch.randint(1, 32, (3, 6, 4)) * (ids != PAD_ID).unsqueeze(-1)
        feeds["ngrams"] = ngrams.numpy()
    (logits,) = session(tmp_path / "clf.onnx").run(None, feeds)
    with torch.no_grad():
        for row, text in enumerate(texts):
            alone = run.model(torch.tensor([text]), None,
                              None if ngrams is None else ngrams[row:row + 1, :len(text)])[0]
            assert torch.allclose(torch.from_numpy(logits[row]), alone[0], atol=1e-5)


@pytest.mark.parametrize("subwords,bidirectional", [(0, True), (16, False)])
def test_a_wide_classifier_takes_each_texts_ngram_buckets(run_factory, tmp_path, subwords,
                                                          bidirectional):
    run = run_factory("classify", bidirectional=bidirectional, subwords=subwords, wide=64)
    assert export_run(run, tmp_path / "clf.onnx")["verified"]["max_abs_error"] < 1e-5
    texts, counts = [[5, 3, 7, 2], [6], [8, 2, 3]], [5, 1, 3]
    ids = torch.tensor([t + [PAD_ID] * (4 - len(t)) for t in texts])
    wide = torch.tensor([[3, 9, 17, 40, 63], [12, 0, 0, 0, 0], [1, 2, 3, 0, 0]])  # 0 pads
    ngrams = torch.randint(1, 16, (3, 4, 2)) * (ids != PAD_ID).unsqueeze(-1)
    feeds = {"ids": ids.numpy(), "lengths": np.array([4, 1, 3]), "wide": wide.numpy()}
    if subwords:
        feeds["ngrams"] = ngrams.numpy()
    model = session(tmp_path / "clf.onnx")
    assert [i.name for i in model.get_inputs()] == ["ids", "lengths", *(["ngrams"] if subwords
                                                                       else []), "wide"]
    (logits,) = model.run(None, feeds)
    with torch.no_grad():
        for row, (text, count) in enumerate(zip(texts, counts)):
            alone = run.model(torch.tensor([text]), None,
                              ngrams[row:row + 1, :len(text)] if subwords else None,
                              wide[row:row + 1, :count])[0]
            assert torch.allclose(torch.from_numpy(logits[row]), alone[0], atol=1e-5)


def test_tied_weights_and_bpe_tokens(run_factory, tmp_path):
    run = run_factory("lm", cell="gru", tokenizer="bpe", hidden=8, tied=True)
    assert run.model.decoder.weight is run.model.embedding.weight
    assert export_run(run, tmp_path / "lm.onnx")["verified"]["max_abs_error"] < 1e-5


@pytest.mark.parametrize("opset", [onnx_file.MIN_OPSET, onnx_file.MAX_OPSET])
def test_the_ends_of_the_opset_range_verify(run_factory, tmp_path, opset):
    run = run_factory("classify", cell="gru", bidirectional=True, subwords=16)
    assert export_run(run, tmp_path / "m.onnx", opset=opset)["opset"] == opset


@pytest.mark.parametrize("opset", [onnx_file.MIN_OPSET - 1, onnx_file.MAX_OPSET + 1, True])
def test_an_opset_out_of_range_is_refused_before_any_work(run_factory, tmp_path, opset):
    run = run_factory("lm")
    with pytest.raises(UsageError, match=f"--opset must be an integer from "
                                         f"{onnx_file.MIN_OPSET} to {onnx_file.MAX_OPSET}"):
        export_run(run, tmp_path / "m.onnx", opset=opset)
    assert not list(tmp_path.glob("m.onnx*"))


def test_missing_onnxruntime_says_how_to_install(run_factory, tmp_path, monkeypatch):
    real = onnx_file.importlib.import_module

    def without_runtime(name, *args):
        if name == "onnxruntime":
            raise ModuleNotFoundError("No module named 'onnxruntime'", name="onnxruntime")
        return real(name, *args)

    monkeypatch.setattr(onnx_file.importlib, "import_module", without_runtime)
    with pytest.raises(ExportError, match=r'onnxruntime is not installed\): '
                                          r'pip install onnx onnxruntime onnxscript'):
        export_run(run_factory("lm"), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
