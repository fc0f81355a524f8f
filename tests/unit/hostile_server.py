"""A hostile HTTP server for the tests: it answers GraphQL requests the way an attacker or a
broken proxy would (gzip bombs, huge bodies, a drip of one byte a second, a huge Retry-After,
malformed JSON), on 127.0.0.1, from a background thread, each connection bounded in time.

The URL's path picks the behaviour: ``HostileServer().url("gzip-bomb")`` is
``http://127.0.0.1:PORT/gzip-bomb``, whose GraphQL endpoint daglab posts to.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

MiB = 2**20
VERSION_JSON = b'{"data": {"version": "1.13.0"}}'
MAX_CONNECTION_SECONDS = 60.0  # no connection outlives this, whatever the client does

Writer = asyncio.StreamWriter
Behaviour = Callable[[dict[str, Any], Writer], Awaitable[None]]


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _json(writer: Writer, payload: Any, status: int = 200, **extra: str) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), **extra}
    writer.write(_head(status, {**headers, "Connection": "close"}) + body)
    await writer.drain()


async def gzip_bomb(request: dict[str, Any], writer: Writer) -> None:
    """2 GiB of JSON whitespace after a valid answer, gzip-compressed to about 2 MiB and sent
    close-delimited (no Content-Length): only the inflated size can give it away."""
    writer.write(
        _head(
            200,
            {"Content-Type": "application/json", "Content-Encoding": "gzip", "Connection": "close"},
        )
    )
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    writer.write(packer.compress(VERSION_JSON))
    spaces = b" " * MiB
    for _ in range(2048):
        writer.write(packer.compress(spaces))
        await writer.drain()
    writer.write(packer.flush())
    await writer.drain()


async def _huge(writer: Writer, declare: bool) -> None:
    headers = {"Content-Type": "application/json", "Connection": "close"}
    if declare:
        headers["Content-Length"] = str(1024 * MiB + len(VERSION_JSON))
    writer.write(_head(200, headers) + VERSION_JSON)
    chunk = b" " * MiB
    for _ in range(1024):
        writer.write(chunk)
        await writer.drain()


async def huge_declared(request: dict[str, Any], writer: Writer) -> None:
    """A 1 GiB body that says so in its Content-Length."""
    await _huge(writer, declare=True)


async def huge_undeclared(request: dict[str, Any], writer: Writer) -> None:
    """A 1 GiB body, close-delimited: it must be counted while it is read."""
    await _huge(writer, declare=False)


async def drip(request: dict[str, Any], writer: Writer) -> None:
    """Headers at once, then one byte a second of a body that never completes in time."""
    writer.write(
        _head(200, {"Content-Type": "application/json", "Content-Length": "100000"}) + b"{"
    )
    await writer.drain()
    for _ in range(int(MAX_CONNECTION_SECONDS)):
        await asyncio.sleep(1.0)
        writer.write(b" ")
        await writer.drain()


async def retry_after(request: dict[str, Any], writer: Writer) -> None:
    await _json(writer, {"errors": [{"message": "slow down"}]}, 429, **{"Retry-After": "999999"})


async def deep_json(request: dict[str, Any], writer: Writer) -> None:
    await _json(writer, b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")


async def not_json(request: dict[str, Any], writer: Writer) -> None:
    await _json(writer, b'{"data": {"version": "1.13', 200)


# Answers of the wrong shape, per operation: the version is fine, the rest is not.
WRONG_SHAPES: dict[str, Any] = {
    "workspace-list": {
        "data": {"workspaceOrError": {"__typename": "Workspace", "locationEntries": "x"}}
    },
    "workspace-missing": {
        "data": {"workspaceOrError": {"__typename": "Workspace", "locationEntries": [{}]}}
    },
    "workspace-types": {
        "data": {
            "workspaceOrError": {
                "__typename": "Workspace",
                "locationEntries": [
                    {"name": 7, "loadStatus": ["LOADED"], "locationOrLoadError": 3}
                ],
            }
        }
    },
    "union-list": {"data": {"workspaceOrError": [1, 2]}},
    "errors-object": {"errors": {"message": "not a list"}, "data": None},
}


def shaped(kind: str) -> Behaviour:
    async def answer(request: dict[str, Any], writer: Writer) -> None:
        if request.get("operationName") == "DaglabVersion":
            await _json(writer, VERSION_JSON)
        else:
            await _json(writer, WRONG_SHAPES[kind])

    return answer


def escapes(payload: dict[str, Any]) -> Behaviour:
    """The version, then ``payload`` for everything else (server text with escapes in it)."""

    async def answer(request: dict[str, Any], writer: Writer) -> None:
        if request.get("operationName") == "DaglabVersion":
            await _json(writer, VERSION_JSON)
        else:
            await _json(writer, payload)

    return answer


BEHAVIOURS: dict[str, Behaviour] = {
    "gzip-bomb": gzip_bomb,
    "huge-declared": huge_declared,
    "huge-undeclared": huge_undeclared,
    "drip": drip,
    "retry-after": retry_after,
    "deep-json": deep_json,
    "not-json": not_json,
    **{f"shape-{kind}": shaped(kind) for kind in WRONG_SHAPES},
}


class HostileServer:
    """Serves ``BEHAVIOURS`` (plus any added to ``extra``) on 127.0.0.1 from a thread."""

    def __init__(self) -> None:
        self.extra: dict[str, Behaviour] = {}
        self.port = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hostile-server", daemon=True)

    def url(self, behaviour: str) -> str:
        return f"http://127.0.0.1:{self.port}/{behaviour}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, limit=4 * MiB)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        self.connections += 1
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._answer(reader, writer), MAX_CONNECTION_SECONDS)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        finally:
            writer.close()
        assert time.monotonic() - started < MAX_CONNECTION_SECONDS + 5

    async def _answer(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        path = request_line.split(" ")[1]
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in header_lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        name = path.strip("/").split("/")[0]
        behaviour = self.extra.get(name) or BEHAVIOURS[name]
        await behaviour(request if isinstance(request, dict) else {}, writer)
