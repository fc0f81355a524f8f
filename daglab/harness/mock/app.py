"""The mock's HTTP face: a plain ASGI app, so it can misbehave the way real servers do.

Routes (``prefix`` is the optional path prefix, e.g. ``/dagster``):

- ``POST|GET <prefix>/graphql``: GraphQL, answered as dagster-webserver does (400 for an
  invalid document, 500 when a non-null field raised, 200 otherwise);
- ``GET <prefix>/server_info``: versions, as dagster-webserver reports them;
- ``POST /oauth/token``: an OAuth2 client-credentials token endpoint;
- ``GET /__mock__/requests`` and ``POST /__mock__/<switch>``: the record and the switches,
  for code that only has the URL (another process).

Each GraphQL request goes: record → latency → forced fault → auth → execute → lost response.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import httpx
from graphql import GraphQLError, OperationDefinitionNode, parse, validate

from daglab.harness.mock.config import Credential, RecordedRequest, new_token
from daglab.harness.mock.controls import MockControls
from daglab.harness.mock.schema import MockContext, schema

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON = "application/json"


class _Drop(Exception):
    """Raised inside the app to end a request without a complete response."""


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def _operation_info(query: str, operation_name: str | None) -> tuple[str | None, list[str]]:
    """The operation's name and root field names, for matching switches and the record."""
    try:
        document = parse(query)
    except GraphQLError:
        return operation_name, []
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next((o for o in ops if o.name and o.name.value == operation_name), None)
    if chosen is None and ops:
        chosen = ops[0]
    if chosen is None:
        return operation_name, []
    name = operation_name or (chosen.name.value if chosen.name else None)
    fields = [sel.name.value for sel in chosen.selection_set.selections if hasattr(sel, "name")]
    return name, fields


