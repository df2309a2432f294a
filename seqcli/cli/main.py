"""The `seqcli` command: sub-commands joined into one Typer app, behind one error boundary."""

from __future__ import annotations

import sys
import warnings
from typing import Annotated

# torch warns at import, in two lines, when NumPy is absent; seqcli never needs NumPy, so a
# user would see noise on every command. Filtered here, before anything imports torch.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

import typer  # noqa: E402
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

from seqcli.cli import bench, classify, corpus, evaluate, generate, runs, train
from seqcli.cli.common import err_console, state


class OneLineErrors(TyperGroup):
    """Report click's usage errors in one line (exit 2) instead of a multi-line usage panel."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except _NO_ARGS as err:
            err_console.print(err.ctx.get_help() if err.ctx else str(err), markup=False)
            sys.exit(0)
        except click_exc.ClickException as err:
            hint = f" (see {err.ctx.command_path} --help)" if getattr(err, "ctx", None) else ""
            err_console.print(f"[bold red]error:[/] {err.format_message()}{hint}".replace("\n", " "),
                              highlight=False, soft_wrap=True)
            sys.exit(err.exit_code)
        except _Abort:
            err_console.print("interrupted")
            sys.exit(130)
        except KeyboardInterrupt:  # a Ctrl-C after click's own handling ended (e.g. a second
            err_console.print("interrupted")  # one while a stopped run is reporting)
            sys.exit(130)
        except Exception as err:  # the last line of defence: no traceback unless --debug
            if state.debug:
                raise
            sys.exit(_unexpected(err))
        sys.exit(result if isinstance(result, int) else 0)


def _unexpected(err: Exception) -> int:
    """One line for an error that escaped the commands' own handling; returns the exit code."""
    from seqcli.cli.common import _escape
    from seqcli.errors import SeqcliError

    if isinstance(err, SeqcliError):
        message, code = str(err), err.exit_code
    else:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        message = (f"unexpected {type(err).__name__}{': ' + first[:300] if first else ''} "
                   f"(a bug in seqcli; run again with --debug for the traceback and report it)")
        code = 1
    err_console.print(f"[bold red]error:[/] {_escape(message)}", highlight=False, soft_wrap=True)
    return code


app = typer.Typer(
    name="seqcli",
    cls=OneLineErrors,
    help="Train and use recurrent networks (RNN, LSTM, GRU) on text.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    """Train and use recurrent networks (RNN, LSTM, GRU) on text."""
    state.debug = debug


app.command("train")(train.train)
app.command("generate")(generate.generate)
app.command("classify")(classify.classify)
app.command("evaluate")(evaluate.evaluate)
app.add_typer(corpus.app, name="corpus")
app.add_typer(runs.app, name="runs")
app.add_typer(bench.app, name="bench")


def main() -> None:
    """Entry point used by `python -m seqcli`."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
