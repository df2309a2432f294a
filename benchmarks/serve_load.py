"""Load on `seqcli serve` (issue 27): N concurrent streaming clients, classification under
32 clients against `seqcli classify`'s batch run, and a soak of good and bad requests.

    python benchmarks/serve_load.py [--lm DIR] [--clf DIR] [--clients 1,8,32,128]
                                    [--seconds 20] [--max-tokens 200] [--soak MINUTES] [--quick]

The server is the real command (`python -m seqcli serve --port 0 ...`) in its own process, on
127.0.0.1 only; the clients are threads of this process speaking HTTP. Without --lm/--clf the
runs have the default shapes (a 256-unit character LSTM over a 64-wide embedding; the
128-unit BiLSTM classifier with 16384 subword buckets and its wide side), untrained: speed
does not depend on what the weights learned. Reported, per number of clients N (each client
streams completions of --max-tokens tokens back to back for --seconds):

- tokens/s over all clients, and its ratio to N = 1 (target: >= 15x at N = 32);
- time to first token and inter-token latency, p50 and p99 (target: TTFT p50 < 50 ms, N = 1);
- classification: texts/s with 32 clients posting one text each, against the texts/s of
  `predict` (what `seqcli classify` runs) on the same texts in one batch, in this process
  (`ratio`, target: >= 0.7x), and of the whole `seqcli classify` command, start-up and
  loading included (`ratio_to_cli`);
- --soak MINUTES: a mix of good and bad requests from 16 clients; the count of each status
  (target: no 5xx) and the server's resident memory at the start and the end (flat within 10%).

Every loop stops by itself at its deadline. `--quick` is a smoke run with tiny shapes.
Prints one JSON document; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from seqcli.classify.predict import predict
from seqcli.config import default_config, with_overrides
from seqcli.data.tokenizers import CharTokenizer, train_tokenizer
from seqcli.models.builder import build_model
from seqcli.runs import LoadedRun, load_run, write_run_files
from seqcli.training.checkpoint import BEST_FILE, KEY_MODEL, save_checkpoint

PROMPT = "the time traveller "
WORDS = "a the film story cast plot great awful lovely dull warm long moving boring".split()


def make_run(folder: Path, task: str, quick: bool) -> Path:
    """An untrained run directory of the task's default shape (tiny with --quick)."""
    config = default_config(task)
    if quick:
        config = with_overrides(config, {("model", "hidden_size"): 16,
                                         ("model", "embedding_size"): 8,
                                         ("model", "subwords"): 64 if task == "classify" else 0})
    if task == "lm":
        tokenizer = CharTokenizer(sorted(set("abcdefghijklmnopqrstuvwxyz ,.;'\n")))
    else:
        tokenizer = train_tokenizer("word", [" ".join(WORDS)])
    labels = ["negative", "positive"] if task == "classify" else []
    model = build_model(config, tokenizer.vocab_size, len(labels))
    folder.mkdir(parents=True)
    write_run_files(folder, config, tokenizer, {"labels": labels})
    save_checkpoint(folder / BEST_FILE, {KEY_MODEL: model.state_dict()})
    return folder


def start_server(models: list[Path], max_rows: int) -> tuple[subprocess.Popen, int]:
    command = [sys.executable, "-m", "seqcli", "serve", "--port", "0", "--max-rows",
               str(max_rows), "--max-queue", "1024", "--max-texts", "1024"]
    for model in models:
        command += ["--model", str(model)]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not found:
        proc.kill()
        sys.exit(f"the server did not start: {line}{proc.stderr.read()}")
    port = int(found.group(1))
    until = time.monotonic() + 120
    while time.monotonic() < until:
        try:
            if request(port, "GET", "/health")[0] == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("the server did not become ready")


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def stream_once(port: int, max_tokens: int, until: float, seed: int) -> dict:
    """One streamed completion: its tokens, time to first token, gaps between tokens."""
    body = json.dumps({"prompt": PROMPT, "max_tokens": max_tokens, "stream": True,
                       "seed": seed, "stream_options": {"include_usage": True}})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started, stamps, tokens = time.monotonic(), [], 0
    try:
        connection.request("POST", "/v1/completions", body)
        response = connection.getresponse()
        for line in response:
            if not line.startswith(b"data: {"):
                continue
            event = json.loads(line[6:])
            if event.get("usage"):
                tokens = event["usage"]["completion_tokens"]
            elif event.get("choices") and event["choices"][0]["text"]:
                stamps.append(time.monotonic())
            if time.monotonic() > until:
                tokens = len(stamps)  # cut at the deadline: count what arrived
                break
    finally:
        connection.close()
    return {"tokens": tokens or len(stamps), "ttft": stamps[0] - started if stamps else None,
            "gaps": [b - a for a, b in zip(stamps, stamps[1:])]}


def generation(port: int, clients: int, seconds: float, max_tokens: int) -> dict:
    until = time.monotonic() + seconds
    results: list[dict] = []

    def client(k: int) -> None:
        while time.monotonic() < until:
            results.append(stream_once(port, max_tokens, until, random.randrange(2**31)))

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    elapsed = time.monotonic() - started
    ttft = [r["ttft"] for r in results if r["ttft"] is not None]
    gaps = [g for r in results for g in r["gaps"]]
    return {"clients": clients, "seconds": round(elapsed, 2), "requests": len(results),
            "tokens_per_s": round(sum(r["tokens"] for r in results) / elapsed, 1),
            "ttft_ms": percentiles(ttft), "inter_token_ms": percentiles(gaps)}


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p99": None}
    ordered = sorted(values)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": round(at(0.5) * 1000, 2), "p99": round(at(0.99) * 1000, 2)}


