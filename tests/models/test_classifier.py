"""Classifier model, pooling masks, padding invariance, batching, class weights, tokenizers,
pretrained vectors."""

import itertools

import pytest
import tokenizers
import torch
import torch.nn.functional as F

from seqcli.classify.batches import BucketedBatches, encode_texts, sorted_batches
from seqcli.classify.embeddings import load_pretrained, read_vectors
from seqcli.classify.task import ClassifyTask, adversarial_perturbation, inverse_frequency_weights
from seqcli.data.tokenizers import PAD_ID, UNK_ID, save_tokenizer, train_tokenizer
from seqcli.device import Placement
from seqcli.errors import DataError
from seqcli.models.classifier import Classifier, pool

GARBAGE = 1e6


def padded_output():
    """Outputs [2, 4, 4] (2 directions x 2 features) with huge garbage at padded steps."""
    out = torch.arange(32, dtype=torch.float).view(2, 4, 4) - 10
    out[0, 2:] = GARBAGE  # length 2
    return out, torch.tensor([2, 4])


def test_max_and_mean_pooling_ignore_padding():
    out, lengths = padded_output()
    assert torch.equal(pool(out, lengths, "max"), torch.stack([out[0, :2].amax(0), out[1].amax(0)]))
    assert torch.allclose(pool(out, lengths, "mean"),
                          torch.stack([out[0, :2].mean(0), out[1].mean(0)]))
    negative = -torch.ones(1, 3, 2)  # padding must not win a max even when outputs are < 0
    negative[0, 2] = 0.0
    assert torch.equal(pool(negative, torch.tensor([2]), "max"), -torch.ones(1, 2))


def test_last_pooling_uses_last_real_step_and_backward_first_step():
    out, lengths = padded_output()
    assert torch.equal(pool(out, lengths, "last", 1), torch.stack([out[0, 1], out[1, 3]]))
    both = pool(out, lengths, "last", 2)
    assert torch.equal(both[0], torch.cat([out[0, 1, :2], out[0, 0, 2:]]))
    assert torch.equal(both[1], torch.cat([out[1, 3, :2], out[1, 0, 2:]]))


CASES = [("fused", "lstm", bidirectional, pooling)
         for bidirectional, pooling in itertools.product([True, False], ["last", "mean", "max"])]
CASES += [("fused", "gru", True, "last"), ("scratch", "lstm", True, "last"),
          ("scratch", "gru", False, "max")]


@pytest.mark.parametrize("impl, cell, bidirectional, pooling", CASES)
def test_prediction_does_not_depend_on_batch_companions(impl, cell, bidirectional, pooling):
    torch.manual_seed(0)
    model = Classifier(50, 8, 6, 3, cell=cell, num_layers=2, dropout=0.3, impl=impl,
                       bidirectional=bidirectional, pooling=pooling).double().eval()
    texts = [[5, 6, 7], list(range(2, 14)), [9], [3, 4, 5, 6, 7, 8]]
    data = encode_texts(texts, None, 50, 100)
    alone = torch.cat([model(*data.batch([i])[:2])[0] for i in range(len(texts))])
    together = model(*data.batch([3, 0, 1, 2])[:2])[0][[1, 2, 3, 0]]
    assert torch.allclose(alone, together, atol=1e-10)
    # Garbage ids in the padding change nothing either.
    x, lengths, _, _, _ = data.batch([0, 1])
    x[0, 3:] = 17
    assert torch.allclose(model(x, lengths)[0], alone[[0, 1]], atol=1e-10)


def test_classifier_shapes_and_validation():
    model = Classifier(30, 4, 5, 4, bidirectional=True)
    logits, state = model(torch.randint(2, 30, (3, 7)), torch.tensor([7, 2, 5]))
    assert logits.shape == (3, 4) and state is None  # nothing is carried between texts
    with pytest.raises(ValueError, match="at least 2 classes"):
        Classifier(30, 4, 5, 1)


def test_encode_truncates_and_never_leaves_an_empty_text():
    data = encode_texts([[4, 5, 6, 7], [], [8]], [1, 0, 1], vocab_size=10, max_length=3)
    assert data.lengths.tolist() == [3, 1, 1]
    x, lengths, y, _, _ = data.batch([0, 1])
    assert x.tolist() == [[4, 5, 6], [UNK_ID, PAD_ID, PAD_ID]] and y.tolist() == [1, 0]


def test_bucketed_batches_are_deterministic_complete_and_resumable():
    lengths = [1 + (i * 7) % 23 for i in range(300)]
    data = encode_texts([[2] * n for n in lengths], [i % 2 for i in range(300)], 10, 100)
    batches = BucketedBatches(data, 16, seed=3)
    order = batches.order(0)
    assert len(order) == len(batches) == 19
    assert sorted(i for b in order for i in b) == list(range(300))
    assert order == batches.order(0) and order != batches.order(1)
    resumed = [b[0].tolist() for b in batches.epoch(0, start=5)]
    assert resumed == [data.batch(b)[0].tolist() for b in order[5:]]
    spread = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in order]
    assert sum(spread) / len(spread) < 5  # similar lengths within a batch
    assert [len(b) for b in sorted_batches(data.lengths, 128)] == [128, 128, 44]


