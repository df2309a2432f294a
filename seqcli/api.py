"""The Python API: ``seqcli.train(...)`` and ``seqcli.load(path)`` return a `Run`.

The same functions sit under the command line (seqcli/pipeline.py, seqcli/runs.py, the task
packages), so a notebook and a terminal train, sample and score identically. Keyword settings
are the config's field names, flat (``hidden_size=512``, ``lr=1e-3``): the names of the TOML
config file. Silent unless asked (``progress=True``); errors are `seqcli.SeqcliError`s with the
one-line message the CLI prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console

from seqcli import pipeline
from seqcli.classify.evaluate import evaluate_classifier
from seqcli.classify.explain import Explanation, explain
from seqcli.classify.predict import Prediction, predict
from seqcli.config import (RunConfig, SampleConfig, config_from_toml, default_config,
                           flat_overrides, load_toml)
from seqcli.errors import UsageError
from seqcli.export.exporter import export_run
from seqcli.lm.evaluate import evaluate_language_model
from seqcli.lm.decoding import Sample
from seqcli.lm.generate import check_left_to_right, generate_samples
from seqcli.lm.inspect import Inspection, inspect_text
from seqcli.lm.score import TextScore, score_texts
from seqcli.locations import Locations, from_environment
from seqcli.runs import LoadedRun, load_run, read_summary
from seqcli.training.reporting import Reporter, RichReporter

SAMPLING = SampleConfig()  # the sampling defaults, shared with `seqcli generate`
PROGRESS_FIELDS = {"lm": ("loss", "ppl", "tok/s", "lr"), "classify": ("loss", "texts/s", "lr")}


class Run:
    """A run directory loaded for use: sample, classify, score, or train it further."""

    def __init__(self, loaded: LoadedRun, locations: Locations):
        self._loaded, self.locations = loaded, locations

    path = property(lambda self: self._loaded.path)
    task = property(lambda self: self._loaded.task)
    config = property(lambda self: self._loaded.config)
    model = property(lambda self: self._loaded.model)
    tokenizer = property(lambda self: self._loaded.tokenizer)
    labels = property(lambda self: self._loaded.labels)
    placement = property(lambda self: self._loaded.placement)  # device and precision

    @property
    def summary(self) -> dict[str, Any] | None:
        """summary.json: how training ended (None while it is unfinished)."""
        return read_summary(self.path)

    def __repr__(self) -> str:
        return f"seqcli.Run({str(self.path)!r}, task={self.task!r})"

    def generate(self, prime: str = "", *, length: int = SAMPLING.length,
                 temperature: float | None = SAMPLING.temperature,
                 top_k: int | None = SAMPLING.top_k,
                 top_p: float | None = SAMPLING.top_p, greedy: bool = SAMPLING.greedy,
                 seed: int | None = SAMPLING.seed,
                 num_samples: int = SAMPLING.num_samples, beam: int | None = SAMPLING.beam,
                 stop: str | Iterable[str] = SAMPLING.stop,
                 keep_stop: bool = SAMPLING.keep_stop,
                 return_details: bool = False) -> str | list[str] | Sample | list[Sample]:
        """Continue `prime` (the result begins with it); a list when ``num_samples > 1``.

        The samples are drawn as one batch; sample i uses ``seed + i`` (the text that seed
        gives alone). ``beam=N`` searches instead (deterministic; ``num_samples <= N`` best
        beams). A text ends where it first contains a `stop` string, cut off unless
        `keep_stop`. The text is always valid UTF-8, whatever the tokenizer. With
        `return_details`, `seqcli.Sample`s instead of strings: the text and what
        ``seqcli generate --format json`` says of it (`stopped`, `new_tokens`, beams'
        `score`). As `seqcli generate`; see seqcli/lm/generate.py.
        """
        self._need("lm")
        check_left_to_right(self.config.data, self.path)
        stops = (stop,) if isinstance(stop, str) else tuple(stop)
        config = SampleConfig(length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                              greedy=greedy, num_samples=num_samples, seed=seed, beam=beam,
                              stop=stops, keep_stop=keep_stop)
        loaded = self._loaded
        samples = generate_samples(loaded.model, loaded.tokenizer, prime, config,
                                   loaded.placement)
        found = samples if return_details else [s.text for s in samples]
        return found if num_samples > 1 else found[0]

    def inspect(self, text: str, *, layer: int | None = None, signal: str = "hidden",
                units: list[int] | None = None, top: int = 3) -> Inspection:
        """What units of the language model compute over `text` (see seqcli/lm/inspect.py):
        `units` (default: the units that follow the text's properties best), one value per
        token of one signal of one layer (from 1; default the top one). The text is read as
        the run reads it (lower-cased, or right to left, when it was trained so)."""
        self._need("lm")
        loaded, d = self._loaded, self.config.data
        return inspect_text(loaded.model, loaded.tokenizer, self.config.model.cell, text,
                            loaded.placement, reverse=d.reverse, lowercase=d.lowercase,
                            layer=layer, signal=signal, units=units, top=top)

    def score(self, texts: str | Iterable[str]) -> list[TextScore]:
        """How likely the language model finds each text: per-token surprisal (nats), total
        log-likelihood and perplexity, every token scored (see seqcli/lm/score.py)."""
        self._need("lm")
        check_left_to_right(self.config.data, self.path)
        texts = [texts] if isinstance(texts, str) else list(texts)
        loaded = self._loaded
        return score_texts(loaded.model, loaded.tokenizer, texts, loaded.placement,
                           lowercase=self.config.data.lowercase)

    def explain(self, texts: str | Iterable[str], *, label: str | None = None,
                steps: int = 50) -> list[Explanation]:
        """Per-token Integrated Gradients toward each text's predicted label (or `label`);
        see seqcli/classify/explain.py."""
        self._need("classify")
        texts = [texts] if isinstance(texts, str) else list(texts)
        return explain(self._loaded, texts, label=label, steps=steps)

    def classify(self, texts: str | Iterable[str], *, batch_size: int = 256) -> list[Prediction]:
        """One Prediction (label, probability, probabilities) per text, in order."""
        self._need("classify")
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not all(isinstance(t, str) for t in texts):
            raise UsageError("classify takes a text or a list of texts (str)")
        return list(predict(self._loaded, texts, batch_size=batch_size))

    def evaluate(self, corpus: str | Path | None = None, *, split: str = "validation",
                 console: Console | None = None) -> dict[str, Any]:
        """Scores on the run's own validation texts (a classifier's `split="test"`: its test
        set), or on a corpus name or path.

        Language models: loss, perplexity, bits_per_token, tokens. Classifiers: accuracy,
        macro_f1, per_class, confusion (rows: true labels, in the order of `labels`).
        """
        corpus = None if corpus is None else str(corpus)
        if self.task == "lm":
            if split != "validation":
                raise UsageError("a language model is evaluated on its validation split")
            return evaluate_language_model(self._loaded, corpus, self.locations, console)
        return evaluate_classifier(self._loaded, corpus, self.locations, console, split)

    def resume(self, *, progress: bool = False, console: Console | None = None,
               **settings: Any) -> "Run":
        """Train further from last.pt, exactly where it stopped (budgets may be raised)."""
        config = pipeline.resume_config(self.path, None, flat_overrides(settings))
        pipeline.resume(self.path, config, self.locations,
                        reporter=make_reporter(config, progress, console),
                        console=_console(progress, console))
        return load(self.path, device=config.train.device, precision=config.train.precision,
                    runs=self.locations.runs, data_dir=self.locations.data,
                    cache=self.locations.cache)

    def export(self, path: str | Path | None = None, *, format: str | None = None,
               opset: int | None = None, overwrite: bool = False) -> dict[str, Any]:
        """Write the model as ONNX or TorchScript (`format` None: from the suffix), after
        checking the file computes what this run computes; tokenizer.json and PATH.json go
        beside it. Default path: RUN/export/model.onnx (model.pt). See seqcli/export/."""
        return export_run(self._loaded, None if path is None else Path(path), format, opset,
                          overwrite)

    def _need(self, task: str) -> None:
        if self.task != task:
            what = {"lm": "language model", "classify": "classifier"}
            raise UsageError(f"{self.path} is a {what[self.task]} run; this needs a "
                             f"{what[task]} run")


def train(*, task: str | None = None, config: str | Path | None = None,
          out: str | Path | None = None, runs: str | Path | None = None,
          data_dir: str | Path | None = None, cache: str | Path | None = None,
          progress: bool = False, console: Console | None = None, **settings: Any) -> Run:
    """Train a new run (the task's defaults, then a TOML `config`, then `settings`).

    Ctrl-C stops at the next step boundary and saves a resumable checkpoint, as on the command
    line; the interrupted run is returned (its ``summary`` is None) and `Run.resume` goes on.
    """
    locations = from_environment(os.environ, runs=runs, data=data_dir, cache=cache)
    base = config_from_toml(load_toml(Path(config)), task) if config is not None \
        else default_config(task or "lm")
    run_config = pipeline.fresh_config(base, flat_overrides(settings))
    summary = pipeline.train(run_config, locations, out=None if out is None else Path(out),
                             reporter=make_reporter(run_config, progress, console),
                             console=_console(progress, console))
    return load(summary["run_dir"], device=run_config.train.device,
                precision=run_config.train.precision, runs=locations.runs,
                data_dir=locations.data, cache=locations.cache)


def load(path: str | Path, *, device: str = "auto", precision: str = "auto",
         runs: str | Path | None = None, data_dir: str | Path | None = None,
         cache: str | Path | None = None) -> Run:
    """A run directory of any task, its best weights on `device`."""
    locations = from_environment(os.environ, runs=runs, data=data_dir, cache=cache)
    return Run(load_run(Path(path), device=device, precision=precision), locations)


def make_reporter(config: RunConfig, progress: bool, console: Console | None) -> Reporter:
    """The rich progress bar when asked for, else silence."""
    if not progress:
        return Reporter()
    return RichReporter(console or Console(stderr=True), PROGRESS_FIELDS[config.task])


def _console(progress: bool, console: Console | None) -> Console | None:
    return (console or Console(stderr=True)) if progress else None
