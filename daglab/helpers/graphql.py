"""DagsterClient: HTTP transport, retries, error mapping and version detection.

Knows HTTP and GraphQL, nothing about the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import json
import logging
import random
import re
import ssl
import time
import zlib
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from daglab import __version__
from daglab.helpers import errors
from daglab.helpers.auth import AuthConfig, HeaderAuth, redact_headers, redact_text
from daglab.helpers.checks import check_seconds, check_url
from daglab.helpers.config import ConnectionSettings
from daglab.helpers.errors import setting
from daglab.helpers.queries import VERSION, Document
from daglab.helpers.settings import DEFAULT_HTTP_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES

log = logging.getLogger("daglab.http")
T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# daglab decodes the body itself (bounded), so it only asks for what it can decode.
ACCEPT_ENCODING = "gzip, deflate"
_INFLATE_STEP = 1 << 20  # decompress at most 1 MiB per step, checking the cap after each
NEWEST_KNOWN: tuple[int, int] = (1, 13)


def parse_version(text: str) -> tuple[int, int]:
    """``"1.7.16"`` → ``(1, 7)``; a dev build (``1!0+dev``) counts as the newest known."""
    match = re.match(r"^(\d+)\.(\d+)", text.strip())
    if not match:
        return NEWEST_KNOWN
    return int(match.group(1)), int(match.group(2))


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once per process (loading the CA bundle takes
    about a quarter of a second, for every client otherwise)."""
    return httpx.create_ssl_context()


@functools.lru_cache(maxsize=1)
def _plain_context() -> ssl.SSLContext:
    """For an http:// server: httpx wants a context, but no TLS handshake can happen
    (daglab follows no redirects, and credentials go only to the configured origin), so
    the CA bundle is not loaded. It verifies as strictly as any, having no CA to trust."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _retry_after(response: _Answer) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Inflater:
    """A gzip or deflate stream decoded in bounded steps (a bomb is stopped at the cap,
    never inflated whole)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._obj = zlib.decompressobj(wbits)
        self._first = True

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._obj.decompress(data, _INFLATE_STEP)
            except zlib.error:
                if not (self._first and self.encoding == "deflate"):
                    raise
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, no zlib header
                self._first = False
                continue
            self._first = False
            if out:
                yield out
            data = self._obj.unconsumed_tail
            if self._obj.eof:
                return


class _Answer:
    """Status, headers and the body of one response, read within the caps."""

    __slots__ = ("content", "headers", "request_headers", "status_code")

    def __init__(self, response: httpx.Response, content: bytes | bytearray) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.request_headers = response.request.headers
        self.content = content