class MockApp:
    """The ASGI application of one mock: it answers through the mock's controls."""

    def __init__(self, mock: MockControls) -> None:
        self.mock = mock
        self.closing = threading.Event()

    @property
    def prefix(self) -> str:
        return self.mock.prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets are not served
            return
        body = await self._read_body(receive)
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        headers = httpx.Headers(
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        )
        record = RecordedRequest(
            method=method, path=path, headers=headers, body=body, at=time.time()
        )
        query_string = scope.get("query_string", b"").decode("latin-1")
        try:
            if path == f"{self.prefix}/graphql":
                status, out_headers, payload = await self._graphql(
                    method, body, query_string, record
                )
            elif path == "/oauth/token":
                self.mock.requests.append(record)
                status, out_headers, payload = self._oauth(method, headers, body, record)
            elif path == f"{self.prefix}/server_info" and method == "GET":
                status, out_headers, payload = (
                    200,
                    {"content-type": JSON},
                    _json(
                        {
                            "dagster_webserver_version": self.mock.config.version,
                            "dagster_version": self.mock.config.version,
                            "dagster_graphql_version": self.mock.config.version,
                        }
                    ),
                )
            elif path.startswith("/__mock__/"):
                status, out_headers, payload = self._control(method, path, body)
            else:
                status, out_headers, payload = 404, {"content-type": "text/plain"}, b"Not Found"
        except _Drop as drop:
            await self._lose(send, str(drop))
            return
        record.status = status
        await self._respond(send, status, out_headers, payload)

    # -- plumbing ------------------------------------------------------------------------------

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _read_body(receive: Receive) -> bytes:
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    @staticmethod
    async def _respond(send: Send, status: int, headers: dict[str, str], payload: bytes) -> None:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})

    async def _lose(self, send: Send, mode: str) -> None:
        """End the request without a complete answer (the work is already done)."""
        if self.mock.in_process:
            if mode == "hang":
                raise httpx.ReadTimeout("mock: the server never answered")
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        # Announce a body and never send it: the server then closes the connection.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", JSON.encode()), (b"content-length", b"1000")],
            }
        )

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up when the server is stopping."""
        deadline = time.monotonic() + seconds
        while not self.closing.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.05))

    # -- GraphQL -------------------------------------------------------------------------------

    async def _graphql(
        self, method: str, body: bytes, query_string: str, record: RecordedRequest
    ) -> tuple[int, dict[str, str], bytes]:
        mock = self.mock
        mock.requests.append(record)
        if method == "GET":
            params = {k: v[-1] for k, v in parse_qs(query_string).items()}
            if "query" not in params:
                html = "<!DOCTYPE html><html><body>Dagster UI (mock)</body></html>"
                return 200, {"content-type": "text/html"}, html.encode()
            request: Any = {
                "query": params["query"],
                "operationName": params.get("operationName"),
                "variables": json.loads(params["variables"]) if params.get("variables") else {},
            }
        elif method == "POST":
            try:
                request = json.loads(body or b"null")
            except ValueError:
                return self._errors(400, "POST body sent invalid JSON.")
        else:
            return 405, {"content-type": "text/plain"}, b"Method Not Allowed"
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            return self._errors(400, "Must provide query string.")
        query: str = request["query"]
        variables = request.get("variables") or {}
        if not isinstance(variables, dict):
            return self._errors(400, "Variables are invalid JSON.")
        operation, fields = _operation_info(query, request.get("operationName"))
        record.query, record.operation_name = query, operation
        record.variables, record.root_fields = variables, fields

        switches = mock.switches
        delay = switches.latency_for(operation, fields)
        if delay > 0:
            await self._sleep(delay)
        fault = switches.take_fault(operation, fields)
        if fault is not None:
            return self._fault(fault.status, fault.body, fault.content_type, dict(fault.headers))
        why = switches.check_auth(record.headers)
        if why is not None:
            return self._unauthorized(why)

        status, payload = await self._execute(
            query, variables, request.get("operationName"), operation
        )
        loss = switches.take_lost_response(operation, fields)
        if loss is not None:
            if loss.mode == "error500":
                return self._errors(500, "mock: the response failed after the work was done")
            if loss.mode == "hang" and not mock.in_process:
                await self._sleep(loss.hang_seconds)
            raise _Drop(loss.mode)
        return status, {"content-type": JSON}, _json(payload)

    async def _execute(
        self,
        query: str,
        variables: dict[str, Any],
        operation_name: str | None,
        operation: str | None,
    ) -> tuple[int, dict[str, Any]]:
        try:
            document = parse(query)
        except GraphQLError as exc:
            return 400, {"data": None, "errors": [exc.formatted]}
        invalid = validate(schema._schema, document)
        if invalid:
            return 400, {"data": None, "errors": [e.formatted for e in invalid]}
        context = MockContext(
            state=self.mock.state,
            config=self.mock.config,
            switches=self.mock.switches,
            operation_name=operation,
            now=self.mock.state.now(),
        )
        result = await schema.execute(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
            return (500 if result.data is None else 200), payload
        return 200, payload

    @staticmethod
    def _errors(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
        return status, {"content-type": JSON}, _json({"errors": [{"message": message}]})

    @staticmethod
    def _fault(
        status: int, body: str | bytes | None, content_type: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        if body is None and status == 500:  # what dagster-webserver sends when a resolver fails
            payload = _json({"data": None, "errors": [{"message": "mock: forced HTTP 500"}]})
        elif body is None:  # what a proxy or load balancer sends
            content_type = "text/plain"
            payload = f"{status} {HTTPStatus(status).phrase}".encode()
        else:
            payload = body.encode() if isinstance(body, str) else body
        return status, {"content-type": content_type, **headers}, payload

    def _unauthorized(self, why: str) -> tuple[int, dict[str, str], bytes]:
        kinds = {c.kind for c in self.mock.config.credentials}
        challenge = 'Basic realm="dagster"' if kinds == {"basic"} else 'Bearer realm="dagster"'
        headers = {"content-type": JSON, "www-authenticate": challenge}
        return 401, headers, _json({"error": "unauthorized", "error_description": why})

    # -- OAuth2 --------------------------------------------------------------------------------

    def _oauth(
        self, method: str, headers: httpx.Headers, body: bytes, record: RecordedRequest
    ) -> tuple[int, dict[str, str], bytes]:
        mock = self.mock
        with mock.switches.lock:
            mock.switches.oauth_calls += 1
        if method != "POST":
            return 405, {"content-type": "text/plain"}, b"Method Not Allowed"
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        record.form = {k: ("***" if k == "client_secret" else v) for k, v in form.items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = headers.get("authorization", "")
        if auth.startswith("Basic ") and client_id is None:
            with contextlib.suppress(ValueError):
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            return 400, {"content-type": JSON}, _json({"error": "unsupported_grant_type"})
        client = mock.config.oauth_clients.get(client_id or "")
        if client is None or client.secret != client_secret:
            return 401, {"content-type": JSON}, _json({"error": "invalid_client"})
        scope = form.get("scope")
        if client.scopes is not None and scope and not set(scope.split()) <= set(client.scopes):
            return 400, {"content-type": JSON}, _json({"error": "invalid_scope"})
        token = new_token("oauth")
        lifetime = client.lifetime if client.lifetime is not None else float(client.expires_in)
        with mock.switches.lock:
            mock.config.credentials.append(
                Credential("bearer", token, expires_at=mock.switches.clock() + lifetime)
            )
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": client.expires_in,
        }
        if scope:
            answer["scope"] = scope
        return 200, {"content-type": JSON, "cache-control": "no-store"}, _json(answer)

    # -- control -------------------------------------------------------------------------------

    _CONTROL = frozenset(
        {
            "fail_next",
            "html_next",
            "union_error",
            "lose_response",
            "set_latency",
            "require_bearer",
            "require_basic",
            "require_header",
            "issue_token",
            "clear_auth",
            "add_oauth_client",
            "finish_runs",
            "reset",
        }
    )

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        name = path[len("/__mock__/") :]
        if name == "requests" and method == "GET":
            return (
                200,
                {"content-type": JSON},
                _json(
                    [
                        {
                            "method": r.method,
                            "path": r.path,
                            "headers": dict(r.headers),
                            "operation_name": r.operation_name,
                            "variables": r.variables,
                            "root_fields": r.root_fields,
                            "status": r.status,
                        }
                        for r in self.mock.requests
                    ]
                ),
            )
        if method != "POST" or name not in self._CONTROL:
            return 404, {"content-type": "text/plain"}, b"Not Found"
        try:
            kwargs = json.loads(body or b"{}")
            result = getattr(self.mock, name)(**kwargs)
        except (TypeError, ValueError) as exc:
            return 400, {"content-type": JSON}, _json({"error": str(exc)})
        return 200, {"content-type": JSON}, _json({"ok": True, "result": result})


__all__ = ["MockApp"]
