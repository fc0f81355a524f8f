"""daglab's exceptions. Each class carries the exit code the CLI maps it to (see DESIGN.md).

    DaglabError                      exit 3 unless a subclass says otherwise
    ├── BadInputError                2   what was asked cannot be done as asked
    │   ├── ConfigFileError              a daglab config, run-config file or YAML text
    │   ├── ConfigValidationError        the server rejected a run config (``problems``)
    │   ├── TargetNotFoundError          no job, asset, location or run matches (``candidates``)
    │   │   └── AmbiguousTargetError     more than one does
    │   └── SelectionError               an asset selection is malformed
    ├── ServerError                  3   unreachable, or no sane answer
    │   ├── UnreachableError, RequestTimeoutError, HTTPStatusError, BadResponseError
    │   ├── RateLimitedError, ResponseTooLargeError
    │   ├── GraphQLError, DagsterPythonError
    │   └── LostContactError             polls kept failing while watching (``run_id``)
    ├── AuthError                    5
    │   └── ReadOnlyError               5  the webserver runs --read-only: no launch, cancel, reload
    ├── RunFailedError               1   the run ended FAILURE or CANCELED (``result``)
    ├── RunTimeoutError              4   waited longer than the timeout (``run_id``, ``result``)
    └── InterruptedByUser            130

Messages and hints are the library's: where they name a setting or an operation, they do it
through ``setting("http_timeout")``, ``operation("discover_assets")`` or ``call("backfill",
job=...)``, which ``str(exc)`` spells ``http_timeout=`` and ``discover_assets()`` (what a
notebook user types) and the CLI spells as its flag and command (``--http-timeout``,
``daglab discover --filter assets``, ``daglab run --job ...``), via ``render(spelling)``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from daglab.helpers.models import ConfigProblem, RunResult

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_SERVER = 3
EXIT_TIMEOUT = 4
EXIT_AUTH = 5
EXIT_INTERRUPTED = 130


# A setting or an operation named in a message: "<kind>:<name>" between two unit separators,
# which never survive in sanitized server text.
_MARK = "\x1f"
_NAMED = re.compile(_MARK + r"(setting|operation):([a-z_]+)(?::([^\x1f]*))?" + _MARK)
# An operation's argument that holds keyword arguments (``call``), as JSON after this prefix.
_CALL = "call:"

# (kind, name, argument) -> text; kind is "setting" or "operation", argument may be "".
Spelling = Callable[[str, str, str], str]


def setting(name: str, value: str = "") -> str:
    """A setting (``location``, ``http_timeout``), optionally with a value, named in a message
    or hint and spelled by whoever shows it: ``partition=KEY`` in the library, ``--partition
    KEY`` in the CLI."""
    return f"{_MARK}setting:{name}:{value.replace(_MARK, '')}{_MARK}"


def operation(name: str, argument: str = "") -> str:
    """An operation of the library (``discover_assets``, ``wait_for_run`` of a run id) named
    in a hint: ``wait_for_run('ID')`` in the library, the command that does it in the CLI."""
    return f"{_MARK}operation:{name}:{argument.replace(_MARK, '')}{_MARK}"


def call(name: str, **arguments: str | list[str] | None) -> str:
    """An operation called with keyword arguments, named in a hint: ``backfill(job='x',
    partitions=['a', 'b'])`` in the library, ``daglab run --job x --partitions a,b`` in the
    CLI. Arguments that are None are left out."""
    given = {k: v for k, v in arguments.items() if v is not None}
    return operation(name, _CALL + json.dumps(given))


def call_arguments(argument: str) -> dict[str, str | list[str]] | None:
    """The keyword arguments of a ``call``, or None for a plain ``operation`` argument."""
    if not argument.startswith(_CALL):
        return None
    parsed: dict[str, str | list[str]] = json.loads(argument[len(_CALL) :])
    return parsed


def library_spelling(kind: str, name: str, argument: str = "") -> str:
    """How the library spells what a message names: ``location=``, ``discover_assets()``,
    ``wait_for_run('ID')``, ``backfill(job='x', partitions=['a'])``."""
    if kind == "setting":
        return f"{name}={argument}"
    keywords = call_arguments(argument)
    if keywords is not None:
        return f"{name}({', '.join(f'{k}={v!r}' for k, v in keywords.items())})"
    return f"{name}({argument!r})" if argument else f"{name}()"


def spell(text: str, spelling: Spelling = library_spelling) -> str:
    """``text`` with every ``setting(...)`` and ``operation(...)`` spelled by ``spelling``."""
    if _MARK not in text:
        return text
    return _NAMED.sub(lambda m: spelling(m.group(1), m.group(2), m.group(3) or ""), text)


class DaglabError(Exception):
    """Base of every error daglab raises on purpose.

    ``message`` says what happened; ``hint`` (optional) says what to do about it.
    """

    exit_code: int = EXIT_SERVER

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self, spelling: Spelling = library_spelling) -> tuple[str, str | None]:
        """Message and hint, with the settings and operations they name spelled by
        ``spelling``."""
        hint = spell(self.hint, spelling) if self.hint else None
        return spell(self.message, spelling), hint

    def __str__(self) -> str:
        message, hint = self.render()
        return message if not hint else f"{message}\n{hint}"


# -- bad input (exit 2) -----------------------------------------------------------------


class BadInputError(DaglabError):
    """The user asked for something that cannot be done as asked."""

    exit_code = EXIT_BAD_INPUT


class ConfigFileError(BadInputError):
    """A daglab config file, run-config file or YAML text cannot be read."""


class ConfigValidationError(BadInputError):
    """The server rejected a run config: ``problems`` (each with its path and message);
    ``errors`` holds the same as (path, message) pairs."""

    def __init__(
        self,
        message: str,
        problems: Sequence[ConfigProblem] = (),
        *,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems: list[ConfigProblem] = list(problems)

    @property
    def errors(self) -> list[tuple[str, str]]:
        return [(p.where, p.message) for p in self.problems]


class TargetNotFoundError(BadInputError):
    """No job, asset or location matches what was asked for."""

    def __init__(
        self, message: str, candidates: list[str] | None = None, *, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.candidates = candidates or []


class AmbiguousTargetError(TargetNotFoundError):
    """More than one job, asset or location matches; the candidates are listed."""


class SelectionError(BadInputError):
    """An asset selection is malformed or cannot run as one run."""


# -- server trouble (exit 3) ------------------------------------------------------------


class ServerError(DaglabError):
    """The server could not be reached, or gave no sane answer."""

    exit_code = EXIT_SERVER


class UnreachableError(ServerError):
    """No connection could be made (refused, DNS, TLS)."""


class RequestTimeoutError(ServerError):
    """A request got no answer within the per-request timeout."""


class HTTPStatusError(ServerError):
    """The server answered with an HTTP error status."""

    def __init__(self, message: str, status_code: int, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code


class ServerPythonError(HTTPStatusError):
    """Dagster answered HTTP 5xx with data holding a ``PythonError``: a resolver raised.

    Every Dagster webserver answers 500 when a resolver's error was captured into a
    ``PythonError``; the message is Dagster's own (first line, bounded).
    """

    def __init__(
        self,
        message: str,
        status_code: int,
        *,
        class_name: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, status_code, hint=hint)
        self.class_name = class_name


class PageLimitError(ServerPythonError):
    """The server caps a page below what was asked (``Limit of N is too large. Max is M``).

    Dagster 1.11 and 1.12 raise (measured; 1.7 has no cap, 1.13 clamps) when a ``logsForRun``
    limit passes the webserver's ``DAGSTER_UI_EVENT_LOAD_CHUNK_SIZE`` (1000 by default);
    ``maximum`` is M.
    """

    def __init__(self, message: str, status_code: int, *, maximum: int) -> None:
        super().__init__(message, status_code, class_name="DagsterError")
        self.maximum = maximum


class BadResponseError(ServerError):
    """The body was not a GraphQL JSON response (an HTML page from a proxy, say)."""


class RateLimitedError(ServerError):
    """HTTP 429 beyond what daglab waits for (a Retry-After past its deadline)."""


class ResponseTooLargeError(BadResponseError):
    """The body, raw or decompressed, passed daglab's cap (``DAGLAB_MAX_RESPONSE_MB``)."""