async def bounded(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``, cut off with ``asyncio.TimeoutError`` after ``seconds``.

    Unlike ``asyncio.wait_for`` on Python 3.10/3.11, a cancellation (Ctrl-C) that arrives
    as the awaitable finishes is never swallowed.
    """
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(0.0, seconds))
    except BaseException:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise
    if not done:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise asyncio.TimeoutError
    return task.result()


def check_union(
    payload: Mapping[str, Any] | None, ok: str | Iterable[str], what: str
) -> Mapping[str, Any]:
    """Return ``payload`` if its ``__typename`` is one of ``ok``; raise daglab's error otherwise."""
    ok_names = {ok} if isinstance(ok, str) else set(ok)
    if payload is None:
        raise errors.BadResponseError(f"The server returned no data for {what}.")
    if not isinstance(payload, Mapping):
        raise errors.BadResponseError(
            f"The server's answer for {what} is a {type(payload).__name__}, not an object."
        )
    typename = payload.get("__typename")
    if typename in ok_names:
        return payload
    message = payload.get("message") or f"{what} failed with {typename}"
    if typename == "PythonError":
        raise errors.DagsterPythonError(
            f"The Dagster server raised an error while {what}: {message}",
            class_name=payload.get("className"),
        )
    if typename == "UnauthorizedError":
        raise errors.AuthError(f"Dagster refused {what}: {message}")
    raise errors.ServerError(f"{what} failed: {message} ({typename})")


_PYTHON_ERROR_CHARS = 500
_PAGE_LIMIT = re.compile(r"Limit of (\d+) is too large\. Max is (\d+)")


def _find_python_error(value: Any, depth: int = 0) -> Mapping[str, Any] | None:
    """The first ``PythonError`` object in a GraphQL ``data`` tree (bounded depth)."""
    if depth > 12:
        return None
    if isinstance(value, Mapping):
        if value.get("__typename") == "PythonError" or ("message" in value and "stack" in value):
            return value
        items: Iterable[Any] = value.values()
    elif isinstance(value, list):
        items = value[:1000]
    else:
        return None
    for item in items:
        found = _find_python_error(item, depth + 1)
        if found is not None:
            return found
    return None


def _has_unauthorized(data: Mapping[str, Any]) -> bool:
    """Whether a mutation's answer holds an UnauthorizedError (top level or one list down)."""
    for value in data.values():
        items = value[:100] if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, Mapping):
                continue
            if item.get("__typename") == "UnauthorizedError":
                return True
            for inner in item.values():
                if isinstance(inner, list) and any(
                    isinstance(i, Mapping) and i.get("__typename") == "UnauthorizedError"
                    for i in inner[:100]
                ):
                    return True
    return False


