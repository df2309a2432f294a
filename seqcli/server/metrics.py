"""The server's Prometheus metrics (GET /metrics), in a registry of its own.

A registry per app, not prometheus_client's global one, so two apps in one process (tests, or
a user mounting two) never share or clash. Routes are labelled by their template, never by
the raw path, so a caller cannot grow the label set.
"""

from __future__ import annotations

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter("seqcli_requests", "HTTP requests answered, by route and status",
                                ["route", "status"], registry=registry)
        self.queue = Gauge("seqcli_queue_length", "requests waiting to start, per model and "
                           "work (generation, or the rest)", ["model", "work"],
                           registry=registry)
        self.rows = Gauge("seqcli_running_rows", "rows in the running generation batch",
                          ["model"], registry=registry)
        self.tokens = Counter("seqcli_generated_tokens", "tokens generated", ["model"],
                              registry=registry)
        self.first_token = Histogram("seqcli_time_to_first_token_seconds",
                                     "from a completion's arrival to its first token",
                                     ["model"], buckets=LATENCY_BUCKETS, registry=registry)
        self.per_token = Histogram("seqcli_inter_token_latency_seconds",
                                   "between two tokens of one completion", ["model"],
                                   buckets=LATENCY_BUCKETS, registry=registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
