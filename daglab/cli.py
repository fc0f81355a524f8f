"""The daglab command line: registers commands and turns exceptions into exit codes.

Only typer is imported here. A command's module is imported, and its click command built,
when that command is invoked (``--help`` and ``--version`` build none); everything heavy
(httpx, pydantic, rich) is imported by a command when it runs.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

from daglab import __version__
from daglab.commands import _options

# name -> (module, first paragraph of its help). The help text is what `daglab --help` shows
# without importing the module; tests/unit/test_cli_lazy.py keeps it equal to the real one.
COMMANDS: dict[str, tuple[str, str]] = {
    "status": (
        "daglab.commands.status",
        "Show the server daglab talks to: URL, credential source, Dagster version, code locations.",
    ),
    "discover": (
        "daglab.commands.discover",
        "List code locations, repositories, jobs and assets, with filters.",
    ),
    "run": (
        "daglab.commands.run",
        "Launch a job or a selection of assets, and wait for it with live progress.",
    ),
    "watch": (
        "daglab.commands.run",
        "Follow a run to its end with live progress; exit codes as for `daglab run`.",
    ),
    "cancel": (
        "daglab.commands.run",
        "Cancel (terminate) a run. Exit 0 once the server accepted; 2 if it already finished.",
    ),
    # -- operating runs (issue 19)
    "runs": (
        "daglab.commands.runs",
        "List the runs of the server, and show one run in full.",
    ),
    "logs": (
        "daglab.commands.logs",
        "Print a run's event log, or with --stdout/--stderr the captured output of a step.",
    ),
    "rerun": (
        "daglab.commands.rerun",
        "Re-execute a run through Dagster's re-execution (the new run is its child).",
    ),
    "backfills": (
        "daglab.commands.backfills",
        "List, show, cancel and resume partition backfills.",
    ),
    "dev": (
        "daglab.commands.dev",
        "Run a local Dagster server (the fixture project, or yours) for daglab to talk to.",
    ),
    "auth": (
        "daglab.commands.auth",
        "Show, store and forget the credentials daglab sends to Dagster.",
    ),
    "notebook": (
        "daglab.commands.notebook",
        "Generate Jupyter notebooks that use the daglab helpers.",
    ),
}


def load_command(name: str) -> Any:
    """The click command ``name``, built from its module (which is imported now)."""
    module = importlib.import_module(COMMANDS[name][0])
    app = getattr(module, "app", None)
    if app is None:  # a module of top-level commands registers them on a throwaway app
        app = typer.Typer(rich_markup_mode=None, add_completion=False)
        module.register(app)
    command = typer.main.get_command(app)
    commands = getattr(command, "commands", None)
    if getattr(module, "app", None) is None and commands is not None:
        command = commands[name]
    command.name = name
    return command


class _LazyCommands(MutableMapping[str, Any]):
    """The root group's commands: every name known up front, each built on first access."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = load_command(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._built]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._built))


class _LazyGroup(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands()

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list from ``COMMANDS``, shortened as click shortens help."""
        from typer._click.utils import make_default_short_help

        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, make_default_short_help(text, limit)) for name, (_, text) in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="daglab",
    cls=_LazyGroup,
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
        message, hint = exc.render(_options.cli_spelling)
        sys.stderr.write(f"Error: {message}\n")
        if hint:
            sys.stderr.write(f"{hint}\n")
        return exc.exit_code
    sys.stderr.write(f"Error: unexpected {type(exc).__name__}: {exc}\n")
    if not _options.state.verbose:
        sys.stderr.write("Run again with --verbose for the traceback.\n")
    return EXIT_SERVER


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    # One command's allocations come in bursts (10,000 assets parse into about a million
    # objects) and the process is short-lived: collect the young generation every 50,000
    # allocations instead of every 700, and never again scan what start-up imported.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
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
