"""Export speed (issue 14): how long `seqcli export` takes, how big the files are, and how fast
onnxruntime and TorchScript run them against the PyTorch model they were exported from.

    python benchmarks/export_speed.py [--rounds 7] [--tokens 200] [--threads 1] [--quick]

Models have the default shapes of seqcli.config (the language model: a 256-unit LSTM over a
64-wide embedding and a character vocabulary of --lm-vocab; the classifier: a 128-unit BiLSTM
over a 128-wide embedding, max pooling, 16384 subword buckets, a wide side of 262144 n-gram
buckets and a --clf-vocab word vocabulary),
with untrained weights: speed does not depend on what the weights learned. Measured:

- export: seconds for `export_run` (trace or export, then the verification), file bytes, the
  verification's max |error|;
- generation: milliseconds per token at batch 1 with the state carried (the step
  `seqcli generate` takes after the prime), PyTorch (generate's own call, no_grad) against
  onnxruntime and TorchScript;
- classification: texts per second on batches of --batch texts of 15-25 tokens with subword
  n-grams, PyTorch (`predict`'s call) against onnxruntime and TorchScript.

Candidates are interleaved by seqcli bench's own timing (seqcli/bench/timing.py): each round
runs every candidate once, in rotating order, and the median round is reported, so a busy
machine slows all of them alike. onnxruntime gets as many
intra-op threads as torch. `--quick` is a smoke run of tiny shapes (tests/bench). Prints one
JSON document.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from seqcli.bench.timing import Candidate, interleave
from seqcli.config import default_config, with_overrides
from seqcli.data.tokenizers import CharTokenizer, train_tokenizer
from seqcli.device import place
from seqcli.export.exporter import export_run
from seqcli.models.builder import build_model
from seqcli.runs import LoadedRun, write_run_files


def make_run(folder: Path, task: str, vocab: int, quick: bool) -> LoadedRun:
    """A run directory of the task's default shape (tiny with --quick), untrained."""
    config = default_config(task)
    if quick:
        config = with_overrides(config, {("model", "hidden_size"): 16,
                                         ("model", "embedding_size"): 8,
                                         ("model", "subwords"): 64 if task == "classify" else 0,
                                         ("model", "wide"): 256 if task == "classify" else 0})
    if task == "lm":
        tokenizer = CharTokenizer([chr(0x100 + i) for i in range(vocab - 2)])
    else:
        words = [f"w{i}" for i in range(vocab)]
        tokenizer = train_tokenizer("word", [" ".join(words)], vocab_size=vocab)
    labels = ["negative", "positive"] if task == "classify" else []
    model = build_model(config, tokenizer.vocab_size, len(labels)).eval()
    folder.mkdir(parents=True)
    write_run_files(folder, config, tokenizer, {"labels": labels})
    return LoadedRun(folder, config, {"labels": labels}, tokenizer, model, place("cpu", "fp32"))


def timed_export(run: LoadedRun, path: Path) -> dict:
    start = time.perf_counter()
    report = export_run(run, path)
    return {"seconds": round(time.perf_counter() - start, 3), "bytes": report["bytes"],
            "max_abs_error": report["verified"]["max_abs_error"]}


def median_seconds(candidates: dict, rounds: int, items: int) -> dict:
    """{name: seconds per item in the median round}; each call does `items` (tokens, texts)."""
    def counted(call):
        return lambda: (call(), items)[1]

    timed = [Candidate(name, counted(call)) for name, call in candidates.items()]
    tallies = interleave(timed, rounds=rounds, repeats=1, warmup=1)
    return {name: tally.median_item_seconds for name, tally in tallies.items()}


def session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def generation(run: LoadedRun, files: dict, tokens: int, threads: int) -> dict:
    """A closure per candidate generating `tokens` tokens greedily, one step each."""
    layers, hidden = run.config.model.num_layers, run.config.model.hidden_size
    states = 2 if run.config.model.cell == "lstm" else 1
    onnx, script = session(files["onnx"], threads), torch.jit.load(str(files["torchscript"]))
    names = [i.name for i in onnx.get_inputs()]

    @torch.no_grad()
    def pytorch():
        logits, state = run.model(torch.tensor([[2]]), None)
        for _ in range(tokens):
            logits, state = run.model(logits[:, -1].argmax(-1, keepdim=True), state)

    def onnxruntime():
        feeds = dict(zip(names[1:], [np.zeros((layers, 1, hidden), np.float32)] * states))
        ids = np.array([[2]], np.int64)
        for _ in range(tokens):
            logits, *state = onnx.run(None, {"ids": ids, **feeds})
            feeds, ids = dict(zip(names[1:], state)), logits[:, -1:].argmax(-1)

    @torch.no_grad()
    def torchscript():
        out = script(torch.tensor([[2]]), *[torch.zeros(layers, 1, hidden)] * states)
        for _ in range(tokens):
            out = script(out[0][:, -1].argmax(-1, keepdim=True), *out[1:])

    return {"pytorch": pytorch, "onnxruntime": onnxruntime, "torchscript": torchscript}