def classification(port: int, clf: Path, seconds: float, clients: int = 32) -> dict:
    rng = random.Random(0)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30))) for _ in range(2000)]
    run: LoadedRun = load_run(clf, device="auto", precision="auto")
    started = time.monotonic()
    list(predict(run, texts))  # what `seqcli classify` runs, on all the texts in one go
    batch_rate = len(texts) / (time.monotonic() - started)
    cli_rate = cli_classify_rate(clf, texts)
    until, done = time.monotonic() + seconds, [0]
    lock = threading.Lock()

    def client(k: int) -> None:
        i = k
        while time.monotonic() < until:
            body = json.dumps({"input": texts[i % len(texts)]}).encode()
            if request(port, "POST", "/v1/classify", body)[0] == 200:
                with lock:
                    done[0] += 1
            i += clients

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    served_rate = done[0] / (time.monotonic() - started)
    return {"clients": clients, "texts_per_s": round(served_rate, 1),
            "batch_texts_per_s": round(batch_rate, 1),
            "ratio": round(served_rate / batch_rate, 3),
            "cli_texts_per_s": round(cli_rate, 1), "ratio_to_cli": round(served_rate / cli_rate, 3)}


def cli_classify_rate(clf: Path, texts: list[str]) -> float:
    """Texts/s of the `seqcli classify` command on the texts, start-up and loading included."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "texts.txt"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "seqcli", "classify", str(path), "--model",
                        str(clf), "--format", "jsonl"], check=True, stdout=subprocess.DEVNULL)
        return len(texts) / (time.monotonic() - started)


SOAK = [  # (method, path, body): good requests and bad ones, in a fixed mix
    ("POST", "/v1/completions", b'{"prompt": "the ", "max_tokens": 50}'),
    ("POST", "/v1/completions", b'{"prompt": "the ", "max_tokens": 30, "stream": true}'),
    ("POST", "/v1/classify", b'{"input": ["a great film", "a dull plot"]}'),
    ("POST", "/v1/score", b'{"input": "the time traveller"}'),
    ("POST", "/v1/completions", b'{"prompt": "the'),
    ("POST", "/v1/completions", b'{"prompt": "a", "max_tokens": -4}'),
    ("POST", "/v1/completions", b'{"prompt": "a", "bogus": 1}'),
    ("POST", "/v1/classify", b'\xff\xfe'),
    ("GET", "/nowhere", None),
    ("GET", "/metrics", None),
]


def soak(proc: subprocess.Popen, port: int, minutes: float, clients: int = 16) -> dict:
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    start_rss, until = rss_kb(proc.pid), time.monotonic() + minutes * 60

    def client(k: int) -> None:
        rng = random.Random(k)
        while time.monotonic() < until:
            method, path, body = rng.choice(SOAK)
            try:
                status = str(request(port, method, path, body)[0])
            except OSError as err:
                status = type(err).__name__
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    end_rss = rss_kb(proc.pid)
    return {"minutes": minutes, "statuses": statuses,
            "errors_5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
            "rss_kb_start": start_rss, "rss_kb_end": end_rss,
            "rss_growth": round(end_rss / start_rss - 1, 4)}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lm", type=Path, help="language-model run (default: untrained, "
                                                "default shape)")
    parser.add_argument("--clf", type=Path, help="classifier run (default: untrained)")
    parser.add_argument("--clients", default="1,8,32,128", help="numbers of clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="per number of clients")
    parser.add_argument("--max-tokens", type=int, default=200, help="tokens per completion")
    parser.add_argument("--soak", type=float, default=0.0, help="minutes of good and bad "
                                                                 "requests after the rest")
    parser.add_argument("--quick", action="store_true", help="tiny shapes, short runs")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    if args.quick:
        counts, args.seconds, args.max_tokens = [1, 4], 1.0, 20
    with tempfile.TemporaryDirectory() as folder:
        lm = args.lm or make_run(Path(folder) / "lm", "lm", args.quick)
        clf = args.clf or make_run(Path(folder) / "clf", "classify", args.quick)
        proc, port = start_server([lm, clf], max_rows=max(counts))
        try:
            report = {"generation": [], "max_tokens": args.max_tokens}
            for n in counts:
                print(f"generation, {n} client(s)...", file=sys.stderr)
                report["generation"].append(generation(port, n, args.seconds, args.max_tokens))
            base = report["generation"][0]["tokens_per_s"] or 1
            report["ratios"] = {f"{r['clients']}/1": round(r["tokens_per_s"] / base, 2)
                                for r in report["generation"]}
            print("classification...", file=sys.stderr)
            report["classification"] = classification(port, clf, args.seconds,
                                                       4 if args.quick else 32)
            if args.soak:
                print(f"soak, {args.soak} minute(s)...", file=sys.stderr)
                report["soak"] = soak(proc, port, args.soak)
        finally:
            proc.terminate()
            report_exit = proc.wait(timeout=30)
    report["server_exit_code"] = report_exit
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
