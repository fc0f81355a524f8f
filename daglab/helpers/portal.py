"""One private event loop on a daemon thread, to which blocking callers hand coroutines.

The sync twin (``daglab.helpers.sync``) and the blocking parts of ``daglab.helpers.state`` run
the async helpers here, so they work inside a running loop (Jupyter) without nest_asyncio and
share one connection pool. Progress updates queued meanwhile are shown by the caller's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import queue
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from daglab.helpers.progress import caller_queue

P = ParamSpec("P")
T = TypeVar("T")

_DONE = object()


class Portal:
    """A private event loop on a daemon thread that blocking callers hand coroutines to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or not self._thread_alive():
                self._start()
            assert self._loop is not None
            return self._loop

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        thread = threading.Thread(target=run, name="daglab-helpers-loop", daemon=True)
        thread.start()
        ready.wait()
        self._loop, self._thread, self._pid = loop, thread, os.getpid()

    def in_portal_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def call(self, func: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
        """Run ``func(*args, **kwargs)`` on the portal loop and block until it is done,
        showing the progress updates it queues meanwhile."""
        if self.in_portal_thread():
            raise RuntimeError(
                "daglab.helpers.sync was called from inside an async helper; "
                "use the async API (daglab.helpers) with await there."
            )
        events: queue.SimpleQueue[Any] = queue.SimpleQueue()

        async def runner() -> T:
            caller_queue.set(events)
            return await func(*args, **kwargs)

        future = asyncio.run_coroutine_threadsafe(runner(), self.loop())
        future.add_done_callback(lambda _: events.put(_DONE))
        try:
            while True:
                try:
                    item = events.get(timeout=0.25)
                except queue.Empty:
                    continue
                if item is _DONE:
                    break
                with contextlib.suppress(Exception):  # a display failure must not lose the result
                    item()
            while True:  # what was queued just before the end
                try:
                    item = events.get_nowait()
                except queue.Empty:
                    break
                if item is not _DONE:
                    with contextlib.suppress(Exception):
                        item()
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise


portal = Portal()


def blocking(func: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """The blocking version of an async helper: same name, signature and docstring."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return portal.call(func, *args, **kwargs)

    return wrapper
