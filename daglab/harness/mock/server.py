"""MockDagster: the mock server, in-process or over real HTTP, and its switches.

In-process (unit tests)::

    mock = MockDagster()
    async with DagsterClient(mock.url, transport=mock.transport()) as client: ...

Over HTTP on a free 127.0.0.1 port (CLI tests, anything in another process)::

    with MockDagster(prefix="/dagster") as mock:
        run_cli("status", "--url", mock.url, env=...)

Switches are methods (``fail_next``, ``union_error``, ``require_bearer`` ...) or fields of
``mock.config``; ``mock.requests`` records what arrived (all in ``controls.py``).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx

from daglab.harness.mock.app import MockApp
from daglab.harness.mock.config import AuthKind, MockConfig
from daglab.harness.mock.controls import MockControls
from daglab.harness.mock.state import MockState

log = logging.getLogger("daglab.harness.mock")

IN_PROCESS_HOST = "mock-dagster.test"


class MockDagster(MockControls):
    """A fake Dagster webserver with switches for auth, faults and error unions."""

    def __init__(
        self,
        *,
        prefix: str = "",
        config: MockConfig | None = None,
        state: MockState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "critical",
    ) -> None:
        super().__init__(prefix=prefix, config=config, state=state)
        self.host = host
        self.port = port
        self.log_level = log_level
        self.app = MockApp(self)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- serving -------------------------------------------------------------------------------

    @property
    def in_process(self) -> bool:
        return self._server is None

    @property
    def base_url(self) -> str:
        """Scheme, host and port, without the prefix (where ``/oauth/token`` lives)."""
        if self._server is None:
            return f"http://{IN_PROCESS_HOST}"
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The Dagster URL to give daglab (with the prefix; ``/graphql`` is appended by it)."""
        return self.base_url + self.prefix

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    def transport(self) -> httpx.ASGITransport:
        """An httpx transport that calls the app in-process: ``DagsterClient(url, transport=...)``."""
        return httpx.ASGITransport(app=self.app)  # type: ignore[arg-type]

    def client(self, **kwargs: Any) -> Any:
        """A DagsterClient talking to this mock (in-process unless it was started)."""
        from daglab.helpers.graphql import DagsterClient

        if self.in_process:
            kwargs.setdefault("transport", self.transport())
        return DagsterClient(self.url, **kwargs)

    def start(self, timeout: float = 10.0) -> MockDagster:
        """Serve over HTTP on ``host:port`` (a free port when 0) from a background thread."""
        if self._server is not None:
            return self
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self.app.closing.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="mock-dagster", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server = None
                sock.close()
                raise RuntimeError("the mock Dagster server did not start")
            time.sleep(0.01)
        self._socket = sock
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; wakes any held ("hang") responses so shutdown is quick."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.app.closing.set()
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._server, self._thread = None, None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if thread.is_alive():
            raise RuntimeError("the mock Dagster server thread did not stop")

    def __enter__(self) -> MockDagster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = "in-process" if self.in_process else self.url
        return f"MockDagster({where}, version={self.config.version!r})"


@contextlib.contextmanager
def serve(**kwargs: Any) -> Any:
    """``with serve(prefix="/dagster") as mock:`` — MockDagster over HTTP."""
    mock = MockDagster(**kwargs)
    with mock:
        yield mock


__all__ = ["AuthKind", "MockDagster", "serve"]