class DagsterClient:
    """An async GraphQL client for one Dagster webserver, on one pooled ``httpx.AsyncClient``.

    Queries are retried with exponential backoff and jitter on connection errors, timeouts,
    429 (honouring Retry-After), 502, 503 and 504. A mutation is re-sent only when it surely
    never reached the server (the connection could not be made, or a 429).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        auth: AuthConfig | None = None,
        timeout: float = DEFAULT_HTTP_TIMEOUT,
        max_retries: int = 3,
        backoff_base: float = 0.25,
        backoff_max: float = 8.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        deadline: float | None = None,
    ) -> None:
        if url is None:
            url = f"http://{host or 'localhost'}:{port or 3000}"
        self.url = check_url(url, "the client")
        self.graphql_url = f"{self.url}/graphql"
        self.auth = auth
        self.timeout = timeout = check_seconds(timeout, setting("http_timeout"))
        # One request (headers and the whole body) gets ``timeout``; one ``execute`` (all
        # its attempts and waits) gets ``deadline``: no drip or Retry-After stretches either.
        self.deadline = deadline if deadline is not None else 2 * timeout
        self.max_response_bytes = max_response_bytes
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._version: str | None = None
        self._version_lock = asyncio.Lock()
        self._secrets = auth.secrets() if auth is not None else []
        http_timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._http = httpx.AsyncClient(
            timeout=http_timeout,
            transport=transport,
            verify=(
                True
                if transport is not None
                else _ssl_context()
                if self.url.startswith("https://")
                else _plain_context()
            ),
            auth=(
                HeaderAuth(auth, origin=self.url, transport=transport, timeout=http_timeout)
                if auth is not None
                else None
            ),
            headers={
                "User-Agent": f"daglab/{__version__}",
                **(headers or {}),
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            follow_redirects=False,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )

    @classmethod
    def from_settings(
        cls,
        settings: ConnectionSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> DagsterClient:
        """A client for the target ``settings`` resolved; ``transport`` carries its requests
        (the token endpoint's too), e.g. ``MockDagster().transport()`` in tests."""
        return cls(
            settings.url,
            auth=settings.auth,
            timeout=settings.http_timeout,
            transport=transport,
            **{"max_response_bytes": settings.max_response_bytes, **kwargs},
        )

    async def __aenter__(self) -> DagsterClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"DagsterClient(url={self.url!r}, auth={self.auth!r})"

    # -- requests --------------------------------------------------------------------------

    async def execute(
        self,
        document: Document | str,
        variables: Mapping[str, Any] | None = None,
        *,
        retry: bool | None = None,
    ) -> dict[str, Any]:
        """Send one GraphQL document; return its ``data`` or raise a daglab error."""
        if isinstance(document, Document):
            text, name, is_mutation = document.text, document.name, document.is_mutation
        else:
            text, name = document, None
            is_mutation = document.lstrip().startswith("mutation")
        body: dict[str, Any] = {"query": text, "variables": dict(variables or {})}
        if name:
            body["operationName"] = name
        may_resend = (not is_mutation) if retry is None else retry
        attempt = 0
        deadline = time.monotonic() + self.deadline
        while True:
            budget = min(self.timeout, deadline - time.monotonic())
            try:
                if budget <= 0:
                    raise asyncio.TimeoutError
                response = await bounded(self._post(body, name), budget)
            except UnicodeEncodeError:
                raise errors.BadInputError(
                    "A credential or header for the Dagster server holds non-ASCII characters; "
                    "HTTP headers carry ASCII only.",
                    hint=f"Check {setting('auth_token')}, {setting('headers')}, DAGLAB_TOKEN and "
                    "the profile's auth table.",
                ) from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt >= self.max_retries:
                    raise errors.UnreachableError(
                        f"Cannot reach the Dagster server at {self.url}: {self._describe(exc)}.",
                        hint=f"Is the webserver running and the URL right? ({setting('url')}, DAGLAB_URL)",
                    ) from None
                delay = self._backoff(attempt)
            except (httpx.TimeoutException, asyncio.TimeoutError) as exc:
                if not may_resend or attempt >= self.max_retries:
                    raise self._timeout_error(exc, deadline) from None
                delay = self._backoff(attempt)
            except httpx.TransportError as exc:
                if not may_resend or attempt >= self.max_retries:
                    raise errors.UnreachableError(
                        f"Lost the connection to the Dagster server at {self.url}: "
                        f"{self._describe(exc)}."
                    ) from None
                delay = self._backoff(attempt)
            else:
                status = response.status_code
                retryable = status in RETRY_STATUSES and (may_resend or status == 429)
                wait = _retry_after(response) if status in (429, 503) else None
                if retryable and attempt < self.max_retries:
                    delay = wait if wait is not None else self._backoff(attempt)
                    log.debug("HTTP %s from %s; retrying in %.2fs", status, self.url, delay)
                    if status == 429 and time.monotonic() + delay > deadline:
                        raise self._rate_limited(wait)
                elif status == 429:
                    raise self._rate_limited(wait)
                else:
                    data = self._data(response, name)
                    if is_mutation and _has_unauthorized(data):
                        await self.raise_if_read_only(name)
                    return data
            if time.monotonic() + delay > deadline:
                raise self._timeout_error(None, deadline)
            attempt += 1
            await asyncio.sleep(delay)

    async def raise_if_read_only(self, name: str | None) -> None:
        """After a mutation was refused for want of permission (UnauthorizedError, or a
        TerminateRunFailure saying so): raise ReadOnlyError when the server's
        permissions say everything is off, as ``dagster-webserver --read-only`` has it."""
        from daglab.helpers.queries import PERMISSIONS

        try:
            data = await self.execute(PERMISSIONS)
        except errors.DaglabError:
            return
        perms = [p for p in data.get("permissions") or [] if isinstance(p, Mapping)]
        if perms and not any(p.get("value") for p in perms):
            what = f" ({name})" if name else ""
            raise errors.ReadOnlyError(
                f"The Dagster webserver at {self.url} is read-only: it refuses launches, "
                f"cancels, reloads and schedule or sensor changes{what}.",
                hint="Use a webserver started without --read-only for changes.",
            )

    def _timeout_error(self, exc: BaseException | None, deadline: float) -> errors.ServerError:
        what = f"did not answer within {self.timeout:g}s"
        if exc is not None and not isinstance(exc, asyncio.TimeoutError):
            what += f" ({type(exc).__name__})"
        elif time.monotonic() >= deadline - 0.01:
            what += f" (nor within {self.deadline:g}s with retries)"
        else:
            what += " (its answer was not complete by then)"
        return errors.RequestTimeoutError(
            f"The Dagster server at {self.url} {what}.",
            hint=f"Raise {setting('http_timeout')} if the server is just slow.",
        )

    def _rate_limited(self, wait: float | None) -> errors.ServerError:
        asked = f"; it asks to wait {wait:g}s" if wait is not None else ""
        return errors.RateLimitedError(
            f"The Dagster server at {self.url} is rate limiting daglab (HTTP 429){asked}, "
            f"longer than daglab waits ({self.deadline:g}s for one request).",
            hint="Try again later, or raise " + setting("http_timeout") + ".",
        )

    async def _post(self, body: dict[str, Any], name: str | None) -> _Answer:
        started = time.perf_counter()
        async with self._http.stream("POST", self.graphql_url, json=body) as response:
            content = await self._read(response)
        if log.isEnabledFor(logging.DEBUG):
            headers = redact_headers(dict(response.request.headers), self._secrets)
            log.debug(
                "POST %s %s -> %s (%d bytes) in %.0f ms; request headers %s",
                self.graphql_url,
                name or "(anonymous)",
                response.status_code,
                len(content),
                (time.perf_counter() - started) * 1000,
                headers,
            )
        return _Answer(response, content)

    async def _read(self, response: httpx.Response) -> bytearray:
        """The body, decoded, refused as soon as it (raw or decoded) passes the cap."""
        cap = self.max_response_bytes
        try:
            content = response.content  # built in memory (a test's MockTransport): read already
        except httpx.ResponseNotRead:
            pass
        else:
            if len(content) > cap:
                raise self._too_large(len(content))
            return bytearray(content)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise self._too_large(int(declared))
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        inflater: _Inflater | None = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            inflater = _Inflater(encoding)
        elif encoding not in ("", "identity"):
            raise errors.BadResponseError(
                f"The server at {self.url} sent its answer in an encoding daglab did not ask "
                f"for ({encoding[:40]!r}; daglab accepts {ACCEPT_ENCODING})."
            )
        body = bytearray()
        raw = 0
        try:
            async for chunk in response.aiter_raw():
                raw += len(chunk)
                if raw > cap:
                    raise self._too_large(raw)
                if inflater is None:
                    body += chunk
                    continue
                for piece in inflater.feed(chunk):
                    body += piece
                    if len(body) > cap:
                        raise self._too_large(len(body), inflated=True)
        except zlib.error:
            raise errors.BadResponseError(
                f"The server at {self.url} sent a {encoding} body that does not decompress."
            ) from None
        return body

    def _too_large(self, size: int, *, inflated: bool = False) -> errors.ServerError:
        what = "decompresses to" if inflated else "is"
        return errors.ResponseTooLargeError(
            f"The answer of the server at {self.url} {what} more than "
            f"{self.max_response_bytes / 2**20:g} MiB ({size / 2**20:.0f} MiB read so far); "
            "daglab stopped reading it.",
            hint="If the server is right to send that much, raise DAGLAB_MAX_RESPONSE_MB.",
        )

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def _describe(self, exc: Exception) -> str:
        return redact_text(str(exc) or type(exc).__name__, self._secrets)

    def _data(self, response: _Answer, name: str | None) -> dict[str, Any]:
        status = response.status_code
        what = f"{name} at {self.graphql_url}" if name else self.graphql_url
        if status in (401, 403):
            source = self.auth.source if self.auth is not None else "none (no credentials sent)"
            verb = "rejected the credentials" if status == 401 else "denied access"
            raise errors.AuthError(
                f"The server {verb} (HTTP {status}). Credentials used: {source}.",
                hint=(
                    f"Check the token ({setting('auth_token')}, DAGLAB_TOKEN, "
                    "DAGSTER_CLOUD_API_TOKEN or the profile)."
                ),
            )
        if status in (301, 302, 303, 307, 308):
            location = redact_text(response.headers.get("location", "?"), self._secrets)
            raise errors.HTTPStatusError(
                f"The server redirected {what} to {location} (HTTP {status}); daglab does not "
                "follow redirects, so credentials never go to another host.",
                status,
                hint=f"Use the final URL as {setting('url')}.",
            )
        try:
            payload = json.loads(response.content) if response.content else None
        except RecursionError:
            raise errors.BadResponseError(
                f"The server at {self.url} answered HTTP {status} with JSON nested too deeply."
            ) from None
        except ValueError:
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            message = (
                f"The server at {self.url} answered HTTP {status} with {kind[:60]}, "
                "not GraphQL JSON."
            )
            hint = "Is the URL the Dagster webserver (with its path prefix)? A proxy may be in the way."
            if status >= 500:
                raise errors.HTTPStatusError(message, status, hint=hint) from None
            raise errors.BadResponseError(message, hint=hint) from None
        if not isinstance(payload, dict):
            raise errors.BadResponseError(
                f"The server at {self.url} answered HTTP {status} with JSON that is not a "
                "GraphQL response.",
                hint="Is the URL the Dagster webserver (with its path prefix)? A proxy may be in the way.",
            )
        gql_errors = payload.get("errors")
        if gql_errors and not isinstance(gql_errors, list):
            gql_errors = [gql_errors]
        if gql_errors:
            messages = "; ".join(
                str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in gql_errors[:3]
            )
            raise errors.GraphQLError(
                f"The Dagster server {'failed on' if status >= 500 else 'rejected'} "
                f"{name or 'the request'} (HTTP {status}): "
                f"{redact_text(messages, self._secrets)}",
                [e for e in gql_errors if isinstance(e, dict)],
                status_code=status,
            )
        if status >= 500 and isinstance(payload.get("data"), dict):
            raise self._python_error(payload["data"], status, name)
        if status >= 400:
            if status == 404:
                raise errors.HTTPStatusError(
                    f"No GraphQL endpoint at {self.graphql_url} (HTTP 404).",
                    status,
                    hint="Check the URL and its path prefix.",
                )
            raise errors.HTTPStatusError(
                f"The Dagster server answered HTTP {status} to {name or 'the request'}.", status
            )
        data = payload.get("data")
        if not isinstance(data, dict):
            raise errors.BadResponseError(f"The server at {self.url} sent a response without data.")
        return data

    def _python_error(
        self, data: Mapping[str, Any], status: int, name: str | None
    ) -> errors.HTTPStatusError:
        """The error of an HTTP 5xx whose body still carries GraphQL data (a resolver raised)."""
        found = _find_python_error(data)
        if found is None:
            return errors.HTTPStatusError(
                f"The Dagster server answered HTTP {status} to {name or 'the request'}.", status
            )
        message = str(found.get("message") or "").strip()
        first = redact_text(message.splitlines()[0] if message else "no message", self._secrets)
        first = first[:_PYTHON_ERROR_CHARS]
        cap = _PAGE_LIMIT.search(first)
        text = f"The Dagster server raised an error on {name or 'the request'} (HTTP {status}): {first}"
        if cap:
            return errors.PageLimitError(text, status, maximum=int(cap.group(2)))
        return errors.ServerPythonError(text, status, class_name=found.get("className"))

    # -- version ---------------------------------------------------------------------------

    async def server_version(self) -> str:
        """The webserver's Dagster version (``"1.7.16"``), read once per client."""
        if self._version is None:
            async with self._version_lock:
                if self._version is None:
                    data = await self.execute(VERSION)
                    self._version = str(data.get("version") or "")
        return self._version

    async def version_tuple(self) -> tuple[int, int]:
        return parse_version(await self.server_version())

    @property
    def known_version(self) -> tuple[int, int] | None:
        """The server's ``(major, minor)`` if this client has read it already, else None."""
        return None if self._version is None else parse_version(self._version)
