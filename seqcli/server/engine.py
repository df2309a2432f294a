"""Continuous batching: one thread per language model steps every running row at once.

A recurrent model's whole memory of a request is its state (h, and c for an LSTM): a few
vectors per layer. So the rows of every request in flight share one forward pass per step,
whatever their lengths. Each loop of the engine:

1. admits waiting requests while rows are free (--max-rows), FIFO: each prompt is primed
   alone (as `seqcli generate` primes it) and its n rows join the batch: their state is
   concatenated to the batch's, their logits to the batch's logits;
2. drops the rows of requests whose caller went away or whose time ran out;
3. chooses every row's next token by the row's own options and generator (lm/rows.py), so a
   seeded request draws what it draws alone, whatever else is in the batch;
4. hands each token to its request (jobs.py: stops, streaming, logprobs, trace); finished
   rows leave by index-selecting the state (TGI does the same for its state-space models);
5. runs one step of the model for the rows still going.

The model never runs on the event loop: the engine is a thread, and events reach the loop
in one batch per step (`call_soon_threadsafe`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

import torch

from seqcli.api import Run
from seqcli.lm.decoding import join_rows, run_prime, select_rows, step
from seqcli.lm.rows import choose_tokens
from seqcli.server.errors import STOPPING, ApiError
from seqcli.server.jobs import Job
from seqcli.server.limits import ServeLimits
from seqcli.server.metrics import Metrics
from seqcli.server.records import token_records

log = logging.getLogger("seqcli.server")


class GenerationEngine:
    """Runs completions for one language model (see the module docstring)."""

    def __init__(self, run: Run, name: str, limits: ServeLimits, metrics: Metrics):
        self.run, self.name, self.limits, self.metrics = run, name, limits, metrics
        self.cond = threading.Condition()
        self.waiting: deque[Job] = deque()
        self.slots: list[tuple[Job, int]] = []  # the batch's rows: (job, row of the job)
        self.logits: torch.Tensor | None = None  # [rows, vocab]: what each row draws from
        self.state = None  # the batch's recurrent state, rows in the order of `slots`
        self.stopping = False
        self.outbox: list[tuple[Job, tuple]] = []
        self.deliver = None  # set by start: hands a step's events to the event loop
        self.thread = threading.Thread(target=self._run, name=f"seqcli-engine-{name}",
                                       daemon=True)

    def start(self, deliver) -> None:
        self.deliver = deliver
        self.thread.start()

    def submit(self, job: Job) -> None:
        """Queue a job; 429 when the queue is full, 503 when stopping."""
        with self.cond:
            if self.stopping:
                raise ApiError(503, STOPPING)
            if len(self.waiting) >= self.limits.max_queue:
                raise ApiError(429, f"the queue is full ({self.limits.max_queue} requests wait "
                                    f"for {self.name}); try again shortly")
            self.waiting.append(job)
            self.metrics.queue.labels(self.name, "generation").set(len(self.waiting))
            self.cond.notify()

    def post(self, job: Job, event: tuple) -> None:
        self.outbox.append((job, event))

    def stop(self) -> None:
        """End every request with a final error event and let the thread finish."""
        with self.cond:
            self.stopping = True
            self.cond.notify()

    def _run(self) -> None:
        while True:
            admitted = self._next_work()
            if admitted is None:
                break
            try:
                for job in admitted:
                    self._prime(job)
                self._drop_gone()
                if self.slots:
                    self._step()
            except Exception as err:  # a bug or out of memory: fail the batch, keep serving
                log.exception("generation step failed")
                for job in {job for job, _ in self.slots} | set(admitted):
                    job.fail(ApiError(500, f"generation failed: {type(err).__name__}: "
                                           f"{str(err)[:200]}", "internal"))
                self.slots, self.logits, self.state = [], None, None
            self.metrics.rows.labels(self.name).set(len(self.slots))
            self._flush()
        self._end_all()

    def _next_work(self) -> list[Job] | None:
        """The jobs to admit now (waiting while there is nothing at all); None to stop."""
        with self.cond:
            while not self.stopping and not self.waiting and not self.slots:
                self.cond.wait()
            if self.stopping:
                return None
            free, admitted = self.limits.max_rows - len(self.slots), []
            while self.waiting and (self.waiting[0].n <= free or self.waiting[0].cancelled):
                job = self.waiting.popleft()
                if not job.cancelled:
                    admitted.append(job)
                    free -= job.n
            self.metrics.queue.labels(self.name, "generation").set(len(self.waiting))
            return admitted

    def _prime(self, job: Job) -> None:
        if self._expired(job):
            return
        run = self.run
        logits, state = run_prime(run.model, run.tokenizer, job.completion.prompt, run.placement)
        n = job.n
        logits, state = logits.expand(n, -1), select_rows(state, [0] * n)
        self.slots += [(job, k) for k in range(n)]
        self.logits = logits if self.logits is None else torch.cat([self.logits, logits])
        self.state = state if self.state is None else join_rows([self.state, state])

    def _drop_gone(self) -> None:
        """Rows of jobs that are over, cancelled or out of time leave before the step."""
        self._keep([i for i, (job, _) in enumerate(self.slots)
                    if not job.over and not job.cancelled and not self._expired(job)])

    def _expired(self, job: Job) -> bool:
        if time.monotonic() <= job.deadline:
            return False
        job.fail(ApiError(504, f"the request took longer than this server's time limit "
                               f"({self.limits.timeout:g} s, --timeout)"))
        return True

    def _step(self) -> None:
        run, slots = self.run, self.slots
        rows = [job.rows[k] for job, k in slots]
        tokens = choose_tokens(self.logits, rows)
        asks = [job.completion if job.wants_records else None for job, _ in slots]
        records = token_records(run.model, run.tokenizer, run.config.model.cell, run.placement,
                                self.logits, self.state, tokens, asks) \
            if any(a is not None for a in asks) else [None] * len(slots)
        self._measure(slots)
        going = [i for i, ((job, k), token, record) in enumerate(zip(slots, tokens, records))
                 if not job.take(k, token, record)]
        self._keep(going)
        if self.slots:
            last = [job.rows[k].tokens[-1] for job, k in self.slots]
            self.logits, self.state = step(run.model, last, self.state, run.placement)

    def _keep(self, keep: list[int]) -> None:
        if len(keep) == len(self.slots):
            return
        self.slots = [self.slots[i] for i in keep]
        if not keep:
            self.logits, self.state = None, None
            return
        index = torch.tensor(keep, device=self.logits.device)
        self.logits = self.logits.index_select(0, index)
        self.state = select_rows(self.state, keep)

    def _measure(self, slots: list[tuple[Job, int]]) -> None:
        now, m = time.monotonic(), self.metrics
        m.tokens.labels(self.name).inc(len(slots))
        for job in dict.fromkeys(job for job, _ in slots):
            if job.first_token is None:
                m.first_token.labels(self.name).observe(now - job.arrived)
            else:
                m.per_token.labels(self.name).observe(now - job.last_token)
            job.first_token = job.first_token or now
            job.last_token = now

    def _flush(self) -> None:
        if self.outbox:
            batch, self.outbox = self.outbox, []
            self.deliver(batch)

    def _end_all(self) -> None:
        """Stopping: every running and waiting job gets its final event."""
        with self.cond:
            waiting, self.waiting = list(self.waiting), deque()
        for job in {job for job, _ in self.slots} | set(waiting):
            job.fail(ApiError(503, STOPPING))
        self.slots, self.logits, self.state = [], None, None
        self.metrics.rows.labels(self.name).set(0)
        self._flush()

