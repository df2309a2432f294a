"""TorchScript exports of every cell and shape, loaded back from the written file."""

import pytest
import torch

from seqcli.choices import CELLS
from seqcli.data.tokenizers import PAD_ID
from seqcli.errors import UsageError
from seqcli.export.exporter import export_run

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_language_model_steps_with_the_state_carried(run_factory, tmp_path, cell, layers):
    run = run_factory("lm", cell=cell, layers=layers, impl="fused" if layers == 2 else "scratch")
    report = export_run(run, tmp_path / "lm.pt")
    assert report["format"] == "torchscript" and report["opset"] is None
    assert report["verified"]["max_abs_error"] < 1e-5
    module = torch.jit.load(str(tmp_path / "lm.pt"))
    ids = torch.tensor([[4, 5, 6, 7, 8], [9, 8, 7, 6, 5]])
    zeros = torch.zeros(layers, 2, 12)
    with torch.no_grad():
        logits, state = run.model(ids, None)
        got = module(ids, *([zeros] * (2 if cell == "lstm" else 1)))
        step, state = run.model(ids[:, :1], state)
        got_step = module(ids[:, :1], *got[1:])
    assert torch.allclose(got[0], logits, atol=1e-5)
    assert torch.allclose(got_step[0], step, atol=1e-5)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", CELLS)
def test_classifier_handles_padding_like_pytorch(run_factory, tmp_path, cell, bidirectional,
                                                 layers):
    case = CELLS.index(cell) + 3 * layers + bidirectional
    run = run_factory("classify", cell=cell, layers=layers, bidirectional=bidirectional,
                      pooling=("last", "max", "mean")[case % 3],
                      subwords=16 if case % 2 == 0 else 0,
                      impl="scratch" if case % 4 == 2 else "fused")
    export_run(run, tmp_path / "clf.pt")
    module = torch.jit.load(str(tmp_path / "clf.pt"))
    texts = [[6], [5, 3, 7, 2, 9, 4, 4], [8, 2, 3]]
    ids = torch.tensor([t + [PAD_ID] * (7 - len(t)) for t in texts])
    lengths = torch.tensor([len(t) for t in texts])
    ngrams = torch.randint(1, 16, (3, 7, 2)) * (ids != PAD_ID).unsqueeze(-1)
    extra = (ngrams,) if run.config.model.subwords else ()
    with torch.no_grad():
        logits = module(ids, lengths, *extra)
        for row, text in enumerate(texts):
            alone = run.model(torch.tensor([text]), None,
                              ngrams[row:row + 1, :len(text)] if extra else None)[0]
            assert torch.allclose(logits[row], alone[0], atol=1e-5)


def test_a_wide_classifier_takes_each_texts_ngram_buckets(run_factory, tmp_path):
    run = run_factory("classify", cell="gru", bidirectional=True, subwords=16, wide=64)
    assert export_run(run, tmp_path / "clf.pt")["verified"]["max_abs_error"] < 1e-5
    module = torch.jit.load(str(tmp_path / "clf.pt"))
    texts, counts = [[6], [5, 3, 7, 2, 9]], [1, 4]
    ids = torch.tensor([t + [PAD_ID] * (5 - len(t)) for t in texts])
    ngrams = torch.randint(1, 16, (2, 5, 3)) * (ids != PAD_ID).unsqueeze(-1)
    wide = torch.tensor([[7, 0, 0, 0], [1, 30, 63, 2]])  # 0 pads
    with torch.no_grad():
        logits = module(ids, torch.tensor([1, 5]), ngrams, wide)
        for row, (text, count) in enumerate(zip(texts, counts)):
            alone = run.model(torch.tensor([text]), None, ngrams[row:row + 1, :len(text)],
                              wide[row:row + 1, :count])[0]
            assert torch.allclose(logits[row], alone[0], atol=1e-5)


def test_opset_is_for_onnx_only(run_factory, tmp_path):
    with pytest.raises(UsageError, match="--opset applies to ONNX exports only"):
        export_run(run_factory("lm"), tmp_path / "m.pt", opset=17)