def test_inverse_frequency_class_weights():
    labels = torch.tensor([0, 0, 0, 1, 0, 0])  # class 2 absent
    weights = inverse_frequency_weights(labels, 3)
    assert torch.allclose(weights, torch.tensor([6 / (3 * 5), 6 / 3, 0.0]))
    logits = torch.zeros(6, 3)
    # With balanced weights both present classes contribute equally to the loss.
    per_class = [F.cross_entropy(logits[labels == c], labels[labels == c], reduction="sum")
                 * weights[c] for c in (0, 1)]
    assert torch.allclose(per_class[0], per_class[1])


@pytest.mark.parametrize("kind", ["word", "bpe"])
def test_tokenizer_json_reloads_in_the_tokenizers_library(tmp_path, kind):
    texts = ["A fine film , truly fine .", "a dull film", "fine fine fine dull"] * 5
    ours = train_tokenizer(kind, texts, vocab_size=300, lowercase=True)
    save_tokenizer(ours, tmp_path / "tokenizer.json")
    theirs = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    sample = "A FINE film , never seen zzzq"
    assert theirs.encode(sample, add_special_tokens=False).ids == ours.encode(sample)
    assert theirs.token_to_id("[PAD]") == PAD_ID and theirs.token_to_id("[UNK]") == UNK_ID
    if kind == "word":
        assert ours.encode("zzzq")[0] == UNK_ID


def test_pretrained_vectors_glove_and_word2vec(tmp_path):
    glove = tmp_path / "glove.txt"
    glove.write_text("fine 1 2 3\nfilm 4 5 6\nother 7 8 9\nFine 0 0 0\n", encoding="utf-8")
    word2vec = tmp_path / "w2v.txt"
    word2vec.write_text("2 3\nfilm 1 1 1\ndull 2 2 2\n", encoding="utf-8")
    vocab = {"[PAD]": 0, "[UNK]": 1, "fine": 2, "film": 3, "dull": 4}
    found = read_vectors(glove, vocab, 3)
    assert sorted(found) == [2, 3] and found[2].tolist() == [1.0, 2.0, 3.0]
    embedding = torch.nn.Embedding(5, 3, padding_idx=0)
    before = embedding.weight.detach().clone()
    assert load_pretrained(embedding, word2vec, vocab) == 2
    assert embedding.weight[3].tolist() == [1.0, 1.0, 1.0]
    assert torch.equal(embedding.weight[2], before[2])  # missing words keep their init
    with pytest.raises(DataError, match="pass --embedding 3"):
        read_vectors(glove, vocab, 4)
    with pytest.raises(DataError, match="none of the"):
        load_pretrained(embedding, glove, {"[PAD]": 0, "zzz": 1})


def test_adversarial_perturbation_is_sized_per_text_and_raises_the_loss():
    torch.manual_seed(0)
    model = Classifier(40, 6, 5, 2, bidirectional=True).double().eval()
    data = encode_texts([[5, 6, 7, 8], [9, 10]], [0, 1], 40, 100)
    x, lengths, y, _, _ = data.batch([0, 1])
    embedded = model.embed(x)
    loss = F.cross_entropy(model.classify_embedded(embedded, lengths), y)
    delta = adversarial_perturbation(loss, embedded, 0.01)
    norms = delta.flatten(1).norm(dim=1)
    assert torch.allclose(norms, 0.01 * embedded.detach().flatten(1).norm(dim=1))
    assert (delta[1, 2:] == 0).all()  # the padding does not move
    moved = F.cross_entropy(model.classify_embedded(embedded + delta, lengths), y)
    away = F.cross_entropy(model.classify_embedded(embedded - delta, lengths), y)
    assert away < loss < moved  # the gradient direction is the one that raises the loss


@pytest.mark.parametrize("impl", ["fused", "scratch"])
def test_adversarial_training_loss_adds_the_perturbed_loss(impl):
    torch.manual_seed(0)
    model = Classifier(40, 6, 5, 2, bidirectional=True, impl=impl).double().eval()
    data = encode_texts([[5, 6, 7, 8], [9, 10], [11, 12, 13]], [0, 1, 1], 40, 100)
    placement = Placement(torch.device("cpu"), "fp32")
    batch = (data.batch([0, 1, 2]), 1.0)  # all of the batch, at full weight
    plain = ClassifyTask(data, data, ["a", "b"], batch_size=3)
    robust = ClassifyTask(data, data, ["a", "b"], batch_size=3, adversarial=0.05)
    base = plain.train_loss(model, batch, None, placement)[0]
    total = robust.train_loss(model, batch, None, placement)[0]
    assert base < total - base  # the perturbed texts' loss is higher than the clean one
    total.backward()  # the graph survives the gradient taken for the perturbation
    assert all(p.grad is not None and p.grad.isfinite().all() for p in model.parameters())
