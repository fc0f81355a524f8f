"""The connection and output options every command accepts after its name.

Kept free of heavy imports: it is loaded for ``daglab --help``.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
import typing
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from daglab.helpers.config import ConnectionSettings
    from daglab.helpers.graphql import DagsterClient

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

CONNECTION = "Connection"
OUTPUT = "Output"


@dataclass
class GlobalOptions:
    """What the shared options said, plus the resolution that follows from them."""

    url: str | None = None
    host: str | None = None
    dagster_port: int | None = None
    auth_token: str | None = None
    auth_type: str | None = None
    header: list[str] = field(default_factory=list)
    profile: str | None = None
    json: bool = False
    verbose: bool = False
    http_timeout: float | None = None

    def settings(self) -> ConnectionSettings:
        from daglab.helpers.config import resolve_connection

        return resolve_connection(
            url=self.url,
            host=self.host,
            port=self.dagster_port,
            auth_token=self.auth_token,
            auth_type=self.auth_type,
            headers=self.header,
            profile=self.profile,
            http_timeout=self.http_timeout,
        )

    def client(self, settings: ConnectionSettings | None = None) -> DagsterClient:
        from daglab.helpers.graphql import DagsterClient

        return DagsterClient.from_settings(settings or self.settings(), transport=state.transport)


class _State:
    """What the error handler in cli.py needs to know about the running command, and the
    transport ``cli.main(..., transport=)`` hands every client (the test seam)."""

    verbose: bool = False
    json: bool = False
    transport: Any = None
    printed: bool = False  # the one JSON document is out
    signal: int = 0  # SIGTERM or SIGHUP, when one ended the command

    def reset(self, transport: Any = None) -> None:
        self.verbose, self.json, self.printed, self.signal = False, False, False, 0
        self.transport = transport


state = _State()


def interrupted_word() -> str:
    """``Interrupted``, or which signal stopped daglab."""
    import signal

    if state.signal:
        return f"Stopped by {signal.Signals(state.signal).name}"
    return "Interrupted"


_GLOBAL_PARAMS: list[tuple[str, Any, Any]] = [
    (
        "url",
        Annotated[
            str | None,
            typer.Option(
                "--url",
                help="Dagster webserver URL (http/https, may carry a path prefix). Env: DAGLAB_URL.",
                rich_help_panel=CONNECTION,
                show_default=False,
            ),
        ],
        None,
    ),
    (
        "host",
        Annotated[
            str | None,
            typer.Option(
                "--host", help="Webserver host (with --dagster-port).", rich_help_panel=CONNECTION
            ),
        ],
        None,
    ),
    (
        "dagster_port",
        Annotated[
            int | None,
            typer.Option("--dagster-port", help="Webserver port.", rich_help_panel=CONNECTION),
        ],
        None,
    ),
    (
        "auth_token",
        Annotated[
            str | None,
            typer.Option(
                "--auth-token",
                help="API token (bearer by default). Env: DAGLAB_TOKEN, DAGSTER_CLOUD_API_TOKEN.",
                rich_help_panel=CONNECTION,
                show_default=False,
            ),
        ],
        None,
    ),
    (
        "auth_type",
        Annotated[
            str | None,
            typer.Option(
                "--auth-type",
                help="How to send the token: bearer, basic or header.",
                rich_help_panel=CONNECTION,
            ),
        ],
        None,
    ),
    (
        "header",
        Annotated[
            list[str] | None,
            typer.Option(
                "--header",
                help="Extra HTTP header NAME=VALUE (repeatable).",
                rich_help_panel=CONNECTION,
                show_default=False,
            ),
        ],
        None,
    ),
    (
        "profile",
        Annotated[
            str | None,
            typer.Option(
                "--profile",
                help="Profile in $XDG_CONFIG_HOME/daglab/config.toml. Env: DAGLAB_PROFILE.",
                rich_help_panel=CONNECTION,
            ),
        ],
        None,
    ),
    (
        "http_timeout",
        Annotated[
            float | None,
            typer.Option(
                "--http-timeout",
                help="Seconds to wait for each HTTP request (default 30).",
                rich_help_panel=CONNECTION,
            ),
        ],
        None,
    ),
    (
        "json",
        Annotated[
            bool,
            typer.Option(
                "--json", help="Print one JSON document on stdout.", rich_help_panel=OUTPUT
            ),
        ],
        False,
    ),
    (
        "verbose",
        Annotated[
            bool,
            typer.Option(
                "--verbose",
                "-v",
                help="Log requests (secrets redacted) and show tracebacks.",
                rich_help_panel=OUTPUT,
            ),
        ],
        False,
    ),
]
GLOBAL_NAMES = frozenset(name for name, _, _ in _GLOBAL_PARAMS)


def with_global_options(func: F) -> F:
    """Add the shared options to a command; it receives them as ``opts: GlobalOptions``."""
    hints = typing.get_type_hints(func, include_extras=True)
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(func).parameters.values()
        if p.name != "opts"
    ]
    shared = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
        )
        for name, annotation, default in _GLOBAL_PARAMS
    ]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in GLOBAL_NAMES}
        values["header"] = values["header"] or []
        opts = GlobalOptions(**values)
        state.verbose, state.json = opts.verbose, opts.json or state.json
        setup_logging(opts.verbose, flag_secrets(opts))
        try:
            return func(opts=opts, **kwargs)
        except KeyboardInterrupt:
            from daglab.helpers.errors import InterruptedByUser

            raise InterruptedByUser(interrupted_word() + ".") from None
        except BaseException as exc:
            _scrub(exc, flag_secrets(opts))
            raise

    wrapper.__signature__ = inspect.Signature(own + shared)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in own + shared}
    del wrapper.__wrapped__
    return typing.cast(F, wrapper)


def flag_secrets(opts: GlobalOptions) -> list[str]:
    """The secret values given on the command line (token, header values)."""
    values = [opts.auth_token or ""]
    if opts.auth_token and ":" in opts.auth_token:
        values.append(opts.auth_token.partition(":")[2])  # basic USER:PASSWORD
    values += [h.partition("=")[2] for h in opts.header]
    return [v for v in values if len(v) >= 3]


def _redact(text: str, secrets: list[str]) -> str:
    auth = sys.modules.get("daglab.helpers.auth")
    if auth is not None:  # it knows every secret daglab has learnt
        return str(auth.redact_text(text, secrets))
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


# How the CLI spells the settings and operations the library's messages name.
_FLAGS = {
    "repository": "--repo",
    "pattern": "--asset-pattern",
    "tags": "--tag",
    "headers": "--header",
    "port": "--dagster-port",
}
_COMMANDS = {
    "discover_assets": "daglab discover --filter assets",
    "discover_jobs": "daglab discover --filter jobs",
    "discover_locations": "daglab discover --filter locations",
    "wait_for_run": "daglab watch {}",
    "cancel_run": "daglab cancel {}",
    "validate_config": "daglab run --validate-only",
    "connect": "daglab status",
    "list_checks": "daglab checks list",
    "backfill": "daglab run",
}


def cli_spelling(kind: str, name: str, argument: str = "") -> str:
    """A setting as its flag (``partition`` of KEY -> ``--partition KEY``), an operation as the command
    that does it (``wait_for_run`` of a run -> ```daglab watch ID```)."""
    if kind == "setting":
        flag = _FLAGS.get(name) or "--" + name.replace("_", "-")
        return f"{flag} {argument}" if argument else flag
    command = _COMMANDS.get(name, "daglab " + name.replace("_", " "))
    from daglab.helpers.errors import call_arguments

    keywords = call_arguments(argument)
    if keywords is not None:
        flags = [
            f"{cli_spelling('setting', key)} {','.join(value) if isinstance(value, list) else value}"
            for key, value in keywords.items()
        ]
        return f"`{' '.join([command.format(''), *flags]).strip()}`"
    return f"`{command.format(argument).strip()}`"


def _scrub(exc: BaseException, secrets: list[str]) -> None:
    """Before cli.py prints ``exc``: mask secrets, and strip terminal escapes and control
    characters a server may have put in the text it carries."""
    if secrets or "daglab.helpers.auth" in sys.modules:
        from daglab.helpers.auth import scrub_exception

        scrub_exception(exc, secrets)
    from daglab.helpers.errors import DaglabError

    if isinstance(exc, DaglabError):
        from daglab.helpers.text import clean

        message, hint = exc.render(cli_spelling)
        exc.message = clean(message)
        if hint:
            exc.hint = clean(hint)
        exc.args = (exc.message, *exc.args[1:])


class _RedactingFilter(logging.Filter):
    """Masks secrets in every record a daglab handler prints (a safety net: daglab's own
    log calls already redact)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = _redact(message, self.secrets), None
        if record.exc_info and record.exc_info[1] is not None:
            _scrub(record.exc_info[1], self.secrets)
        return True


