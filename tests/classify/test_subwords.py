"""Subword (character n-gram) features: hashing, tables, batches, the classifier's use of them,
and an end-to-end run in which they let a classifier read words it never saw."""

import json
import random

import pytest
import torch
from typer.testing import CliRunner

from seqcli.classify.batches import encode_texts
from seqcli.classify.subwords import MAX_NGRAMS, char_ngrams, ngram_buckets, subword_table
from seqcli.classify.task import ClassifyTask
from seqcli.cli.main import app
from seqcli.data.tokenizers import UNK_ID, train_tokenizer
from seqcli.device import Placement
from seqcli.models.classifier import Classifier


def test_char_ngrams_of_a_marked_word_shortest_first():
    assert char_ngrams("warm") == ["<wa", "war", "arm", "rm>", "<war", "warm", "arm>",
                                   "<warm", "warm>"]
    assert char_ngrams("a") == ["<a>"]
    assert char_ngrams("aaaa")[:2] == ["<aa", "aaa"]  # each n-gram once
    assert len(char_ngrams("antidisestablishmentarianism")) == MAX_NGRAMS


def test_buckets_are_stable_across_processes_and_skip_zero():
    # Saved runs depend on these exact values: CRC-32, not Python's salted hash().
    assert ngram_buckets("warm", 1000) == [908, 692, 509, 503, 969, 42, 653, 207, 7]
    assert ngram_buckets("é", 1000) == [200]
    assert all(1 <= b < 2 for b in ngram_buckets("anything", 2))


def test_table_shares_rows_between_repeats_and_row_zero_is_empty():
    table = subword_table([["warm", "film"], ["warm"], [""]], 1000)
    assert table.pieces.tolist() == [1, 2, 1, 3]
    assert table.rows[0].count_nonzero() == 0 and table.rows[3].count_nonzero() == 0
    assert table.rows[1, :9].tolist() == ngram_buckets("warm", 1000)
    assert table.rows.shape[1] == len(char_ngrams("film")) == len(char_ngrams("warm"))


def test_batch_carries_each_tokens_ngrams_and_zero_padding():
    words = [["a", "warm", "film"], ["dull"], []]
    data = encode_texts([[4, 5, 6], [7], []], [1, 0, 0], 10, max_length=2, words=words,
                        buckets=500)
    x, lengths, _, ngrams, _ = data.batch([0, 1, 2])
    assert x.tolist() == [[4, 5], [7, 0], [UNK_ID, 0]] and lengths.tolist() == [2, 1, 1]
    width = len(char_ngrams("warm"))
    assert ngrams.shape == (3, 2, width)
    assert ngrams[0, 1].tolist() == ngram_buckets("warm", 500)  # "film" was truncated away
    assert ngrams[1, 1].count_nonzero() == 0 and ngrams[2].count_nonzero() == 0
    with pytest.raises(ValueError, match="needs its string"):
        encode_texts([[4, 5]], None, 10, 5, words=[["a"]], buckets=500)


def test_word_tokenizer_gives_the_written_word_of_unknown_tokens():
    tok = train_tokenizer("word", ["a warm film", "a dull film"])
    ids, words = tok.encode_batch_words(["a warmly made film!"])
    assert words == [["a", "warmly", "made", "film", "!"]]
    assert ids[0][1] == UNK_ID and ids[0][0] != UNK_ID


@pytest.mark.parametrize("kind", ["char", "bpe"])
def test_other_tokenizers_give_one_string_per_token(kind):
    tok = train_tokenizer(kind, ["a warm film", "a dull film"], vocab_size=300)
    ids, words = tok.encode_batch_words(["a warmly made film"])
    assert len(words[0]) == len(ids[0]) > 0 and all(isinstance(w, str) for w in words[0])
    if kind == "char":
        assert "".join(words[0]) == "a warmly made film"


def _subword_classifier(impl="fused"):
    torch.manual_seed(0)
    model = Classifier(30, 8, 6, 2, bidirectional=True, impl=impl, subword_buckets=200)
    assert model.subword_embedding.weight.count_nonzero() == 0  # untrained n-grams add nothing
    torch.nn.init.normal_(model.subword_embedding.weight)  # as if trained
    return model.double().eval()


@pytest.mark.parametrize("impl", ["fused", "scratch"])
def test_unknown_words_differ_by_their_ngrams_and_batching_changes_nothing(impl):
    model = _subword_classifier(impl)
    words = [["a", "warmly"], ["a", "coldly"], ["film"]]
    data = encode_texts([[3, UNK_ID], [3, UNK_ID], [4]], None, 30, 10, words=words,
                        buckets=200)
    x, lengths, _, ngrams, _ = data.batch([0, 1, 2])
    together = model(x, lengths, ngrams)[0]
    assert not torch.allclose(together[0], together[1])  # same ids, different words
    alone = torch.cat([model(*(t for i, t in enumerate(data.batch([k])) if i != 2))[0]
                       for k in range(3)])
    torch.testing.assert_close(together, alone, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="pass each token's n-grams"):
        model(x, lengths)


