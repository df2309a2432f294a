"""The `seqcli` command: sub-commands joined into one Typer app, behind one error boundary.

`OneLineErrors` is that boundary, for every command: click's usage errors, seqcli's own
errors, Ctrl-C, a closed pipe and anything unexpected each end in (at most) one line on stderr
and an exit code from the CLI contract; a traceback only with --debug.

The command modules import torch, captum, matplotlib... inside the commands that run, never at
the top, so `seqcli --help`, `--version` and a usage error answer at once (tests/cli/test_main.py
checks the import graph).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from typer.core import TyperGroup

try:  # Typer >= 0.26 vendors click; older releases use the click package.
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover
    from click import exceptions as click_exc
_NO_ARGS = getattr(click_exc, "NoArgsIsHelpError", ())
try:  # Typer's vendored click keeps Abort in typer.exceptions, not in click's exceptions module.
    from typer.exceptions import Abort as _Abort
except ImportError:  # pragma: no cover
    _Abort = getattr(click_exc, "Abort", ())

from seqcli.cli import (bench, classify, corpus, evaluate, experiment, explain, export,  # noqa: E402
                        generate, inspect, runs, serve, train)
from seqcli.cli import failures  # noqa: E402
from seqcli.cli.common import err_console, state  # noqa: E402
from seqcli.errors import SeqcliError  # noqa: E402
from seqcli.version import __version__  # noqa: E402

INTERRUPTED, BROKEN_PIPE = 130, 141  # 128 + SIGINT, 128 + SIGPIPE, as a shell reports them


class OneLineErrors(TyperGroup):
    """The CLI's single error boundary (see the module docstring)."""

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        state.argv = list(sys.argv[1:] if args is None else args)  # for --nproc's workers
        kwargs["standalone_mode"] = False
        try:
            result = super().main(args, *rest, **kwargs)
        except _NO_ARGS as err:
            err_console.print(err.ctx.get_help() if err.ctx else str(err), markup=False)
            sys.exit(0)
        except click_exc.ClickException as err:
            hint = f" (see {err.ctx.command_path} --help)" if getattr(err, "ctx", None) else ""
            _fail(f"{err.format_message()}{hint}", err.exit_code, markup_safe=False)
        except (_Abort, KeyboardInterrupt):  # a Ctrl-C, also one after click's own handling
            err_console.print("interrupted")
            sys.exit(INTERRUPTED)
        except Exception as err:  # the last line of defence: no traceback unless --debug
            if state.debug:
                raise
            _fail(_unexpected(err), 1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        """Run the command; its errors are turned into lines and codes here."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `seqcli classify big.txt | head -1`: the reader is done
            _silence_stdout()
            sys.exit(BROKEN_PIPE)
        except RuntimeError as err:  # torch.distributed's DistError is one
            if state.debug or not _lost_a_peer(err):
                raise
            # Most often a peer rank died, and the launcher names it; should this rank be
            # where it began, its report says so (seqcli/cli/failures.py).
            failures.record(_first_line(err), 1, lost_peer=True)
            sys.stderr.flush()  # this rank leaves quietly, skipping the C++ teardown that
            os._exit(1)  # gloo can abort in
        except (SeqcliError, OSError, MemoryError) as err:
            if state.debug:
                raise
            if isinstance(err, SeqcliError):
                _fail(str(err), err.exit_code, every_rank=False)
            _fail(f"{type(err).__name__}: {err}", 1)


def _fail(message: str, code: int, markup_safe: bool = True,
          every_rank: bool = True) -> NoReturn:
    """One line on stderr. A rank of a data-parallel run leaves it for the launcher, which
    tells it (`--nproc`: the workers print nothing); under torchrun seqcli's own errors are
    printed by rank 0 alone (every rank meets the same bad data or option) and anything else
    names its rank."""
    rank = failures.worker_rank(os.environ)
    if rank is not None:
        failures.record(message.replace("\n", " "), code)
        if failures.launched(os.environ) or (rank and not every_rank):
            sys.exit(code)
    text = escape(message.replace("\n", " ")) if markup_safe else message.replace("\n", " ")
    where = f"rank {rank}: " if rank else ""
    err_console.print(f"[bold red]error:[/] {where}{text}", highlight=False, soft_wrap=True)
    sys.exit(code)


def _lost_a_peer(err: Exception) -> bool:
    """A collective that failed because another rank went away (gloo or NCCL)."""
    if os.environ.get("WORLD_SIZE", "1") == "1":
        return False
    from torch.distributed import DistError  # loaded already: this process runs a rank

    return isinstance(err, DistError) or any(word in str(err) for word in ("gloo", "NCCL"))


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0][:300]}" if lines else type(err).__name__


def _unexpected(err: Exception) -> str:
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return (f"unexpected {type(err).__name__}{': ' + first[:300] if first else ''} "
            f"(a bug in seqcli; run again with --debug for the traceback and report it)")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot complain either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a captured stdout (tests) has no fd
        pass


app = typer.Typer(
    name="seqcli",
    cls=OneLineErrors,
    help="Train and use recurrent networks (RNN, LSTM, GRU) on text.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(given: bool) -> None:
    if given:
        print(f"seqcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Train and use recurrent networks (RNN, LSTM, GRU) on text."""
    state.debug = debug


app.command("train")(train.train)
app.command("generate")(generate.generate)
app.command("classify")(classify.classify)
app.command("evaluate")(evaluate.evaluate)
app.command("inspect")(inspect.inspect)
app.command("explain")(explain.explain)
app.command("export")(export.export)
app.command("serve")(serve.serve)
app.add_typer(corpus.app, name="corpus")
app.add_typer(runs.app, name="runs")
app.add_typer(bench.app, name="bench")
app.add_typer(experiment.app, name="experiment")


def main() -> None:
    """Entry point used by `python -m seqcli`."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
