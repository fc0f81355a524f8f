"""What a test sets and reads on a mock: its switches, its world and its record.

``MockControls`` is everything of a MockDagster apart from serving it; the HTTP app
(``app.py``) answers requests through it, and ``MockDagster`` (``server.py``) adds the ways
to serve it, in-process or over HTTP. Switches are methods (``fail_next``, ``union_error``,
``require_bearer`` ...) or fields of ``config``; ``requests`` records what arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from daglab.harness.mock.config import (
    PROXY_HTML,
    Credential,
    Fault,
    LossMode,
    LostResponse,
    MockConfig,
    OAuthClient,
    RecordedRequest,
    Switchboard,
    UnionError,
    new_token,
)
from daglab.harness.mock.records import BackfillRecord, RunRecord
from daglab.harness.mock.schema import build_error
from daglab.harness.mock.state import MockState


class MockControls:
    """A mock's switches, state and record, without a way of serving them."""

    def __init__(
        self,
        *,
        prefix: str = "",
        config: MockConfig | None = None,
        state: MockState | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("prefix must look like '/dagster' (leading slash, none trailing)")
        self.prefix = prefix
        self.config = config or MockConfig()
        self.state = state or MockState()
        self.switches = Switchboard(self.config, clock=lambda: self.state.now())
        self.requests: list[RecordedRequest] = []

    @property
    def in_process(self) -> bool:
        """True unless the mock serves over real HTTP (then lost responses really drop)."""
        return True

    # -- what arrived --------------------------------------------------------------------------

    @property
    def graphql_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.is_graphql]

    @property
    def operations(self) -> list[str | None]:
        """Operation names of the GraphQL requests received, in order."""
        return [r.operation_name for r in self.graphql_requests]

    @property
    def oauth_calls(self) -> int:
        return self.switches.oauth_calls

    @property
    def runs(self) -> list[RunRecord]:
        """Runs launched so far, oldest first."""
        return list(self.state.runs.values())

    @property
    def backfills(self) -> list[BackfillRecord]:
        """Backfills launched so far, oldest first, as the daemon has them by now."""
        with self.state._lock:
            self.state.tick()
            return list(self.state.backfills.values())

    # -- switches: HTTP faults -----------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        n: int | None = 1,
        *,
        operation: str | None = None,
        retry_after: float | str | None = None,
        body: str | bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``n`` GraphQL requests (matching ``operation``) with ``status``.

        ``n=None`` keeps failing until ``clear_faults()``. ``operation`` is an operation name
        (``DaglabLaunchRun``) or a root field (``launchRun``).
        """
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = str(retry_after)
        with self.switches.lock:
            self.config.faults.append(Fault(status, n, operation, body, content_type, extra))

    def html_next(
        self,
        n: int | None = 1,
        *,
        status: int = 200,
        operation: str | None = None,
        body: str = PROXY_HTML,
    ) -> None:
        """Answer with an HTML page, as a proxy or a login portal would."""
        self.fail_next(status, n, operation=operation, body=body, content_type="text/html")

    def clear_faults(self) -> None:
        with self.switches.lock:
            self.config.faults.clear()
            self.config.lost_responses.clear()
            self.config.union_errors.clear()

    def lose_response(
        self,
        operation: str | None = "launchRun",
        *,
        mode: LossMode = "drop",
        n: int | None = 1,
        hang_seconds: float = 30.0,
    ) -> None:
        """Do the work of the next matching request, then never deliver the answer (``drop``,
        ``hang``), or answer HTTP 500 with a GraphQL error (``error500``)."""
        if mode not in ("drop", "hang", "error500"):
            raise ValueError("mode must be 'drop', 'hang' or 'error500'")
        with self.switches.lock:
            self.config.lost_responses.append(LostResponse(operation, mode, n, hang_seconds))

    def union_error(
        self,
        target: str,
        typename: str,
        message: str | None = None,
        *,
        n: int | None = None,
        **fields: Any,
    ) -> None:
        """Make root field ``target`` (or every root field of operation ``target``) answer
        the union member ``typename``: PythonError, UnauthorizedError, RunNotFoundError,
        RunConfigValidationInvalid, PipelineNotFoundError, InvalidSubsetError, ...
        ``n=None`` keeps it until ``clear_faults()``."""
        build_error(typename, message, {})  # fail here, not mid-request, on an unknown name
        with self.switches.lock:
            self.config.union_errors.append(UnionError(typename, target, message, n, fields))

    def lag_run_lookups(self, seconds: float) -> None:
        """Act as a lagging read replica: a run shows in run lists ``seconds`` after launch."""
        with self.switches.lock:
            self.config.run_lookup_lag = seconds

    def set_latency(self, seconds: float, operation: str | None = None) -> None:
        """Delay every request (or those of one operation) by ``seconds``."""
        with self.switches.lock:
            if operation is None:
                self.config.latency = seconds
            else:
                self.config.latency_by_operation[operation] = seconds

    # -- switches: auth ------------------------------------------------------------------------

    def _add_credential(self, credential: Credential) -> None:
        with self.switches.lock:
            self.config.credentials.append(credential)

    def _expiry(self, lifetime: float | None) -> float | None:
        return None if lifetime is None else self.state.now() + lifetime

    def require_bearer(self, token: str | None = None, *, lifetime: float | None = None) -> str:
        """Require ``Authorization: Bearer <token>``; returns the token (made up if None)."""
        token = token or new_token()
        self._add_credential(Credential("bearer", token, expires_at=self._expiry(lifetime)))
        return token

    def issue_token(self, lifetime: float | None = None) -> str:
        """A new valid bearer token, expiring after ``lifetime`` seconds (never if None)."""
        return self.require_bearer(None, lifetime=lifetime)

    def require_basic(self, username: str, password: str) -> None:
        self._add_credential(Credential("basic", password, username=username))

    def require_header(
        self, name: str, value: str | None = None, *, lifetime: float | None = None
    ) -> str:
        """Require header ``name: value`` (e.g. ``Dagster-Cloud-Api-Token``)."""
        value = value or new_token()
        self._add_credential(
            Credential("header", value, name=name, expires_at=self._expiry(lifetime))
        )
        return value

    def expire_tokens(self) -> None:
        """Every credential with a lifetime expires now."""
        now = self.state.now()
        with self.switches.lock:
            for cred in self.config.credentials:
                if cred.expires_at is not None:
                    cred.expires_at = min(cred.expires_at, now)

    def revoke(self, value: str) -> None:
        with self.switches.lock:
            self.config.credentials[:] = [c for c in self.config.credentials if c.value != value]

    def clear_auth(self) -> None:
        with self.switches.lock:
            self.config.credentials.clear()

    def add_oauth_client(
        self,
        client_id: str,
        client_secret: str,
        *,
        expires_in: int = 3600,
        lifetime: float | None = None,
        scopes: list[str] | None = None,
    ) -> None:
        """Let ``POST /oauth/token`` issue bearer tokens to this client.

        Tokens are announced with ``expires_in`` but really last ``lifetime`` seconds when
        given, so a test can make a token die before the client expects it to.
        """
        with self.switches.lock:
            self.config.oauth_clients[client_id] = OAuthClient(
                client_secret, expires_in, lifetime, tuple(scopes) if scopes is not None else None
            )

    # -- runs ----------------------------------------------------------------------------------

    def finish_runs(self) -> None:
        """Every run reaches its end state now."""
        self.state.finish_all()

    def use_clock(self, clock: Callable[[], float]) -> None:
        """Drive run progress and token expiry from ``clock`` instead of ``time.time``."""
        self.state.clock = clock

    def reset(self) -> None:
        """Back to a fresh mock: no runs, no switches, no record."""
        with self.switches.lock:
            fresh = MockConfig()
            for name in fresh.__dataclass_fields__:
                setattr(self.config, name, getattr(fresh, name))
            self.switches.oauth_calls = 0
        self.state.runs.clear()
        self.requests.clear()
