"""The daglab command line: registers commands and turns exceptions into exit codes.

Only typer is imported here. A command's module is imported, and its click command built,
when that command is invoked (``--help`` and ``--version`` build none); everything heavy
(httpx, pydantic, rich) is imported by a command when it runs.
"""

from __future__ import annotations

import errno
import gc
import importlib
import os
import signal
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
        "daglab.commands.watch",
        "Follow a run to its end with live progress; exit codes as for `daglab run`.",
    ),
    "cancel": (
        "daglab.commands.watch",
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
    # -- asset health (issue 20)
    "assets": (
        "daglab.commands.assets",
        "Asset health: latest materialization, runs, staleness, partitions, checks; history.",
    ),
    "checks": (
        "daglab.commands.checks",
        "List asset checks with their latest execution, and run them.",
    ),
    # -- automation (issue 20)
    "schedules": (
        "daglab.commands.schedules",
        "List, show, start and stop schedules.",
    ),
    "sensors": (
        "daglab.commands.sensors",
        "List, show, start and stop sensors.",
    ),
    "reload": (
        "daglab.commands.reload",
        "Reload a code location (or --all) and wait until it is LOADED or failed.",
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
    # -- issue 21: the MCP server -----------------------------------------------------------
    "mcp": (
        "daglab.commands.mcp",
        "Serve daglab's library to agents over the Model Context Protocol (stdio, or --http).",
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


# A write to stdout failed: the reader went away (EPIPE), the disk is full, stdout is closed.
_OUTPUT_ERRNOS = frozenset({errno.EPIPE, errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT})
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a reader that went away
EXIT_OUTPUT = 74  # EX_IOERR: stdout cannot be written (full, closed)


class _OutputError(Exception):
    def __init__(self, cause: OSError) -> None:
        super().__init__(cause.strerror or str(cause))
        self.cause = cause


class _LazyGroup(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands()

    def invoke(self, ctx: Any) -> Any:
        """Every command runs here: Ctrl-C (and SIGTERM/SIGHUP) and a closed stdout leave as
        daglab errors, before click turns them into "Aborted!" or exit 1."""
        from daglab.helpers.errors import InterruptedByUser

        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise InterruptedByUser(_options.interrupted_word() + ".") from None
        except OSError as exc:
            if exc.errno in _OUTPUT_ERRNOS and not isinstance(exc, FileNotFoundError):
                raise _OutputError(exc) from None
            raise

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
    no sane answer, 4 timed out waiting, 5 authentication failed, 130 interrupted (143
    SIGTERM, 129 SIGHUP), 141 stdout closed by its reader, 74 stdout cannot be written.
    """


def _report(exc: BaseException) -> int:
    """Print a one- or two-line message for ``exc`` on stderr (and, with ``--json``, the error
    document on stdout if nothing was printed there); return the exit code."""
    from daglab.helpers.errors import EXIT_INTERRUPTED, EXIT_SERVER, DaglabError, InterruptedByUser
    from daglab.helpers.text import clean

    state = _options.state
    if isinstance(exc, _OutputError):
        _silence_stdout()
        if exc.cause.errno == errno.EPIPE:
            return EXIT_BROKEN_PIPE  # the reader has all it wanted: nothing to say
        _stderr(f"Error: cannot write the output: {exc}.\n")
        return EXIT_OUTPUT
    if state.verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    hint: str | None = None
    if isinstance(exc, (KeyboardInterrupt, InterruptedByUser)):
        code = 128 + state.signal if state.signal else EXIT_INTERRUPTED
        kind = "InterruptedByUser"
        message = _options.interrupted_word() + "."
        if isinstance(exc, InterruptedByUser) and exc.message not in ("Interrupted.", message):
            message = clean(exc.message)
        _stderr(f"{message}\n")
    elif isinstance(exc, DaglabError):
        message, hint = exc.render(_options.cli_spelling)
        message, hint = clean(message), clean(hint) if hint else None
        code, kind = exc.exit_code, type(exc).__name__
        _stderr(f"Error: {message}\n" + (f"{hint}\n" if hint else ""))
    elif _is_click_error(exc):
        code, kind = _click_error(exc)
        message = clean(exc.format_message())  # type: ignore[attr-defined]
    else:
        code, kind = EXIT_SERVER, "UnexpectedError"
        message = clean(f"unexpected {type(exc).__name__}: {exc}", one_line=True)
        hint = None if state.verbose else "Run again with --verbose for the traceback."
        _stderr(f"Error: {message}\n" + (f"{hint}\n" if hint else ""))
    if state.json and not state.printed:
        error = {"code": code, "kind": kind, "message": message, "hint": hint}
        try:
            _options.print_json({"error": error})
        except OSError:
            _silence_stdout()
    return code


def _stderr(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # no terminal left to tell (SIGHUP)


def _is_click_error(exc: BaseException) -> bool:
    from typer._click.exceptions import ClickException

    return isinstance(exc, (ClickException, typer.Abort))


def _click_error(exc: BaseException) -> tuple[int, str]:
    """Show a usage error as click does; its exit code and kind."""
    from typer._click.exceptions import ClickException

    if isinstance(exc, typer.Abort):
        _stderr("Aborted.\n")
        return 130, "InterruptedByUser"
    assert isinstance(exc, ClickException)
    exc.show()
    return exc.exit_code, "UsageError"


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _on_signal(signum: int, frame: Any) -> None:
    """SIGTERM and SIGHUP end daglab as Ctrl-C does (the run is left alone and reported),
    with exit code 128 + the signal."""
    _options.state.signal = signum
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):  # asyncio's, while a command's loop runs: it cancels the main task
        handler(signal.SIGINT, frame)
    raise KeyboardInterrupt


def _wants_json(argv: list[str]) -> bool:
    args = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in args


class _ClosedStream:
    """Stands in for a stdout that was closed before daglab started."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "stdout is closed")

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "stdout is closed")


def main(argv: list[str] | None = None, *, transport: Any = None) -> None:
    """Console-script entry point. ``transport`` (an ``httpx.AsyncBaseTransport``) is the test
    seam: every client the command makes sends its requests there, e.g. to the mock in-process
    (``main(["discover", "--url", mock.url], transport=mock.transport())``)."""
    _options.state.reset(transport)  # a fresh record per command (in-process tests run many)
    # One command's allocations come in bursts (10,000 assets parse into about a million
    # objects) and the process is short-lived: collect the young generation every 50,000
    # allocations instead of every 700, and never again scan what start-up imported.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    if os.environ.get("NO_COLOR"):
        os.environ.setdefault("TERM", "dumb")
    if sys.stdout is None:
        sys.stdout = _ClosedStream()
    args = list(sys.argv[1:] if argv is None else argv)
    _options.state.json = _wants_json(args)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    try:
        result = app(args=args, prog_name="daglab", standalone_mode=False)
    except SystemExit:
        raise
    except BaseException as exc:
        sys.exit(_report(exc))
    try:
        sys.stdout.flush()
    except OSError as exc:
        sys.exit(_report(_OutputError(exc)))
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
