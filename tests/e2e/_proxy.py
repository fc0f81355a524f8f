"""A TCP proxy on 127.0.0.1 that loses the response to chosen requests.

It forwards every byte both ways, except that when a request carries ``marker`` (say the
operation name ``DaglabLaunchRun``), it waits until the server starts answering (so the
server has done the work) and then closes the client's connection without passing the
answer on: exactly "the launch reached the server and the response was lost".
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from types import TracebackType


class DroppingProxy:
    def __init__(
        self, upstream_host: str, upstream_port: int, marker: bytes, drops: int = 1
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.marker = marker
        self.drops_left = drops
        self.dropped = 0
        self.requests_seen = 0
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DroppingProxy:
        self._listener.listen(16)
        accept = threading.Thread(target=self._accept, name="dropping-proxy", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.1)
            if not ready:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _take_drop(self) -> bool:
        with self._lock:
            if self.drops_left <= 0:
                return False
            self.drops_left -= 1
            return True

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream, timeout=30)
        drop_next_answer = False
        tail = b""
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.1)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        window = tail + data
                        if b"POST " in window:
                            with self._lock:
                                self.requests_seen += window.count(b"POST ")
                        if self.marker in window and not drop_next_answer and self._take_drop():
                            drop_next_answer = True
                        tail = window[-len(self.marker) :]
                        upstream.sendall(data)
                    else:
                        if drop_next_answer:  # the server has answered: the work is done
                            with self._lock:
                                self.dropped += 1
                            return
                        client.sendall(data)
        except OSError:
            return
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
