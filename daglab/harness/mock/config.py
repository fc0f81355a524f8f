"""The mock's switches, and its record of what it received.

Everything here is plain data that a test may read or change while the mock serves: the
HTTP layer (``app.py``) and the resolvers (``schema.py``) look at it on every request.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

AuthKind = Literal["bearer", "basic", "header"]
LossMode = Literal["drop", "hang", "error500"]

PROXY_HTML = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)


@dataclass
class Credential:
    """One accepted credential. ``expires_at`` (clock time) makes it a token that expires."""

    kind: AuthKind
    value: str
    name: str = "Authorization"  # the header, for kind="header"
    username: str | None = None  # for kind="basic"
    expires_at: float | None = None

    def matches(self, headers: httpx.Headers) -> bool:
        if self.kind == "bearer":
            return headers.get("authorization") == f"Bearer {self.value}"
        if self.kind == "basic":
            raw = f"{self.username}:{self.value}".encode()
            return headers.get("authorization") == f"Basic {base64.b64encode(raw).decode()}"
        return headers.get(self.name) == self.value


@dataclass
class Fault:
    """An HTTP answer forced on matching GraphQL requests instead of the real one.

    ``operation`` matches the operation name or any root field name; None matches every
    request. ``remaining`` counts down; None means until cleared.
    """

    status: int
    remaining: int | None = 1
    operation: str | None = None
    body: str | bytes | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class UnionError:
    """A union member (PythonError, UnauthorizedError, ...) a root field answers instead."""

    typename: str
    target: str  # root field name (``launchRun``) or operation name (``DaglabLaunchRun``)
    message: str | None = None
    remaining: int | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class LostResponse:
    """The server does the work, then the client never gets the answer.

    ``drop`` closes the connection mid-response; ``hang`` holds it for ``hang_seconds``
    (past the client's timeout) then drops it; ``error500`` answers HTTP 500 with a GraphQL
    ``errors`` body, as a webserver whose response failed after the work was done. In-process (ASGITransport) they raise
    ``httpx.RemoteProtocolError`` and ``httpx.ReadTimeout`` respectively.
    """

    operation: str | None
    mode: LossMode = "drop"
    remaining: int | None = 1
    hang_seconds: float = 30.0


@dataclass
class OAuthClient:
    secret: str
    expires_in: int = 3600  # what the token endpoint announces
    lifetime: float | None = None  # how long the token really lasts; None: expires_in
    scopes: tuple[str, ...] | None = None  # allowed scopes; None: any


@dataclass
class RecordedRequest:
    """What the mock received: one HTTP request, and the GraphQL operation in it if any."""

    method: str
    path: str
    headers: httpx.Headers
    body: bytes
    at: float
    query: str | None = None
    operation_name: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    root_fields: list[str] = field(default_factory=list)
    status: int | None = None
    form: dict[str, str] = field(default_factory=dict)

    @property
    def is_graphql(self) -> bool:
        return self.query is not None


@dataclass
class MockConfig:
    """The switches. Change them at any time; the next request sees the change."""

    version: str = "1.13.29"
    # Seconds between run states (STARTING → STARTED → SUCCESS/FAILURE).
    run_step_seconds: float = 0.2
    # Runs start QUEUED (as with 1.10+'s QueuedRunCoordinator) and report runQueuingSupported.
    run_queue: bool = False
    daemon_healthy: bool = True
    # Added latency, for every request and per operation (name or root field).
    latency: float = 0.0
    latency_by_operation: dict[str, float] = field(default_factory=dict)
    # Auth: when any credential is set, GraphQL requests without a valid one get 401.
    credentials: list[Credential] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    union_errors: list[UnionError] = field(default_factory=list)
    lost_responses: list[LostResponse] = field(default_factory=list)
    # A lagging read replica: runs younger than this many seconds are missing from run lists
    # (``runsOrError``), though ``runOrError`` by id and the launch itself see them.
    run_lookup_lag: float = 0.0
    oauth_clients: dict[str, OAuthClient] = field(default_factory=dict)

    @property
    def auth_required(self) -> bool:
        return bool(self.credentials)


def new_token(prefix: str = "mock") -> str:
    return f"{prefix}_{secrets.token_urlsafe(18)}"


class Switchboard:
    """Thread-safe matching and counting-down of the one-shot switches in a MockConfig."""

    def __init__(self, config: MockConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.oauth_calls = 0

    @staticmethod
    def _matches(target: str | None, operation: str | None, fields: list[str]) -> bool:
        return target is None or target == operation or target in fields

    def take_fault(self, operation: str | None, fields: list[str]) -> Fault | None:
        with self.lock:
            for fault in self.config.faults:
                if self._matches(fault.operation, operation, fields):
                    self._spend(self.config.faults, fault)
                    return fault
        return None

    def take_lost_response(self, operation: str | None, fields: list[str]) -> LostResponse | None:
        with self.lock:
            for loss in self.config.lost_responses:
                if self._matches(loss.operation, operation, fields):
                    self._spend(self.config.lost_responses, loss)
                    return loss
        return None

    def take_union_error(self, field_name: str, operation: str | None) -> UnionError | None:
        with self.lock:
            for forced in self.config.union_errors:
                if forced.target in (field_name, operation):
                    self._spend(self.config.union_errors, forced)
                    return forced
        return None

    def latency_for(self, operation: str | None, fields: list[str]) -> float:
        extra = [
            v for k, v in self.config.latency_by_operation.items() if k == operation or k in fields
        ]
        return self.config.latency + max(extra, default=0.0)

    @staticmethod
    def _spend(items: list[Any], item: Any) -> None:
        if item.remaining is None:
            return
        item.remaining -= 1
        if item.remaining <= 0:
            items.remove(item)

    def check_auth(self, headers: httpx.Headers) -> str | None:
        """None if the request may pass; otherwise why it may not."""
        with self.lock:
            creds = list(self.config.credentials)
        if not creds:
            return None
        now = self.clock()
        expired = False
        for cred in creds:
            if cred.matches(headers):
                if cred.expires_at is not None and now >= cred.expires_at:
                    expired = True
                    continue
                return None
        return "token expired" if expired else "missing or invalid credentials"
