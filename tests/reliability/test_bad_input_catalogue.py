"""The bad-input catalogue: every kind of wrong file, option, run directory and config file,
through the real CLI (in-process), each checked against the CLI contract:

- exit code 2 for usage errors, 1 for everything else (0 where the input is odd but fine);
- exactly one line on stderr, starting with ``error:``, matching the expected message;
- no traceback (``--debug`` alone shows one);
- nothing written or overwritten: the whole workspace (runs, files, cache) is unchanged.

Each row of CASES is one case: (id, argv, exit code, message pattern, options). Arguments
may name the workspace's paths as ``{files}``, ``{run}``, ``{bad}`` ... (see `workspace`).
Cases already covered elsewhere (tests/cli/test_lm_cli.py: --hidden 0, --lr -1, --cell foo,
--dropout 1.5, --bidirectional, --seq-len -3, --device cuda, --epochs 0, --tie-weights, resume
with --hidden) are not repeated.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import urllib.error
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from seqcli.cli.main import app
from seqcli.data import download as dl

from tests.conftest import tiny_text

TINY = ["--hidden", "16", "--embedding", "8", "--layers", "1", "--seq-len", "8",
        "--batch-size", "4", "--max-steps", "2", "--eval-every", "2"]


@dataclass
class Case:
    id: str
    argv: list[str]
    code: int
    pattern: str | None  # regex searched in stderr (the error line, or a note on success)
    env: dict[str, str] = field(default_factory=dict)
    net: str = "offline"  # "offline" | "wrong-bytes": what a download receives
    writes: bool = False  # a success case that writes a run (skips the unchanged check)
    progress: bool = False  # a download bar may precede the error line
    stdout: str | None = None  # regex searched in stdout
    marks: tuple = ()


def C(id, argv, code, pattern, **kw) -> Case:
    return Case(id, list(argv), code, pattern, **kw)


NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
NO_MPS = pytest.mark.skipif(bool(getattr(torch.backends, "mps", None)
                                 and torch.backends.mps.is_available()), reason="MPS present")


def train(*args, corpus="{corpus}"):
    return ["train", "--corpus", corpus, *TINY, *args]


def gen(*args, run="{run}"):
    return ["generate", "--model", run, "--length", "5", "--seed", "1", *args]


CASES = [
    # ----- corpora ----------------------------------------------------------------------
    C("corpus-missing-path", train(corpus="{files}/nope.txt"), 1, r"nope\.txt: no such file"),
    C("corpus-directory", train(corpus="{files}/folder"), 1, r"needs one text file, got a directory"),
    C("corpus-empty", train(corpus="{files}/empty.txt"), 1, r"empty\.txt: is empty"),
    C("corpus-whitespace-only", train(corpus="{files}/blank.txt"), 1, r"is empty \(only whitespace\)"),
    C("corpus-binary", train(corpus="{files}/random.bin"), 1, r"random\.bin: looks binary"),
    C("corpus-nul-bytes", train(corpus="{files}/nul.txt"), 1, r"looks binary"),
    C("corpus-utf16-without-bom", train(corpus="{files}/utf16le.txt"), 1, r"looks binary"),
    C("corpus-cp1252-is-decoded", train("--out", "{tmp}/cp1252", corpus="{files}/cp1252.txt"),
      0, None, writes=True),
    C("corpus-utf16-with-bom-is-decoded", train("--out", "{tmp}/utf16",
                                                 corpus="{files}/utf16bom.txt"), 0, None, writes=True),
    C("corpus-too-short-to-validate", train(corpus="{files}/short.txt"), 1,
      r"validation part .* is too short"),
    C("corpus-shorter-than-one-window", train("--seq-len", "64", corpus="{files}/twenty.txt"), 1,
      r"fewer than one training window of --seq-len 64"),
    C("corpus-enormous-single-line", train("--batch-size", "1024", "--out", "{tmp}/line",
                                           corpus="{files}/oneline.txt"), 0, None, writes=True),
    C("corpus-unknown-name", train(corpus="timemachin"), 1,
      r"unknown corpus 'timemachin' \(did you mean 'timemachine'\?\); known corpora: timemachine"),
    C("corpus-offline-download", train(corpus="timemachine"), 1,
      r"not available locally .*pass a path.*SEQCLI_DATA.*seqcli corpus fetch timemachine"),
    C("corpus-download-checksum-mismatch", train(corpus="timemachine"), 1,
      r"SHA-256 mismatch .*the download was discarded", net="wrong-bytes", progress=True),
    C("corpus-fetch-checksum-mismatch", ["corpus", "fetch", "timemachine"], 1,
      r"SHA-256 mismatch", net="wrong-bytes", progress=True),
    C("corpus-mirror-size-mismatch", train(corpus="timemachine"), 1,
      r"mirror holds a different file", env={"SEQCLI_DATA": "{mirror}"}),
    C("corpus-labelled-for-lm", train(corpus="rt-polarity"), 1, r"corpus 'rt-polarity' is a labelled",
      env={"SEQCLI_DATA": "{mirror}"}),
    # refused from the registry entry alone: nothing is downloaded first (here: offline)
    C("corpus-labelled-for-lm-not-fetched", train(corpus="sst2"), 1, r"corpus 'sst2' is a labelled"),
    C("corpus-plain-for-classify-not-fetched", ["train", "--task", "classify", "--corpus",
                                                "tinyshakespeare"], 1,
      r"corpus 'tinyshakespeare' is plain text for language models"),
    C("evaluate-corpus-binary", ["evaluate", "--model", "{run}", "--corpus", "{files}/random.bin"],
      1, r"looks binary"),
    C("evaluate-corpus-missing", ["evaluate", "--model", "{run}", "--corpus", "{files}/gone.txt"],
      1, r"no such file"),
    C("evaluate-corpus-tiny-still-scores", ["evaluate", "--model", "{run}", "--corpus",
                                            "{files}/three.txt", "--format", "json"], 0, None,
      stdout=r'"tokens": 2'),
    C("corpus-info-binary", ["corpus", "info", "{files}/random.bin"], 1, r"looks binary"),

    # ----- options ----------------------------------------------------------------------
    *(C(f"option{opt}={value}", train(opt, value), 2, rf"{re.escape(opt)} must be" + rest)
      for opt, value, rest in [
          ("--layers", "0", r" an integer from 1"), ("--layers", "1000", r" an integer from 1 to 64"),
          ("--embedding", "-5", r" an integer"), ("--batch-size", "0", r" an integer"),
          ("--hidden", "99999999999999999999", r" an integer from 1 to 65536"),
          ("--lr", "0", r" a positive finite number"), ("--lr", "nan", r" a positive finite number"),
          ("--clip", "0", r" a positive finite number"), ("--clip", "nan", r" a positive finite number"),
          ("--dropout", "-0.1", r" in \[0, 1\)"), ("--dropout", "nan", r" a finite number"),
          ("--val-fraction", "0", r" in \(0, 1\)"), ("--val-fraction", "1", r" in \(0, 1\)"),
          ("--weight-decay", "nan", r" a finite number"), ("--max-steps", "0", r" a positive"),
          ("--max-minutes", "-1", r" >= 0 \(0: no time limit\)"), ("--eval-every", "0", r" a positive"),
          ("--patience", "0", r" a positive"), ("--vocab-size", "0", r" an integer"),
          ("--max-length", "0", r" an integer"), ("--seed", "-1", r" an integer from 0"),
          ("--seed", str(2**64), r" an integer from 0"),
      ]),
    C("option--lr=inf", train("--lr", "inf"), 2, r"--lr must be a positive finite number; got inf"),
    C("option--lr=1000", train("--lr", "1000"), 2, r"absurdly large"),
    C("option--weight-decay=-1", train("--weight-decay", "-1"), 2, r"--weight-decay .* must be >= 0"),
    C("option--min-frequency=0", train("--min-frequency", "0"), 2, r"--min-frequency >= 1"),
    C("option-not-an-integer", train("--hidden", "abc"), 2, r"Invalid value for '--hidden'"),
    C("option-unknown-choice", train("--tokenizer", "sentencepiece"), 2, r"Invalid value for '--tokenizer'"),
    C("option-misspelt", train("--hiden", "3"), 2, r"No such option: --hiden"),
    C("option-bad-format", train("--format", "xml"), 2, r"Invalid value for '--format'"),
    C("option-class-weights", train("--class-weights", "maybe"), 2, r"Invalid value for '--class-weights'.*'maybe' is not one of 'auto', 'none'"),
    C("option--adversarial=-0.1", train("--task", "classify", "--adversarial", "-0.1"), 2,
      r"--adversarial must be in \[0, 1\] \(0: off\); got -0.1"),
    C("option--adversarial=nan", train("--task", "classify", "--adversarial", "nan"), 2,
      r"--adversarial must be in \[0, 1\]"),
    C("option--adversarial-for-lm", train("--adversarial", "0.1"), 2,
      r"--adversarial trains classifiers; use it with --task classify"),
    C("option--subwords=1", train("--task", "classify", "--subwords", "1"), 2,
      r"--subwords must be 0 \(off\) or an integer from 2 to 16777216; got 1"),
    C("option--subwords-for-lm", train("--subwords", "1000"), 2,
      r"--subwords adds character n-grams to a classifier's tokens; use it with --task "
      r"classify"),
    C("out-is-a-file", train("--out", "{files}/empty.txt"), 1, r"--out .*empty\.txt exists and is not a directory"),
    C("out-under-a-file", train("--out", "{files}/empty.txt/run"), 1,
      r"cannot write to run directory .*empty\.txt/run: Not a directory"),
    C("out-holds-a-run", train("--out", "{run}"), 1, r"already holds a run; choose another --out or use --resume"),
    C("runs-root-is-a-file", train(), 1, r"cannot create run directory in .*empty\.txt",
      env={"SEQCLI_RUNS": "{files}/empty.txt"}),
    C("resume-with-out", ["train", "--resume", "{run}", "--out", "{tmp}/elsewhere"], 2,
      r"do not combine it with --out"),
    C("resume-with-config", ["train", "--resume", "{run}", "--config", "{files}/ok.toml"], 2,
      r"do not combine it with --out or --config"),
    C("resume-other-task", ["train", "--resume", "{run}", "--task", "classify"], 2, r"is a lm run, not classify"),
    C("resume-changed-cell", ["train", "--resume", "{run}", "--cell", "gru"], 2, r"model\.cell='gru'"),
    C("resume-changed-tokenizer", ["train", "--resume", "{run}", "--tokenizer", "word"], 2,
      r"data\.tokenizer='word'"),
    C("resume-changed-seq-len", ["train", "--resume", "{run}", "--seq-len", "32"], 2, r"data\.seq_len=32"),
    C("device-mps-absent", train("--device", "mps"), 2, r"MPS is not available", marks=(NO_MPS,)),
    C("precision-fp16-on-cpu", train("--device", "cpu", "--precision", "fp16"), 2, r"fp16 needs a GPU"),
    C("generate-device-absent", gen("--device", "cuda"), 2, r"no CUDA GPU", marks=(NO_GPU,)),
    C("generate-device-unknown", gen("--device", "tpu"), 2, r"Invalid value for '--device'.*'tpu' is not one of 'auto', 'cpu', 'cuda', 'mps'"),
    C("evaluate-device-unknown", ["evaluate", "--model", "{run}", "--device", "tpu"], 2, r"Invalid value for '--device'.*'tpu' is not one of"),

    # ----- run directories and checkpoints ------------------------------------------------
    C("run-missing", gen(run="{tmp}/no-such-run"), 1, r"run directory not found"),
    C("run-is-a-file", gen(run="{files}/empty.txt"), 1, r"is not a run directory \(it is a file\)"),
    C("run-empty-dir", gen(run="{bad}/empty-dir"), 1, r"is not a seqcli run \(no config\.json\)"),
    C("run-not-a-run", gen(run="{files}/folder"), 1, r"is not a seqcli run"),
    C("run-no-checkpoint-yet", gen(run="{bad}/no-checkpoint"), 1, r"has no checkpoint yet"),
    C("run-truncated-best", gen(run="{bad}/truncated-best"), 1, r"best\.pt is truncated or corrupt"),
    C("run-empty-best", gen(run="{bad}/empty-best"), 1, r"best\.pt is truncated or corrupt"),
    C("run-random-best", gen(run="{bad}/random-best"), 1, r"best\.pt is truncated or corrupt"),
    C("run-bit-flipped-best", gen(run="{bad}/flipped-best"), 1, r"best\.pt is corrupt \(checksum mismatch"),
    C("run-nan-weights", gen(run="{bad}/nan-weights"), 1, r"holds NaN or infinite values"),
    C("run-not-a-seqcli-checkpoint", gen(run="{bad}/foreign-best"), 1, r"is not a seqcli checkpoint"),
    C("run-newer-checkpoint-format", gen(run="{bad}/newer-checkpoint"), 1, r"checkpoint format 2; .*upgrade seqcli"),
    C("run-newer-config-format", gen(run="{bad}/newer-config"), 1, r"written by a newer seqcli"),
    C("run-truncated-config", gen(run="{bad}/truncated-config"), 1, r"config\.json is corrupt"),
    C("run-config-wrong-types", gen(run="{bad}/config-types"), 1, r"config\.json is corrupt: task, config, meta"),
    C("run-config-invalid-value", gen(run="{bad}/config-invalid"), 1, r"config\.json is invalid: --hidden"),
    C("run-weights-other-architecture", gen(run="{bad}/other-architecture"), 1, r"do not match the run's config\.json"),
    C("run-tokenizer-missing", gen(run="{bad}/no-tokenizer"), 1, r"cannot read tokenizer"),
    C("run-tokenizer-corrupt", gen(run="{bad}/bad-tokenizer"), 1, r"tokenizer\.json: tokenizer JSON is corrupt"),
    C("run-tokenizer-other-vocabulary", gen(run="{bad}/other-tokenizer"), 1, r"do not match"),
    C("run-lm-given-to-classify", ["classify", "--model", "{run}", "{corpus}"], 1,
      r"is a language-model run, but this command needs a classifier run"),
    C("evaluate-truncated-best", ["evaluate", "--model", "{bad}/truncated-best"], 1, r"truncated or corrupt"),
    C("resume-truncated-last", ["train", "--resume", "{bad}/truncated-last"], 1, r"last\.pt is truncated or corrupt"),
    C("resume-without-last", ["train", "--resume", "{bad}/no-checkpoint"], 1, r"checkpoint not found: .*last\.pt"),
    C("resume-last-other-architecture", ["train", "--resume", "{bad}/other-architecture"], 1,
      r"does not match the run's config\.json"),
    C("resume-not-a-run", ["train", "--resume", "{files}/folder"], 1, r"is not a seqcli run"),
    C("runs-show-corrupt-config", ["runs", "show", "{bad}/truncated-config"], 1, r"config\.json is corrupt"),
    C("export-not-a-run", ["export", "--model", "{files}/folder", "--to", "onnx"], 1, r"is not a seqcli run"),
    C("export-truncated-best", ["export", "--model", "{bad}/truncated-best", "--to", "torchscript"], 1, r"best\.pt is truncated or corrupt"),
    C("export-into-the-run", ["export", "--model", "{run}", "--out", "{run}/best.pt"], 2, r"would be written into the run directory"),
    C("export-over-a-file", ["export", "--model", "{run}", "--to", "torchscript", "--out", "{files}/empty.txt"], 2, r"empty\.txt already exists; add --force to replace it"),
    C("export-under-a-file", ["export", "--model", "{run}", "--out", "{files}/empty.txt/m.pt"], 1, r"cannot write to .*empty\.txt"),
    C("export-opset", ["export", "--model", "{run}", "--to", "onnx", "--opset", "6"], 2, r"--opset must be an integer from 14 to 20; got 6"),
    C("export-no-format", ["export", "--model", "{run}", "--out", "{tmp}/model.bin"], 2, r"name the export format"),
    C("runs-show-not-a-run", ["runs", "show", "{bad}/empty-dir"], 1, r"is not a seqcli run"),
    C("runs-list-among-broken-runs", ["runs", "list", "--format", "json"], 0, None,
      env={"SEQCLI_RUNS": "{bad}"}, stdout=r"^\[\s*\{"),

    # ----- generation -------------------------------------------------------------------
    C("prime-unseen-characters", gen("--prime", "Ж\x00🙂 the"), 0, r"3 token\(s\) never seen",
      stdout=r"^Ж\x00🙂 the"),
    C("prime-undecodable-argv-bytes", gen("--prime", "ab\udcff"), 0, r"never seen"),
    C("prime-unseen-words", gen("--prime", "zebra quantum the", run="{wordrun}"), 0,
      r"2 token\(s\) never seen .*'quantum', 'zebra'", stdout=r"^zebra quantum the"),
    C("prime-undecodable-bytes-word-model", gen("--prime", "the \udcff", run="{wordrun}"), 0, None),
    C("temperature-zero", gen("--temperature", "0"), 2, r"--temperature must be a finite number > 0"),
    C("temperature-negative", gen("--temperature", "-1"), 2, r"--temperature must be"),
    C("temperature-nan", gen("--temperature", "nan"), 2, r"--temperature must be"),
    C("temperature-inf", gen("--temperature", "inf"), 2, r"--temperature must be"),
    C("temperature-tiny-is-near-greedy", gen("--temperature", "1e-45"), 0, None),
    C("temperature-ignored-when-greedy", gen("--temperature", "0", "--greedy"), 0, None),
    C("top-k-zero", gen("--top-k", "0"), 2, r"--top-k must be from 1 to the vocabulary size"),
    C("top-k-negative", gen("--top-k", "-3"), 2, r"--top-k must be"),
    C("top-k-above-vocabulary", gen("--top-k", "100000"), 2, r"--top-k must be from 1 to the vocabulary size \d+"),
    C("top-k-one", gen("--top-k", "1"), 0, None),
    C("top-p-zero", gen("--top-p", "0"), 2, r"--top-p must be in \(0, 1\]"),
    C("top-p-negative", gen("--top-p", "-0.5"), 2, r"--top-p must be"),
    C("top-p-above-one", gen("--top-p", "1.5"), 2, r"--top-p must be"),
    C("top-p-nan", gen("--top-p", "nan"), 2, r"--top-p must be"),
    C("top-p-one", gen("--top-p", "1"), 0, None),
    C("length-zero", gen("--length", "0"), 2, r"--length must be an integer from 1"),
    C("length-negative", gen("--length", "-5"), 2, r"--length must be"),
    C("length-absurd", gen("--length", "1000000000000"), 2, r"--length must be an integer from 1 to"),
    C("num-samples-zero", gen("--num-samples", "0"), 2, r"--num-samples must be"),
    C("generate-seed-negative", gen("--seed", "-1"), 2, r"--seed must be an integer from 0"),
    C("beam-zero", gen("--beam", "0"), 2, r"--beam must be an integer from 1 to 64"),
    C("beam-absurd", gen("--beam", "1000"), 2, r"--beam must be an integer from 1 to 64"),
    C("beam-with-top-k", gen("--beam", "2", "--top-k", "3"), 2, r"--beam searches deterministically"),
    C("beam-with-greedy", gen("--beam", "2", "--greedy"), 2, r"cannot be combined with --greedy"),
    C("beam-with-temperature", gen("--beam", "2", "--temperature", "0.5"), 2, r"drop --temperature"),
    C("beam-fewer-than-samples", gen("--beam", "2", "--num-samples", "3"), 2, r"--num-samples must be at most --beam \(2\)"),
    C("stop-empty", gen("--stop", ""), 2, r"--stop must not be empty"),
    C("keep-stop-without-stop", gen("--keep-stop"), 2, r"--keep-stop needs a --stop"),
    C("beam-and-stop-fine", gen("--beam", "2", "--num-samples", "2", "--stop", "e"), 0, None),

    # ----- classification input ---------------------------------------------------------
    *(C(f"classify-train-{name}", ["train", "--task", "classify", "--corpus", f"{{files}}/{file}",
                                   "--hidden", "8", "--embedding", "8", "--max-steps", "2"],
        1, pattern, marks=marks)
      for name, file, pattern, marks in [
          ("empty-file", "empty.tsv", r"empty\.tsv: is empty", ()),
          ("binary-file", "random.tsv", r"looks binary", ()),
          ("binary-jsonl", "random.jsonl", r"looks binary", ()),
          ("header-only", "header.tsv", r"has no labelled examples", ()),
          ("ragged-csv", "ragged.csv", r"ragged\.csv:3: ragged row", ()),
          ("unterminated-quote-csv", "quote.csv", r"quote\.csv:2: malformed row \(a quote", ()),
          ("malformed-jsonl", "broken.jsonl", r"broken\.jsonl:2: invalid JSON", ()),
          ("jsonl-not-objects", "array.jsonl", r"array\.jsonl:1: expected a JSON object", ()),
          ("jsonl-text-not-string", "number.jsonl", r"field 'text' is missing or not a string", ()),
          ("one-class", "oneclass.tsv", r"needs at least two classes", ()),
          ("missing-label-cell", "nolabel.tsv", r"nolabel\.tsv:3: missing label", ()),
          ("jsonl-without-labels", "nolabel.jsonl", r"no label field", ()),
          ("three-unnamed-columns", "three.csv", r"pass --text-column and --label-column", ()),
          ("unknown-format", "plain.txt", r"cannot tell the format", ()),
          ("empty-folder", "folder", r"a labelled folder needs", ()),
          ("no-label-column", "nolabelcol.csv", r"nolabelcol\.csv: too few examples to hold any out", ()),
      ]),
    # a mistyped file is named first, before a missing model (nothing to load yet)
    C("classify-missing-file-and-no-model", ["classify", "--model", "{tmp}/no-run",
                                             "{files}/gone.txt"], 1, r"gone\.txt: no such file"),
    *(C(f"classify-input-{name}", ["classify", "--model", "{crun}", f"{{files}}/{file}"], 1, pattern,
        marks=marks)
      for name, file, pattern, marks in [
          ("empty-file", "empty.txt", r"empty\.txt: is empty", ()),
          ("binary-file", "random.bin", r"looks binary", ()),
          ("binary-csv", "random.tsv", r"looks binary", ()),
          ("malformed-jsonl", "broken.jsonl", r"broken\.jsonl:2: invalid JSON", ()),
          ("jsonl-not-objects", "array.jsonl", r"expected a JSON object", ()),
          ("csv-without-text-column", "three.csv", r"pass --text-column", ()),
          ("csv-field-over-limit", "hugefield.csv", r"hugefield\.csv:2: malformed row", ()),
          ("missing-file", "gone.txt", r"gone\.txt: no such file", ()),
          ("directory", "folder", r"is a directory", ()),
          ("unterminated-quote-csv", "quote.csv", r"quote\.csv:2: malformed row \(a quote opened here is never closed\)", ()),
      ]),

    # ----- config files -----------------------------------------------------------------
    *(C(f"config-{name}", ["train", "--config", f"{{files}}/{file}"], 2, pattern)
      for name, file, pattern in [
          ("missing", "nope.toml", r"config file not found"),
          ("directory", "folder", r"cannot read config file"),
          ("invalid-toml", "broken.toml", r"invalid TOML in .*broken\.toml: .*line 1"),
          ("not-utf8", "latin1.toml", r"cannot read config file .*latin1\.toml"),
          ("unknown-key", "unknown-key.toml", r"model: unknown key 'hiden_size'"),
          ("unknown-section", "unknown-section.toml", r"config: unknown key 'modle'"),
          ("section-not-a-table", "scalar-section.toml", r"model: expected a table of settings"),
          ("string-for-int", "string-int.toml", r"model\.hidden_size: expected int, got 'big'"),
          ("bool-for-int", "bool-int.toml", r"model\.hidden_size: expected int, got True"),
          ("float-for-int", "float-int.toml", r"train\.max_steps: expected int, got 1\.5"),
          ("date-for-int", "date.toml", r"train\.seed: expected int, got datetime"),
          ("int-for-string", "int-str.toml", r"model\.cell: expected str, got 3"),
          ("nan-rate", "nan.toml", r"--lr must be a positive finite number; got nan"),
          ("out-of-range", "zero.toml", r"--hidden must be an integer from 1"),
          ("unknown-task", "task.toml", r"--task must be one of lm, classify"),
          ("unknown-choice", "choice.toml", r"--cell must be one of rnn, lstm, gru"),
      ]),
]

CONFIGS = {
    "ok.toml": "[model]\nhidden_size = 16\n",
    "broken.toml": "[model\nhidden_size = 3\n",
    "unknown-key.toml": "[model]\nhiden_size = 16\n",
    "unknown-section.toml": "[modle]\nhidden_size = 16\n",
    "scalar-section.toml": "model = 3\n",
    "string-int.toml": "[model]\nhidden_size = 'big'\n",
    "bool-int.toml": "[model]\nhidden_size = true\n",
    "float-int.toml": "[train]\nmax_steps = 1.5\n",
    "date.toml": "[train]\nseed = 1979-05-27\n",
    "int-str.toml": "[model]\ncell = 3\n",
    "nan.toml": "[train]\nlr = nan\n",
    "zero.toml": "[model]\nhidden_size = 0\n",
    "task.toml": "task = 'translate'\n",
    "choice.toml": "[model]\ncell = 'transformer'\n",
}


def _write_files(files: Path) -> None:
    put = lambda name, data: (files / name).write_bytes(data if isinstance(data, bytes)  # noqa: E731
                                                          else data.encode("utf-8"))
    rng = torch.Generator().manual_seed(0)
    noise = bytes(torch.randint(0, 256, (4096,), generator=rng, dtype=torch.uint8).tolist())
    (files / "folder").mkdir()
    (files / "folder" / "stray.bin").write_bytes(b"\x00")
    put("empty.txt", b"")
    put("blank.txt", "   \n\n\t\n")
    put("random.bin", noise)
    put("nul.txt", "some text\x00 with a NUL\n" * 20)
    put("utf16le.txt", ("the time machine\n" * 20).encode("utf-16-le"))
    put("utf16bom.txt", tiny_text(4).encode("utf-16"))
    put("cp1252.txt", tiny_text(4).replace("the", "thé — “the”").encode("cp1252"))
    put("short.txt", "abcde\n")
    put("three.txt", "abc")
    put("twenty.txt", "abcdefghij" * 2)
    put("oneline.txt", "the time traveller looked at the machine " * 27000)  # > 1 MiB chunk
    # classification inputs
    put("empty.tsv", b"")
    put("random.tsv", noise)
    put("random.jsonl", noise)
    put("header.tsv", "text\tlabel\n")
    put("ragged.csv", "text,label\ngood film,pos\nbad film\n")
    put("quote.csv", 'text,label\n"unterminated,pos\nfine film,neg\n')
    put("broken.jsonl", '{"text": "good", "label": "pos"}\n{oops\n')
    put("array.jsonl", "[1, 2]\n")
    put("number.jsonl", '{"text": 3, "label": "pos"}\n')
    put("oneclass.tsv", "text\tlabel\n" + "a good film\tpos\n" * 10)
    put("nolabel.tsv", "text\tlabel\ngood film\tpos\nbad film\t\nfine film\tneg\n")
    put("nolabel.jsonl", '{"text": "good"}\n{"text": "bad"}\n')
    put("three.csv", "a,b,c\n1,2,3\n")
    put("plain.txt", "good film\nbad film\n")
    put("nolabelcol.csv", "text,other\ngood film,x\nbad film,y\n")
    put("hugefield.csv", "text,label\n" + "x" * 200_000 + ",pos\ny,neg\n")
    for name, text in CONFIGS.items():
        put(name, text)
    put("latin1.toml", "[model]\ncell = 'caf\xe9'\n".encode("latin-1"))


def _bad_runs(run: Path, bad: Path) -> None:
    """Copies of a good run, each broken in one way."""
    from seqcli.training import checkpoint as ckpt

    def copy(name, change):
        target = bad / name
        shutil.copytree(run, target)
        change(target)

    def config(update):
        def change(d):
            data = json.loads((d / "config.json").read_text())
            update(data)
            (d / "config.json").write_text(json.dumps(data))
        return change

    def truncate(name):
        return lambda d: (d / name).write_bytes((d / name).read_bytes()[:len((d / name).read_bytes()) // 2])

    def flip(d):
        data = bytearray((d / "best.pt").read_bytes())
        for k in range(len(data) // 3, len(data) // 3 + 16):
            data[k] ^= 0xFF
        (d / "best.pt").write_bytes(bytes(data))

    def weights(change_state):
        def change(d):
            payload = ckpt.load_checkpoint(d / "best.pt")
            payload["model"] = change_state(payload["model"])
            torch.save(payload, d / "best.pt")
        return change

    (bad / "empty-dir").mkdir()
    copy("no-checkpoint", lambda d: [(d / n).unlink() for n in ("best.pt", "last.pt")])
    copy("truncated-best", truncate("best.pt"))
    copy("truncated-last", truncate("last.pt"))
    copy("empty-best", lambda d: (d / "best.pt").write_bytes(b""))
    copy("random-best", lambda d: (d / "best.pt").write_bytes(os.urandom(3000)))
    copy("flipped-best", flip)
    copy("nan-weights", weights(lambda s: {k: torch.full_like(v, float("nan")) for k, v in s.items()}))
    copy("foreign-best", lambda d: torch.save({"weights": [1, 2, 3]}, d / "best.pt"))
    copy("newer-checkpoint", lambda d: torch.save({"format_version": 2, "model": {}}, d / "best.pt"))
    copy("newer-config", config(lambda c: c.update(format_version=99)))
    copy("truncated-config", truncate("config.json"))
    copy("config-types", config(lambda c: c.update(meta=["not", "a", "table"])))
    copy("config-invalid", config(lambda c: c["config"]["model"].update(hidden_size=0)))
    copy("other-architecture", config(lambda c: c["config"]["model"].update(hidden_size=24)))
    copy("no-tokenizer", lambda d: (d / "tokenizer.json").unlink())
    copy("bad-tokenizer", truncate("tokenizer.json"))
    copy("other-tokenizer", lambda d: (d / "tokenizer.json").write_text(json.dumps(
        {"kind": "char", "version": 1, "vocab": [chr(0x4E00 + i) for i in range(90)]})))


def _invoke(argv, env):
    return CliRunner().invoke(app, [str(a) for a in argv], env=env)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalogue")
    paths = {k: root / k for k in ("files", "runs", "bad", "mirror", "cache", "tmp")}
    for p in paths.values():
        p.mkdir()
    _write_files(paths["files"])
    (paths["mirror"] / "timemachine.txt").write_text("not the registry's file\n")
    from seqcli.data.registry import get_corpus

    for file in get_corpus("rt-polarity").files:  # the right sizes (all a mirror checks)
        (paths["mirror"] / file.path).parent.mkdir(parents=True, exist_ok=True)
        with open(paths["mirror"] / file.path, "wb") as handle:
            handle.truncate(file.size)
    corpus = paths["files"] / "tiny.txt"
    corpus.write_text(tiny_text(), encoding="utf-8")
    env = {"SEQCLI_RUNS": str(paths["runs"]), "SEQCLI_CACHE": str(paths["cache"]),
           "SEQCLI_DATA": str(root / "no-mirror")}
    made = {}
    for name, extra in (("run", []), ("wordrun", ["--tokenizer", "word"])):
        result = _invoke(["train", "--corpus", corpus, *TINY, *extra, "--out",
                          paths["runs"] / name, "--format", "json"], env)
        assert result.exit_code == 0, result.output
        made[name] = paths["runs"] / name
    _bad_runs(made["run"], paths["bad"])
    values = {k: str(v) for k, v in {**paths, **made, "corpus": corpus}.items()}
    return root, values, env


@pytest.fixture(scope="module")
def classifier_run(workspace):
    """A tiny classifier, only for the `seqcli classify` cases."""
    root, values, env = workspace
    data = Path(values["files"]) / "reviews.tsv"
    rows = "".join(f"a {w} film {i}\t{label}\n" for i in range(12)
                   for w, label in (("good", "pos"), ("bad", "neg")))
    data.write_text("text\tlabel\n" + rows)
    result = _invoke(["train", "--task", "classify", "--corpus", data, "--hidden", "8",
                      "--embedding", "8", "--batch-size", "8", "--max-steps", "2",
                      "--eval-every", "2", "--out", Path(values["tmp"]) / "crun", "--format",
                      "json"], env)
    assert result.exit_code == 0, result.output
    return str(Path(values["tmp"]) / "crun")


def _tree(root: Path, files_only: bool = False) -> dict[str, tuple[int, int]]:
    """Every path under root with its size and modification time: any write shows up."""
    return {str(p.relative_to(root)): (p.stat().st_size if p.is_file() else -1, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() or not files_only}


@pytest.fixture
def network(monkeypatch):
    """No test here touches the network: a download gets an error, or the wrong bytes."""
    mode = {"value": "offline"}

    def fake_open(url, timeout):
        if mode["value"] == "wrong-bytes":
            return io.BytesIO(b"these are not the bytes the registry expects\n" * 10)
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(dl, "_open_url", fake_open)
    return mode


def _params():
    for case in CASES:
        yield pytest.param(case, id=case.id, marks=case.marks)


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input(case: Case, workspace, network, request):
    root, values, env = workspace
    if "{crun}" in " ".join(case.argv):
        values = {**values, "crun": request.getfixturevalue("classifier_run")}
    argv = [a.format(**values) for a in case.argv]
    env = {**env, **{k: v.format(**values) for k, v in case.env.items()}}
    network["value"] = case.net
    files_only = case.net != "offline"  # a refused download may leave an empty cache folder
    before = _tree(root, files_only)
    result = _invoke(argv, env)
    stderr = result.stderr
    assert "Traceback" not in result.output and "Traceback" not in stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert result.exit_code == case.code, f"exit {result.exit_code}; stderr: {stderr}"
    if case.code != 0:
        lines = stderr.strip().splitlines()
        if case.progress:  # only the final state of a progress bar may come before the error
            lines = [line for line in lines if "━" not in line]
        assert len(lines) == 1, f"expected one line on stderr, got: {stderr}"
        assert lines[0].startswith("error: "), lines[0]
    if case.pattern:
        assert re.search(case.pattern, " ".join(stderr.split()), re.S), stderr
    if case.stdout:
        assert re.search(case.stdout, result.stdout), result.stdout
    if not case.writes:
        assert _tree(root, files_only) == before, "the command wrote or changed files"
    if case.net == "wrong-bytes":  # the mismatching download left no temp or final file
        assert [p for p in Path(values["cache"]).rglob("*") if p.is_file()] == []


def test_debug_shows_the_traceback(workspace, network):
    """The one exception to "no traceback": --debug re-raises for the developer."""
    root, values, env = workspace
    result = _invoke(["--debug", "generate", "--model", values["bad"] + "/truncated-best"], env)
    assert result.exit_code != 0
    from seqcli.errors import CheckpointError

    assert isinstance(result.exception, CheckpointError)


def test_unexpected_errors_are_one_line_too(workspace, network, monkeypatch):
    """A bug (an exception seqcli did not foresee) still gives one line and exit 1."""
    root, values, env = workspace
    import seqcli.lm.generate as generate_lib  # the CLI imports it when the command runs

    def boom(*args, **kwargs):
        raise ZeroDivisionError("something nobody expected")

    monkeypatch.setattr(generate_lib, "generate_samples", boom)
    result = _invoke(["generate", "--model", values["run"], "--length", "3"], env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unexpected ZeroDivisionError" in lines[0] and "--debug" in lines[0]


def test_runs_list_shows_only_runs_whose_config_loads(workspace, network):
    root, values, env = workspace
    result = _invoke(["runs", "list", "--format", "json"], {**env, "SEQCLI_RUNS": values["bad"]})
    assert result.exit_code == 0, result.output
    listed = {Path(r["path"]).name for r in json.loads(result.stdout)}
    assert "truncated-best" in listed  # its weights are loaded (and refused) only when used
    assert not listed & {"empty-dir", "no-checkpoint", "truncated-config", "config-types",
                         "config-invalid", "newer-config"}
