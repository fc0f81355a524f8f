"""daglab's exceptions. Each class carries the exit code the CLI maps it to (see DESIGN.md)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_SERVER = 3
EXIT_TIMEOUT = 4
EXIT_AUTH = 5
EXIT_INTERRUPTED = 130


class DaglabError(Exception):
    """Base of every error daglab raises on purpose.

    ``message`` says what happened; ``hint`` (optional) says what to do about it.
    """

    exit_code: int = EXIT_SERVER

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


# -- bad input (exit 2) -----------------------------------------------------------------


class BadInputError(DaglabError):
    """The user asked for something that cannot be done as asked."""

    exit_code = EXIT_BAD_INPUT


class ConfigFileError(BadInputError):
    """A daglab config file, run-config file or YAML text cannot be read."""


class ConfigValidationError(BadInputError):
    """The server rejected a run config; ``errors`` holds (path, message) pairs."""

    def __init__(
        self, message: str, errors: list[tuple[str, str]], *, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.errors = errors


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


class BadResponseError(ServerError):
    """The body was not a GraphQL JSON response (an HTML page from a proxy, say)."""


class GraphQLError(ServerError):
    """The response carried a GraphQL ``errors`` array."""

    def __init__(
        self, message: str, errors: list[dict[str, object]], *, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.errors = errors

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
    """Several polls in a row failed while watching a run."""

    def __init__(self, message: str, run_id: str, url: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.url = url


# -- auth (exit 5) ----------------------------------------------------------------------


class AuthError(DaglabError):
    """Authentication or authorization failed (401/403, Dagster+ UnauthorizedError)."""

    exit_code = EXIT_AUTH


# -- runs (exit 1 and 4) ----------------------------------------------------------------


class RunFailedError(DaglabError):
    """The run ended FAILURE or CANCELED."""

    exit_code = EXIT_RUN_FAILED


class RunTimeoutError(DaglabError):
    """Waiting for a run took longer than the timeout; the run may go on."""

    exit_code = EXIT_TIMEOUT


class InterruptedByUser(DaglabError):
    """Ctrl-C: the run (if any) is left alone."""

    exit_code = EXIT_INTERRUPTED
