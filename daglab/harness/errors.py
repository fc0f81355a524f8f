"""The harness's exceptions: DaglabErrors, so the CLI reports them with their exit code.

    HarnessError (DaglabError)              3  the harness could not provide a Dagster server
    ├── HarnessInputError (BadInputError)   2  what was asked of it cannot be done as asked
    │   ├── UnsupportedVersionError            a Dagster version outside the supported minors
    │   └── WorkspaceNotFoundError             no workspace file where one was named
    ├── UvNotFoundError                     3  no uv, so no Dagster environment (tests skip)
    ├── EnvInstallError                     3  uv failed to create or fill an environment
    ├── ServerStartError (ServerError)      3  a Dagster server did not become ready
    └── DevServerError                      3  the ``daglab dev`` server did not start or stop

The exit codes are those ``daglab dev up`` has always used: 2 for a version or project it
cannot run, 3 when no server came up, whatever the reason.
"""

from __future__ import annotations

from daglab.helpers.errors import BadInputError, DaglabError, ServerError


class HarnessError(DaglabError):
    """The harness could not provide a Dagster server (exit 3, DaglabError's default)."""


class HarnessInputError(HarnessError, BadInputError):
    """What was asked of the harness cannot be done as asked (exit 2)."""


class UnsupportedVersionError(HarnessInputError):
    """A Dagster version the harness does not support (exit 2)."""


class WorkspaceNotFoundError(HarnessInputError):
    """No workspace file where the caller said one would be (exit 2)."""


class UvNotFoundError(HarnessError):
    """uv is not installed, so no Dagster environment can be made; tests skip on this.

    Exit 3: the machine cannot provide a server, although nothing asked was wrong.
    """


class EnvInstallError(HarnessError):
    """uv failed to create or fill a Dagster environment (exit 3)."""


class ServerStartError(HarnessError, ServerError):
    """The Dagster server did not become ready; the message carries its log tails (exit 3)."""


class DevServerError(HarnessError):
    """The dev server did not start, was not ready in time, died, or did not stop (exit 3)."""


__all__ = [
    "DevServerError",
    "EnvInstallError",
    "HarnessError",
    "HarnessInputError",
    "ServerStartError",
    "UnsupportedVersionError",
    "UvNotFoundError",
    "WorkspaceNotFoundError",
]
