"""``HeaderAuth``: the httpx auth flow that sends an ``AuthConfig``'s headers, only to the
configured origin, and retries once with a fresh token after a 401."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator

import httpx

from daglab.helpers.auth.config import AuthConfig
from daglab.helpers.auth.tokens import Timeout, TokenManager
from daglab.helpers.errors import AuthError

log = logging.getLogger("daglab.auth")


class HeaderAuth(httpx.Auth):
    """Adds the configured headers to each request; after a 401, refreshes once and retries.

    With ``origin`` set, credentials go only to requests for that scheme, host and port.
    A token endpoint is asked through ``transport`` with ``timeout`` (the client's).
    """

    def __init__(
        self,
        config: AuthConfig,
        origin: str | None = None,
        manager: TokenManager | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: Timeout | None = None,
    ) -> None:
        self.config = config
        self.transport = transport
        self.timeout = timeout
        self.origin = _origin(httpx.URL(origin)) if origin else None
        if manager is None and config.token_source != "token":
            manager = TokenManager.for_config(config)
        self.manager = manager

    def __repr__(self) -> str:
        return f"HeaderAuth(config={self.config!r})"

    def _allowed(self, request: httpx.Request) -> bool:
        return self.origin is None or _origin(request.url) == self.origin

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self._allowed(request):
            yield request
            return
        token = (
            await self.manager.get_token(transport=self.transport, timeout=self.timeout)
            if self.manager
            else None
        )
        request.headers.update(self.config.headers(token))
        response = yield request
        if response.status_code == 401 and self.manager is not None and self.manager.refreshable:
            fresh = await self.manager.refresh(
                stale=token, transport=self.transport, timeout=self.timeout
            )
            if fresh and fresh != token:
                log.debug("HTTP 401 with the cached token; retrying once with a fresh one")
                request.headers.update(self.config.headers(fresh))
                yield request

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        if self._allowed(request):
            if self.config.token_source in ("token_command", "oauth2"):
                cached = self.manager.cached if self.manager else None
                if cached is None:
                    raise AuthError(
                        f"Credentials from {self.config.token_source} need daglab's async client."
                    )
                request.headers.update(self.config.headers(cached.value))
            else:
                request.headers.update(self.config.headers())
        yield request


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), port
