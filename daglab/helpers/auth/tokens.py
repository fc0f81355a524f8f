"""Tokens that come and go: read from a file, printed by a command, or fetched from an OAuth2
token endpoint (client credentials); ``TokenManager`` caches one with its expiry, refreshes
it shortly before it expires and once after a 401.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import shlex
import subprocess
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from daglab.helpers.auth.config import AuthConfig
from daglab.helpers.auth.secrets import mask_secret, redact_text, register_secret
from daglab.helpers.errors import AuthError, UnreachableError
from daglab.helpers.settings import DEFAULT_HTTP_TIMEOUT

log = logging.getLogger("daglab.auth")

# Refresh this long before a token expires, but never more than a fifth of its lifetime.
REFRESH_MARGIN = 60.0
TOKEN_COMMAND_TIMEOUT = 60.0
Timeout = float | httpx.Timeout


@dataclass(frozen=True)
class CachedToken:
    value: str
    expires_at: float | None  # seconds since the epoch; None: never known to expire
    fetched_at: float

    def expiring(self, now: float) -> bool:
        if self.expires_at is None:
            return False
        lifetime = max(self.expires_at - self.fetched_at, 0.0)
        margin = min(REFRESH_MARGIN, lifetime / 5)
        return now >= self.expires_at - margin

    def __repr__(self) -> str:
        return f"CachedToken(value={mask_secret(self.value)!r}, expires_at={self.expires_at!r})"


def parse_token_output(output: str, *, now: float, lifetime: float | None = None) -> CachedToken:
    """A token and its expiry from what a token command printed.

    Accepts a bare token (a JWT's ``exp`` claim is read if there is one) or JSON with
    ``token``/``access_token``/``id_token`` and ``expires_in`` (seconds) or ``expires_at``
    (epoch seconds or ISO 8601). ``lifetime`` applies when the output gives no expiry.
    """
    text = output.strip()
    if not text:
        raise AuthError("The token command printed nothing.")
    expires_at: float | None = None
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise AuthError(
                "The token command printed something that is not JSON nor a token."
            ) from None
        if not isinstance(doc, dict):
            raise AuthError("The token command printed JSON that is not an object.")
        value = next(
            (doc[k] for k in ("token", "access_token", "id_token") if isinstance(doc.get(k), str)),
            None,
        )
        if not value:
            raise AuthError(
                "The token command printed JSON without a token "
                "(expected token, access_token or id_token)."
            )
        register_secret(value)
        expires_at = _expiry_from(doc, now)
    else:
        if "\n" in text:
            raise AuthError("The token command printed more than one line; expected one token.")
        value = text
        register_secret(value)
        expires_at = _jwt_expiry(value)
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise AuthError("The token holds whitespace or control characters.")
    if expires_at is None and lifetime is not None:
        expires_at = now + lifetime
    return CachedToken(value=value, expires_at=expires_at, fetched_at=now)


def _expiry_from(doc: Mapping[str, Any], now: float) -> float | None:
    expires_in = doc.get("expires_in")
    if expires_in is not None and not isinstance(expires_in, bool):
        try:
            return now + float(expires_in)
        except (TypeError, ValueError):
            pass
    expires_at = doc.get("expires_at", doc.get("expiry", doc.get("expiration")))
    if isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
        return float(expires_at)
    if isinstance(expires_at, str):
        try:
            when = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
        except ValueError:
            try:
                return float(expires_at)
            except ValueError:
                return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    return None


def _jwt_expiry(token: str) -> float | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


_managers: dict[tuple[Any, ...], TokenManager] = {}
_managers_lock = threading.Lock()


def reset_token_managers() -> None:
    """Forget every cached token (tests; or after rotating credentials in a notebook)."""
    with _managers_lock:
        _managers.clear()


class TokenManager:
    """Holds the current token of one credential source, fetching it again when needed.

    The token is cached with its expiry and refreshed shortly before it; after a 401 the
    auth flow asks for one refresh (``refresh(stale=...)``). Concurrent callers share one
    refresh: the first fetches, the others wait for it and reuse its result.

    A token endpoint is asked through the ``transport`` and with the ``timeout`` of the
    caller (``HeaderAuth`` passes its client's), else the ones given here.
    """

    def __init__(
        self,
        config: AuthConfig,
        *,
        clock: Any = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: Timeout = DEFAULT_HTTP_TIMEOUT,
    ) -> None:
        self.config = config
        self.clock = clock
        self.transport = transport
        self.timeout = timeout
        self.refreshes = 0
        self._cached: CachedToken | None = None
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._thread_lock = threading.Lock()

    @classmethod
    def for_config(cls, config: AuthConfig) -> TokenManager:
        """The process-wide manager for ``config``'s token source (shared by every client)."""
        key = (
            config.token_source,
            str(config.token_file),
            repr(config.token_command),
            config.token_lifetime,
            config.token_url,
            config.client_id,
            config.client_secret.get_secret_value() if config.client_secret else None,
            config.scope,
            config.token.get_secret_value() if config.token else None,
        )
        with _managers_lock:
            manager = _managers.get(key)
            if manager is None:
                manager = _managers[key] = cls(config)
            return manager

    def __repr__(self) -> str:
        return f"TokenManager(source={self.config.token_source!r}, cached={self._cached!r})"

    @property
    def refreshable(self) -> bool:
        return self.config.refreshable

    @property
    def cached(self) -> CachedToken | None:
        return self._cached

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._thread_lock:
            lock = self._locks.get(loop)
            if lock is None:
                lock = self._locks[loop] = asyncio.Lock()
            return lock

    def invalidate(self) -> None:
        self._cached = None

    async def get_token(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: Timeout | None = None,
    ) -> str | None:
        """A token that is valid for a while yet, fetching one if needed."""
        cached = self._cached
        if cached is not None and not cached.expiring(self.clock()):
            return cached.value
        if self.config.token_source == "token":
            return self.config.current_token()
        if self.config.token_source == "none":
            return None
        return await self.refresh(
            stale=cached.value if cached else None, transport=transport, timeout=timeout
        )

    async def refresh(
        self,
        stale: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: Timeout | None = None,
    ) -> str | None:
        """Fetch a new token, unless another caller already replaced ``stale`` meanwhile."""
        if self.config.token_source in ("none", "token"):
            return self.config.current_token()
        async with self._lock():
            cached = self._cached
            if cached is not None and cached.value != stale and not cached.expiring(self.clock()):
                return cached.value
            fresh = await self._fetch(transport, timeout)
            self._cached = fresh
            self.refreshes += 1
            log.debug(
                "Fetched a token from %s (%s)%s",
                self.config.token_source,
                mask_secret(fresh.value),
                f", expires in {fresh.expires_at - self.clock():.0f}s"
                if fresh.expires_at is not None
                else "",
            )
            return fresh.value

    async def _fetch(
        self, transport: httpx.AsyncBaseTransport | None, timeout: Timeout | None
    ) -> CachedToken:
        source = self.config.token_source
        if source == "token_file":
            value = self.config.read_token_file()
            if not value:
                raise AuthError(f"The token file {self.config.token_file} is empty.")
            now = self.clock()
            lifetime = self.config.token_lifetime
            expires = _jwt_expiry(value) or (now + lifetime if lifetime else None)
            return CachedToken(value, expires, now)
        if source == "token_command":
            return await self._run_command()
        return await self._client_credentials(
            self.transport if transport is None else transport,
            self.timeout if timeout is None else timeout,
        )

    async def _run_command(self) -> CachedToken:
        # In a thread, not asyncio's subprocess API: cancelling a task that is starting an
        # asyncio subprocess can hang the event loop's shutdown (CPython 3.11).
        out = await asyncio.to_thread(self._run_command_sync)
        return parse_token_output(out, now=self.clock(), lifetime=self.config.token_lifetime)

    def _run_command_sync(self) -> str:
        command = self.config.token_command
        argv = shlex.split(command) if isinstance(command, str) else list(command or [])
        if not argv:
            raise AuthError("auth.token_command is empty.")
        name = os.path.basename(argv[0])
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=TOKEN_COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AuthError(
                f"The token command {name!r} did not finish within {TOKEN_COMMAND_TIMEOUT:.0f}s."
            ) from None
        except OSError as exc:
            raise AuthError(
                f"Cannot run the token command {name!r}: {exc.strerror or type(exc).__name__}.",
                hint="Check auth.token_command in your profile.",
            ) from None
        if proc.returncode != 0:
            first = proc.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
            if first:
                log.debug("The token command said: %s", redact_text(first[0])[:300])
            raise AuthError(
                f"The token command {name!r} failed (exit {proc.returncode}).",
                hint="Run it yourself to see why; it must print a token (or JSON with one).",
            )
        return str(proc.stdout.decode("utf-8", "replace"))

    async def _client_credentials(
        self, transport: httpx.AsyncBaseTransport | None, timeout: Timeout
    ) -> CachedToken:
        config = self.config
        url = config.token_url or ""
        data = {"grant_type": "client_credentials"}
        if config.scope:
            data["scope"] = config.scope
        secret = config.client_secret.get_secret_value() if config.client_secret else ""
        async with httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=False
        ) as client:
            try:
                response = await client.post(
                    url,
                    data=data,
                    auth=httpx.BasicAuth(config.client_id or "", secret),
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise UnreachableError(
                    f"Cannot reach the OAuth2 token endpoint {url}: "
                    f"{redact_text(str(exc) or type(exc).__name__)}."
                ) from None
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if response.status_code != 200 or not isinstance(doc, dict):
            reason = ""
            if isinstance(doc, dict) and isinstance(doc.get("error"), str):
                reason = f": {redact_text(doc['error'])[:100]}"
            raise AuthError(
                f"The OAuth2 token endpoint {url} refused the client credentials "
                f"(HTTP {response.status_code}{reason}).",
                hint="Check client_id, client_secret and scope in the profile's auth table.",
            )
        token = doc.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError(f"The OAuth2 token endpoint {url} answered without an access_token.")
        register_secret(token)
        now = self.clock()
        expires = _expiry_from(doc, now)
        if expires is None and config.token_lifetime:
            expires = now + config.token_lifetime
        return CachedToken(token, expires, now)