def classification(run: LoadedRun, files: dict, batch: int, threads: int) -> dict:
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(15, 26, (batch,), generator=generator)
    ids = torch.randint(2, run.tokenizer.vocab_size, (batch, int(lengths.max())),
                        generator=generator)
    ids[torch.arange(ids.shape[1]) >= lengths.unsqueeze(1)] = 0
    ngrams = torch.randint(1, run.config.model.subwords, (*ids.shape, 12), generator=generator)
    ngrams *= (ids != 0).unsqueeze(-1)
    inputs = (ids, lengths, ngrams)
    feeds = {"ids": ids.numpy(), "lengths": lengths.numpy(), "ngrams": ngrams.numpy()}
    if run.config.model.wide:  # each text's word uni+bigram buckets, 0-padded (~2 per word)
        wide = torch.randint(1, run.config.model.wide, (batch, 2 * int(lengths.max())),
                             generator=generator)
        wide[torch.arange(wide.shape[1]) >= 2 * lengths.unsqueeze(1)] = 0
        inputs, feeds = (*inputs, wide), {**feeds, "wide": wide.numpy()}
    onnx, script = session(files["onnx"], threads), torch.jit.load(str(files["torchscript"]))
    return {"pytorch": lambda: run.model(*inputs), "onnxruntime": lambda: onnx.run(None, feeds),
            "torchscript": lambda: script(*inputs)}  # timed under no_grad (measure)


def measure(task: str, args, folder: Path) -> dict:
    run = make_run(folder / task, task, args.lm_vocab if task == "lm" else args.clf_vocab,
                   args.quick)
    files = {"onnx": folder / "out" / task / "model.onnx",
             "torchscript": folder / "out" / task / "model.pt"}
    exports = {fmt: timed_export(run, path) for fmt, path in files.items()}
    threads = torch.get_num_threads()
    if task == "lm":
        seconds = median_seconds(generation(run, files, args.tokens, threads), args.rounds,
                                 args.tokens)
        speed = {name: round(s * 1e3, 4) for name, s in seconds.items()}
        unit = "ms_per_token"
    else:
        with torch.no_grad():
            seconds = median_seconds(classification(run, files, args.batch, threads),
                                     args.rounds, args.batch)
        speed = {name: round(1 / s, 1) for name, s in seconds.items()}
        unit = "texts_per_second"
    m = run.config.model
    faster = {f"{name} / pytorch": round((speed["pytorch"] / value) if task == "lm"
                                         else (value / speed["pytorch"]), 2)
              for name, value in speed.items() if name != "pytorch"}
    return {"shape": {"cell": m.cell, "layers": m.num_layers, "hidden": m.hidden_size,
                      "embedding": m.embedding_size, "bidirectional": m.bidirectional,
                      "vocab": run.tokenizer.vocab_size, "subwords": m.subwords,
                      "wide": m.wide},
            "export": exports, unit: speed, "speedup": faster}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--tokens", type=int, default=200, help="tokens generated per round")
    p.add_argument("--batch", type=int, default=64, help="texts per classification batch")
    p.add_argument("--lm-vocab", type=int, default=64)
    p.add_argument("--clf-vocab", type=int, default=16000)
    p.add_argument("--threads", type=int, default=None, help="torch and onnxruntime threads")
    p.add_argument("--quick", action="store_true", help="tiny shapes, few calls: a smoke run")
    args = p.parse_args()
    if args.quick:
        args.rounds, args.tokens, args.batch, args.clf_vocab = 2, 3, 4, 50
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        results = {task: measure(task, args, Path(folder)) for task in ("lm", "classify")}
    print(json.dumps({"threads": torch.get_num_threads(), "rounds": args.rounds,
                      "torch": torch.__version__, "onnxruntime": ort.__version__,
                      "quick": args.quick, **results}, indent=2))


if __name__ == "__main__":
    main()
