"""The daglab command line: registers commands and turns exceptions into exit codes.

Only typer and the thin command modules are imported here; everything heavy (httpx,
pydantic, rich) is imported by a command when it runs, so ``daglab --help`` stays light.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from daglab import __version__
from daglab.commands import _options, auth, dev, discover, notebook, run, status

app = typer.Typer(
    name="daglab",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"daglab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Find, launch and watch Dagster work over Dagster's GraphQL API.

    Exit codes: 0 done, 1 run failed or canceled, 2 bad input, 3 server unreachable or
    no sane answer, 4 timed out waiting, 5 authentication failed, 130 interrupted.
    """


status.register(app)
discover.register(app)
run.register(app)
app.add_typer(dev.app, name="dev")
app.add_typer(auth.app, name="auth")
app.add_typer(notebook.app, name="notebook")


def _report(exc: BaseException) -> int:
    """Print a one- or two-line message for ``exc`` on stderr; return the exit code."""
    from daglab.helpers.errors import EXIT_INTERRUPTED, EXIT_SERVER, DaglabError

    if _options.state.verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, KeyboardInterrupt):
        sys.stderr.write("Interrupted.\n")
        return EXIT_INTERRUPTED
    if isinstance(exc, DaglabError):
        sys.stderr.write(f"Error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"{exc.hint}\n")
        return exc.exit_code
    sys.stderr.write(f"Error: unexpected {type(exc).__name__}: {exc}\n")
    if not _options.state.verbose:
        sys.stderr.write("Run again with --verbose for the traceback.\n")
    return EXIT_SERVER


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    if os.environ.get("NO_COLOR"):
        os.environ.setdefault("TERM", "dumb")
    try:
        app(args=argv, prog_name="daglab")
    except SystemExit:
        raise
    except BaseException as exc:
        code = _report(exc)
        sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
