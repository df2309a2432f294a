"""A failure on any rank of a data-parallel run, told as one line: which rank, and why.

Only the failing process knows why it failed, and only the launcher sees every rank end. So
each worker that fails leaves a report in the error file torch's elastic launcher gives it
(``TORCHELASTIC_ERROR_FILE``, in the launcher's own JSON format, so that torchrun's report
shows the line too), and `seqcli train --nproc` reads the reports and names the root cause:

- a rank's own error (bad data, a full disk, a bug) before a rank that merely lost its peers
  (a collective failing because another rank went away);
- among several, the earliest; when every rank met the same error (bad data that every rank
  reads alike), the error alone, as a one-process run says it.

Under `--nproc` the workers print no error of their own; under torchrun they print as before
(rank 0 for errors every rank meets, any rank for others) and torchrun adds its report.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ERROR_FILE = "TORCHELASTIC_ERROR_FILE"  # set by torch's elastic agent for every worker
LAUNCHED = "SEQCLI_LAUNCHED"  # set by `seqcli train --nproc` for its workers: it reports


@dataclass(frozen=True)
class Report:
    rank: int
    message: str
    code: int  # the exit code the rank chose (2: a usage error)
    lost_peer: bool  # failed only because another rank went away
    at: float  # time.time() of the failure


def worker_rank(environ: Mapping[str, str]) -> int | None:
    """This process' rank in a data-parallel run; None in a one-process run."""
    if environ.get("WORLD_SIZE", "1") in ("", "1"):
        return None
    try:
        return int(environ.get("RANK", "0") or 0)
    except ValueError:
        return None


def launched(environ: Mapping[str, str]) -> bool:
    """Whether `seqcli train --nproc` started this worker (and will report its failure)."""
    return environ.get(LAUNCHED) == "1"


def record(message: str, code: int, *, lost_peer: bool = False,
           environ: Mapping[str, str] = os.environ) -> None:
    """Leave this rank's failure where the launcher reads it (nothing outside a launcher)."""
    path, rank = environ.get(ERROR_FILE), worker_rank(environ)
    if not path or rank is None:
        return
    now = time.time()
    # torch names the failure with the earliest whole-second timestamp its "root cause": a
    # rank that only lost its peers is dated a second later, so that it never wins a tie.
    stamp = math.floor(now) + (1 if lost_peer else 0)
    ours = {"rank": rank, "message": message, "code": code, "lost_peer": lost_peer, "at": now}
    document = {"message": {"message": message,
                            "extraInfo": {"timestamp": str(stamp), "seqcli": ours}}}
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
    except OSError:
        pass  # the launcher then reports the exit code alone


def read_report(rank: int, error_file_data: Any) -> Report | None:
    """A worker's report from the data torch read from its error file (None: no report)."""
    try:
        ours = error_file_data["message"]["extraInfo"]["seqcli"]
        return Report(rank, str(ours["message"]), int(ours["code"]), bool(ours["lost_peer"]),
                      float(ours["at"]))
    except (KeyError, TypeError, ValueError):
        return None


def root_cause(reports: list[Report], ranks: int) -> tuple[str, int] | None:
    """The one line and exit code for the ranks' reports, preferring a rank's own error to
    a lost peer, then the earliest; None when no rank failed of its own accord."""
    causes = [r for r in reports if not r.lost_peer]
    if not causes:
        return None
    first = min(causes, key=lambda r: r.at)
    if len(causes) == ranks and len({r.message for r in causes}) == 1:
        return first.message, first.code  # every rank met it: no rank to name
    return f"rank {first.rank}: {first.message} (the other ranks were stopped)", first.code


def first_lost_peer(reports: list[Report]) -> tuple[str, int] | None:
    """When every report is of a failed collective: the earliest, which is where it began."""
    lost = [r for r in reports if r.lost_peer]
    if not lost:
        return None
    first = min(lost, key=lambda r: r.at)
    return f"rank {first.rank}: {first.message} (the other ranks were stopped)", first.code