def setup_logging(verbose: bool, secrets: list[str] | None = None) -> None:
    """``--verbose``: every daglab log record on stderr; otherwise warnings only, as
    ``Warning: ...`` lines. Secrets are masked either way."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RedactingFilter(secrets or []))
    root = logging.getLogger("daglab")
    if verbose:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.setLevel(logging.DEBUG)
    else:
        handler.setFormatter(logging.Formatter("Warning: %(message)s"))
        handler.setLevel(logging.WARNING)
    root.handlers[:] = [handler]


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, but the main task itself returns ``None``.

    On Python 3.11 ``asyncio.run`` ends by comparing SIGINT handlers, and the failed enum
    lookup inside formats a ValueError holding the repr of its partial: the main task, with
    the full repr of its result. For a discovery of 10,000 assets that repr took 0.6 s.
    """
    import asyncio

    from daglab.helpers.errors import server_shapes

    box: list[T] = []

    async def main() -> None:
        box.append(await coro)

    with server_shapes():
        asyncio.run(main())
    return box[0]


def dumps_json(document: Any) -> str:
    """``document`` as JSON, indented two levels deep and compact below.

    The top-level object and its lists or objects are laid out one member per line (one
    entity per line in ``discover``); deeper values are written by the C encoder, which
    ``json.dumps(indent=...)`` never uses: for 10,000 assets that is 40 ms instead of 1.3 s.
    """
    encode = _compact_encoder()

    def emit(value: Any, level: int) -> str:
        if level >= 2 or not isinstance(value, dict | list) or not value:
            return encode(value)
        pad, close = "  " * (level + 1), "  " * level
        if isinstance(value, dict):
            items = [f"{pad}{encode(str(k))}: {emit(v, level + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + close + "}"
        items = [pad + emit(v, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + close + "]"

    return emit(document, 0)


def _compact_encoder() -> Callable[[Any], str]:
    """``json.dumps(value, default=str)``, with one C encoder made once for every call."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(default=str, separators=(", ", ": ")).encode
    # No circular-reference markers: what daglab prints is a tree it built itself.
    iterencode = make(
        None, str, encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    return lambda value: "".join(iterencode(value, 0))


def print_json(document: Any) -> None:
    """The one JSON document a ``--json`` command prints on stdout."""
    text = dumps_json(document) + "\n"
    state.printed = True
    sys.stdout.write(text)
    sys.stdout.flush()


def out(text: str, end: str = "\n") -> None:
    """Text for stdout (a table, a run id, a log line): with ``err``, the one boundary every
    command's text crosses, so whatever the server sent is made safe there even where a
    command forgot (``daglab.helpers.text.clean``: no escape sequences, control characters
    but newline and tab, or bidi overrides). JSON goes through ``print_json``, escaped."""
    from daglab.helpers.text import clean

    sys.stdout.write(clean(text) + end)
    sys.stdout.flush()  # a line at a time: a reader of a pipe sees it now (logs --follow)


def err(message: str) -> None:
    """A line for the user on stderr (progress, notes, warnings), made safe as ``out`` is."""
    from daglab.helpers.text import clean

    sys.stderr.write(clean(message) + "\n")
    sys.stderr.flush()
