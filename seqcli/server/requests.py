"""A completions request checked into the options `seqcli generate` takes.

Fields follow OpenAI's completions API (prompt, max_tokens, temperature, top_p, n, stop,
seed, stream, echo, logprobs, stream_options) with seqcli's own beside them (top_k, beam,
keep_stop, trace). Defaults are `seqcli generate`'s, so a request with a seed gives the text
that command gives with the same options; ``temperature: 0`` is ``--greedy``. Ranges are
checked by the same function as the CLI's (check_sample_config), after this server's limits.
"""

from __future__ import annotations

from typing import Any

from seqcli.config import SampleConfig
from seqcli.errors import UsageError
from seqcli.lm.generate import check_left_to_right, check_sample_config
from seqcli.lm.inspect import check_view
from seqcli.lm.noise import fresh_seed
from seqcli.server.errors import ApiError, field_message
from seqcli.server.fields import MISSING, at_most, read_fields
from seqcli.server.jobs import Completion, TraceSpec
from seqcli.server.limits import ServeLimits
from seqcli.server.models import ServedModel
from seqcli.server.records import MAX_LOGPROBS

DEFAULTS = SampleConfig()
COMPLETION_FIELDS = {
    "model": ("string", None), "prompt": ("string", MISSING),
    "max_tokens": ("integer", DEFAULTS.length), "temperature": ("number", None),
    "top_p": ("number", None), "top_k": ("integer", None), "n": ("integer", 1),
    "stop": ("strings", None), "seed": ("integer", None), "stream": ("boolean", False),
    "stream_options": ("object", None), "echo": ("boolean", False),
    "logprobs": ("integer", None), "beam": ("integer", None), "keep_stop": ("boolean", False),
    "trace": ("object", None),
}
TRACE_FIELDS = {"layer": ("integer", None), "signal": ("string", "hidden"),
                "units": ("integers", MISSING)}


def completion_of(fields: dict[str, Any], served: ServedModel, limits: ServeLimits) -> Completion:
    """The checked Completion of a body's fields (already read against COMPLETION_FIELDS)."""
    run = served.run
    check_left_to_right(run.config.data, served.id)
    at_most("max_tokens", fields["max_tokens"], limits.max_tokens, "--max-tokens")
    at_most("n", fields["n"], min(limits.max_n, limits.max_rows),
            "--max-n" if limits.max_n <= limits.max_rows else "--max-rows")
    stop = fields["stop"]
    stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
    if len(stops) > limits.max_stops:
        raise ApiError(422, f"stop holds {len(stops)} strings; this server takes at most "
                            f"{limits.max_stops} (--max-stops)")
    greedy = fields["temperature"] == 0
    options = SampleConfig(length=fields["max_tokens"],
                           temperature=None if greedy else fields["temperature"],
                           top_k=fields["top_k"], top_p=fields["top_p"], greedy=greedy,
                           num_samples=fields["n"], seed=fields["seed"], beam=fields["beam"],
                           stop=stops, keep_stop=fields["keep_stop"])
    check_sample_config(options, run.tokenizer.vocab_size)
    prompt_tokens = len(run.tokenizer.encode(fields["prompt"]))
    if prompt_tokens > limits.max_prompt_tokens:
        raise ApiError(422, f"the prompt has {prompt_tokens} tokens; this server takes at most "
                            f"{limits.max_prompt_tokens} (--max-prompt-tokens)")
    return Completion(fields["prompt"], options,
                      fields["seed"] if fields["seed"] is not None else fresh_seed(),
                      stream=fields["stream"], echo=fields["echo"],
                      logprobs=_logprobs(fields["logprobs"], options),
                      trace=trace_of(fields["trace"], served, options),
                      prompt_tokens=prompt_tokens)


def _logprobs(value: int | None, options: SampleConfig) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= MAX_LOGPROBS:
        raise ApiError(422, f"logprobs must be from 0 to {MAX_LOGPROBS}; got {value}")
    if options.beam is not None:
        raise ApiError(422, "logprobs is for sampled text; beam search does not report it")
    return value


def trace_of(value: dict | None, served: ServedModel, options: SampleConfig) -> TraceSpec | None:
    """The trace extension: {"layer": from 1 (default: the top), "signal": "hidden" | "cell"
    | a gate, "units": [...]}, checked as `seqcli inspect` checks them."""
    if value is None:
        return None
    if options.beam is not None:
        raise ApiError(422, "trace is for sampled text; beam search does not report it")
    fields = read_fields(value, TRACE_FIELDS, "trace")
    units = fields["units"]
    if not units or len(set(units)) != len(units):
        raise ApiError(422, "trace.units must list one or more distinct units")
    run = served.run
    try:
        layer = check_view(run.model, run.config.model.cell, fields["layer"], fields["signal"],
                           units)
    except UsageError as err:
        raise ApiError(422, field_message(str(err), "trace.")) from None
    return TraceSpec(layer, fields["signal"], tuple(units))


def warnings_for(served: ServedModel, texts: list[str], what: str = "the prompt") -> list[str]:
    """The note `seqcli generate` prints for tokens never seen in training (read as unknown)."""
    unknown = sorted({u for text in texts for u in served.run.tokenizer.unknown(text)})
    if not unknown:
        return []
    return [f"{what} has {len(unknown)} token(s) never seen in training "
            f"({', '.join(map(repr, unknown[:5]))}); they are read as unknown"]