def test_training_step_reaches_the_ngram_vectors_with_word_dropout_and_adversarial():
    model = _subword_classifier().train()
    data = encode_texts([[3, 5], [4]], [1, 0], 30, 10, words=[["a", "warm"], ["dull"]],
                        buckets=200)
    task = ClassifyTask(data, data, ["neg", "pos"], batch_size=2, word_dropout=1.0,
                        adversarial=0.05)
    loss = task.train_loss(model, (data.batch([0, 1]), 1.0), None,
                           Placement(torch.device("cpu"), "fp32"))[0]
    loss.backward()
    grad = model.subword_embedding.weight.grad
    used = torch.unique(data.batch([0, 1])[3])
    # Every word became [UNK]; their n-grams still learn, and no unused bucket moves.
    assert grad[used[used > 0]].abs().sum(1).gt(0).all()
    unused = torch.ones(200, dtype=torch.bool)
    unused[used] = False
    assert grad[unused].count_nonzero() == 0


# End to end: sentiment carried by word stems. Training sees some forms of each stem; the
# evaluation texts use other forms, never seen, so a word-level model reads only [UNK] there.
STEMS = {"positive": ["love", "delight", "charm", "wonder", "enjoy"],
         "negative": ["bore", "annoy", "disgust", "tire", "hate"]}
FILLER = ["the", "film", "plot", "cast", "was", "quite", "really", "its"]


def _rows(suffixes: list[str], n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "positive" if i % 2 else "negative"
        words = rng.sample(FILLER, 3) + [rng.choice(STEMS[label]) + rng.choice(suffixes)]
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return rows


def _tsv(path, rows):
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in rows))
    return path


@pytest.fixture(scope="module")
def unseen_forms(tmp_path_factory):
    root = tmp_path_factory.mktemp("subwords")
    train = _tsv(root / "train.tsv", _rows(["", "s", "ed", "er", "ers"], 240, 1))
    test = _tsv(root / "test.tsv", _rows(["ing", "ly"], 80, 2))
    env = {"SEQCLI_RUNS": str(root / "runs"), "SEQCLI_DATA": str(root / "none")}
    return root, train, test, env


def _train_and_score(root, train, test, env, name, *extra):
    runner = CliRunner()
    args = ["train", "--task", "classify", "--corpus", train, "--validation", train,
            "--hidden", 16, "--embedding", 16, "--batch-size", 16, "--max-steps", 200,
            "--epochs", 100, "--eval-every", 100, "--lr", 0.01, "--format", "json",
            # The subword vectors alone, trained as when subwords became a default: with
            # adversarial training (now off by default; without it this toy's unseen forms
            # score 0.68) and no wide side (whole-word features, blind to unseen forms).
            "--wide", 0, "--adversarial", 0.05,
            "--out", root / name, *extra]
    done = runner.invoke(app, [str(a) for a in args], env=env)
    assert done.exit_code == 0, done.output
    scored = runner.invoke(app, ["evaluate", "--model", str(root / name), "--corpus", str(test),
                                 "--format", "json"], env=env)
    assert scored.exit_code == 0, scored.output
    return json.loads(scored.stdout)["accuracy"]


def test_subwords_let_the_classifier_read_unseen_word_forms(unseen_forms):
    root, train, test, env = unseen_forms
    plain = _train_and_score(root, train, test, env, "plain", "--subwords", 0)
    subwords = _train_and_score(root, train, test, env, "subwords", "--subwords", 4096)
    config = json.loads((root / "subwords" / "config.json").read_text())
    assert config["config"]["model"]["subwords"] == 4096
    # Without subwords every test text is filler plus [UNK]: the label is a coin toss (seeds
    # 1234 and 8 scored 50% and 52%). With them, seeds 1234 and 5-8 scored 90-100%.
    assert plain <= 0.65, plain
    assert subwords >= 0.8, (plain, subwords)
    listed = CliRunner().invoke(app, ["classify", "-", "--model", str(root / "subwords"),
                                      "--format", "jsonl"], env=env,
                                input="a charming film\nthe plot was tiresome\n")
    assert listed.exit_code == 0, listed.output
    assert [json.loads(l)["label"] for l in listed.stdout.splitlines()] == ["positive",
                                                                            "negative"]
