"""Peak memory of `seqcli train` on a 100 MB text corpus (target: peak RSS <= 1 GB).

    SEQCLI_DATA=/path/to/corpora python benchmarks/memory_100mb.py [--size-mb 100] [--max-steps 3]
        [--threads 1] [--whole-text] [-- EXTRA TRAIN ARGS]

The corpus is built at run time in a temporary directory (the lines of the local corpora,
reshuffled on each pass until the file holds --size-mb; never written into the repository).
Then the real CLI trains on it in a child process, with the default model and data settings,
for a few steps plus an evaluation of a few validation batches (``eval_batches`` through a
--config file); the child's peak resident set comes from ``wait4``'s rusage. The validation
part is a thousandth of the text (``--val-fraction 0.001``): a run scores its kept weights on
the whole validation split at the end, which for a tenth of 100 MB would take minutes and
measure nothing more (train and validation ids are held in memory alike).

``--whole-text`` also measures, in another child, the preparation the way seqcli did it before
streaming (the whole file as one string, lower-cased, split, encoded chunk by chunk), so the
report shows what streaming saves. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIMIT_MB = 1024

WHOLE_TEXT = """
import sys
from seqcli.data.text import read_text
from seqcli.data.ids import ids_tensor
from seqcli.lm.batches import split_text
from seqcli.data.tokenizers import train_tokenizer
from seqcli.lm.streams import encode_chunks
text = read_text(sys.argv[1])
train, val = split_text(text, 0.1)
tok = train_tokenizer("char", [train])
ids = ids_tensor(encode_chunks(tok, train), tok.vocab_size)
vids = ids_tensor(encode_chunks(tok, val), tok.vocab_size)
print(ids.numel(), vids.numel())
"""


def run_measured(command: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """Run a child; return (exit code, peak RSS in MB, seconds, stdout)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, env=env, stdout=out)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, seconds, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=100)
    parser.add_argument("--max-steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--whole-text", action="store_true")
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()

    from seqcli.bench.data import build_large_corpus

    data_dir = os.environ.get("SEQCLI_DATA")
    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    with tempfile.TemporaryDirectory(prefix="seqcli-100mb-") as tmp:
        tmp_path = Path(tmp)
        corpus = build_large_corpus(tmp_path / "corpus.txt", int(args.size_mb * 1e6),
                                    Path(data_dir) if data_dir else None, None)
        config = tmp_path / "memory.toml"
        config.write_text("[train]\neval_batches = 4\neval_every = 1000000\n")
        command = [sys.executable, "-m", "seqcli", "train", "--corpus", str(corpus),
                   "--max-steps", str(args.max_steps), "--config", str(config),
                   "--val-fraction", "0.001",
                   "--out", str(tmp_path / "run"), "--format", "json", *args.extra]
        code, peak, seconds, out = run_measured(command, env)
        summary = json.loads(out) if code == 0 and out.strip() else {}
        run_config = tmp_path / "run" / "config.json"
        meta = json.loads(run_config.read_text())["meta"] if run_config.exists() else {}
        report = {"corpus_bytes": corpus.stat().st_size, "command": " ".join(command[1:]),
                  "exit_code": code, "peak_rss_mb": round(peak, 1), "limit_mb": LIMIT_MB,
                  "within_limit": code == 0 and peak <= LIMIT_MB, "seconds": round(seconds, 1),
                  "train_tokens": meta.get("train_tokens"), "val_tokens": meta.get("val_tokens"),
                  "tokens_per_second": summary.get("tokens_per_second"),
                  "threads": args.threads or "default"}
        if args.whole_text:
            whole = [sys.executable, "-c", WHOLE_TEXT, str(corpus)]
            code, peak, seconds, _ = run_measured(whole, env)
            report["whole_text_preparation"] = {"exit_code": code, "peak_rss_mb": round(peak, 1),
                                                "seconds": round(seconds, 1)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
