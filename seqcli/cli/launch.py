"""`seqcli train --nproc N`: start N local workers through torch's elastic launcher (the engine
behind torchrun), each running this same command as one rank; and, in a worker, which rank it
is (WORLD_SIZE, RANK, LOCAL_RANK, as torchrun sets them too).

The launcher prints nothing of its own on success: rank 0 reports. When a worker fails, the
launcher alone says so, in one line naming the rank and the cause (the workers leave their
reasons in their error files, seqcli/cli/failures.py); Ctrl-C or SIGTERM reach every worker,
which save and exit 130 or 143, and the launcher exits with that code.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import uuid
from collections.abc import Mapping, Sequence

from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

from seqcli.cli import failures
from seqcli.config import RunConfig
from seqcli.errors import SeqcliError, UsageError
from seqcli.training.distributed import Spec

STOPPED = {130: 130, 143: 143, -signal.SIGINT: 130, -signal.SIGTERM: 143}
SHUTDOWN_SECONDS = 60  # how long workers may take to save after Ctrl-C before they are killed


def worker_spec(environ: Mapping[str, str]) -> Spec:
    """This process' rank as a launcher set it, or a one-process run."""
    try:
        return Spec(int(environ.get("WORLD_SIZE", 1)), int(environ.get("RANK", 0)),
                    int(environ.get("LOCAL_RANK", 0)), int(environ.get("LOCAL_WORLD_SIZE", 0)))
    except ValueError:
        raise UsageError("WORLD_SIZE, RANK and LOCAL_RANK must be integers") from None


def worker_argv(argv: Sequence[str]) -> list[str]:
    """The command line without --nproc, for the workers to run."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def check_shareable(config: RunConfig, nproc: int) -> None:
    """Refuse, before any worker starts, LM windows the ranks cannot share equally (a
    classifier splits any batch, weighting the shares)."""
    if config.task == "lm" and config.data.batch_size % nproc:
        raise UsageError(f"--batch-size {config.data.batch_size} cannot be shared by {nproc} "
                         f"processes; use a multiple of {nproc}")


def launch(nproc: int, argv: Sequence[str]) -> int:
    """Run `python -m seqcli <argv>` as `nproc` ranks on this machine; the exit code."""
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=uuid.uuid4().hex,
                          rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0,
                          monitor_interval=0.2, shutdown_timeout=SHUTDOWN_SECONDS)
    os.environ[failures.LAUNCHED] = "1"  # inherited by the workers: report, do not print
    try:
        elastic_launch(config, entrypoint=sys.executable)("-m", "seqcli", *worker_argv(argv))
    except ChildFailedError as err:
        return _failed(err, nproc)
    except SignalException as err:
        return 143 if err.sigval == signal.SIGTERM else 130
    except Exception as err:  # rendezvous or start-up failures: one line, not a report
        raise SeqcliError(f"could not start {nproc} workers: {type(err).__name__}: "
                          f"{str(err).splitlines()[0][:200] if str(err) else ''}") from None
    finally:
        os.environ.pop(failures.LAUNCHED, None)
    return 0


def _failed(err: ChildFailedError, nproc: int) -> int:
    """The exit code of a run whose workers did not all succeed, or its one-line error: a
    rank's own error first, then a rank killed by a signal, then a failed collective."""
    codes = {rank: failure.exitcode for rank, failure in err.failures.items()}
    if all(code in STOPPED for code in codes.values()):  # stopped, and rank 0 said so
        return STOPPED[next(iter(codes.values()))]
    reports = [report for rank, failure in err.failures.items()
               if (report := failures.read_report(rank, failure.error_file_data))]
    killed = [(r, c) for r, c in codes.items() if c < 0 and c not in STOPPED]
    found = failures.root_cause(reports, nproc) or \
        (None if killed else failures.first_lost_peer(reports))
    if found is not None:
        message, code = found
        raise (UsageError if code == 2 else SeqcliError)(message)
    rank, code = min(killed or [(r, c) for r, c in codes.items() if c not in STOPPED])
    how = f"was killed by signal {_signal_name(-code)}" if code < 0 else f"exited with {code}"
    raise SeqcliError(f"worker rank {rank} {how}; the other workers were stopped and the "
                      f"last good checkpoint is kept")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