class GraphQLError(ServerError):
    """The response carried a GraphQL ``errors`` array; ``status_code`` is the HTTP status."""

    def __init__(
        self,
        message: str,
        errors: list[dict[str, object]],
        *,
        hint: str | None = None,
        status_code: int = 200,
    ) -> None:
        super().__init__(message, hint=hint)
        self.errors = errors
        self.status_code = status_code

    @property
    def unknown_field(self) -> bool:
        """The server's schema lacks a field the document asked for (an older Dagster)."""
        return any(str(e.get("message", "")).startswith("Cannot query field") for e in self.errors)


class DagsterPythonError(ServerError):
    """Dagster answered with a ``PythonError``: the server raised while resolving."""

    def __init__(self, message: str, class_name: str | None = None) -> None:
        super().__init__(message)
        self.class_name = class_name


class LostContactError(ServerError):
    """Several polls in a row failed while watching a run; ``result`` is the run as last seen."""

    def __init__(
        self,
        message: str,
        run_id: str,
        url: str | None = None,
        *,
        result: RunResult | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.run_id = run_id
        self.url = url
        self.result = result


# -- auth (exit 5) ----------------------------------------------------------------------


class AuthError(DaglabError):
    """Authentication or authorization failed (401/403, Dagster+ UnauthorizedError)."""

    exit_code = EXIT_AUTH


class ReadOnlyError(AuthError):
    """The webserver runs read-only (``dagster-webserver --read-only``): it refuses every
    launch, cancel, reload and schedule/sensor change (exit 5)."""


# -- runs (exit 1 and 4) ----------------------------------------------------------------


class RunFailedError(DaglabError):
    """The run ended FAILURE or CANCELED; ``result`` is the run as it ended."""

    exit_code = EXIT_RUN_FAILED

    def __init__(
        self, message: str, *, result: RunResult | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.result = result


class RunTimeoutError(DaglabError):
    """Waiting for a run took longer than the timeout; the run goes on unless daglab canceled
    it. ``run_id`` and ``result`` (the run as it stood) say which."""

    exit_code = EXIT_TIMEOUT

    def __init__(
        self,
        message: str,
        *,
        run_id: str | None = None,
        result: RunResult | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.run_id = run_id if run_id is not None else (result.run_id if result else None)
        self.result = result


class InterruptedByUser(DaglabError):
    """Ctrl-C: the run (if any) is left alone."""

    exit_code = EXIT_INTERRUPTED


# -- answers of the wrong shape ---------------------------------------------------------

# What reading a server's answer of the wrong shape raises (a missing key, a list where an
# object belongs, a value pydantic refuses, nesting past the interpreter's limit).
SHAPE_ERRORS: tuple[type[BaseException], ...] = (
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    ValueError,
    RecursionError,
)


@contextlib.contextmanager
def server_shapes() -> Iterator[None]:
    """Inside: a Python error from reading an answer of the wrong shape becomes a
    ``BadResponseError`` (exit 3), the original chained for ``--verbose``. Used where the
    library meets its users (the CLI's commands, the notebook helpers)."""
    try:
        yield
    except DaglabError:
        raise
    except SHAPE_ERRORS as exc:
        detail = str(exc)[:120] if not isinstance(exc, RecursionError) else "nested too deeply"
        raise BadResponseError(
            "The server's answer does not have the shape daglab expects "
            f"({type(exc).__name__}: {detail}).",
            hint="Is the URL a Dagster webserver? If it is, report this (with --verbose's "
            "traceback) to daglab.",
        ) from exc


_A = TypeVar("_A")


def guard_shapes(
    func: Callable[..., Coroutine[Any, Any, _A]],
) -> Callable[..., Coroutine[Any, Any, _A]]:
    """``server_shapes`` around an async function."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> _A:
        with server_shapes():
            return await func(*args, **kwargs)

    return wrapper
