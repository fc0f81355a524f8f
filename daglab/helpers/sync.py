"""The blocking twin of ``daglab.helpers``: the same functions with the same signatures.

Use it in plain scripts, or in a notebook when you would rather not ``await``::

    import daglab.helpers.sync as dl
    result = dl.run_job("orders_job")

Each call runs the async core on one background event loop (a daemon thread started on
first use), so it works inside a running loop (Jupyter) without nest_asyncio, and the
connection pool is shared by every call. Live progress is drawn by the calling thread.
Ctrl-C stops waiting; a run already launched goes on (and stays in the session state).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
import queue
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from daglab.helpers import session as _core
from daglab.helpers import state
from daglab.helpers.display import caller_queue
from daglab.helpers.performance import (
    PerformanceMetrics,
    _check_operation,
    _Measurement,
    clear_performance,
    get_memory_usage,
    performance_report,
)

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


def _blocking(func: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """The blocking version of an async helper: same name, signature and docstring."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return portal.call(func, *args, **kwargs)

    return wrapper


connect = _blocking(_core.connect)
close = _blocking(_core.close)
discover_locations = _blocking(_core.discover_locations)
discover_jobs = _blocking(_core.discover_jobs)
discover_assets = _blocking(_core.discover_assets)
validate_config = _blocking(_core.validate_config)
run_job = _blocking(_core.run_job)
run_assets = _blocking(_core.run_assets)
get_run = _blocking(_core.get_run)
wait_for_run = _blocking(_core.wait_for_run)
cancel_run = _blocking(_core.cancel_run)
refresh_runs = _blocking(_core.refresh_runs)
resume_runs = _blocking(_core.resume_runs)

load_config_from_file = _core.load_config_from_file


def track_performance(
    operation: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, PerformanceMetrics]:
    """Call ``func(*args, **kwargs)`` and measure wall time, CPU time and peak memory; the
    measurement is kept for ``performance_report()``. An async ``func`` (or one returning an
    awaitable) runs to completion on the helpers' event loop."""
    _check_operation(operation, func)
    measurement = _Measurement(operation)
    try:
        result = func(*args, **kwargs)
        if inspect.isawaitable(result):
            awaitable = result

            async def finish() -> Any:
                return await awaitable

            result = portal.call(finish)
    except BaseException as exc:
        measurement.finish(exc)
        raise
    return result, measurement.finish()


__all__ = [
    "cancel_run",
    "clear_performance",
    "close",
    "connect",
    "discover_assets",
    "discover_jobs",
    "discover_locations",
    "get_memory_usage",
    "get_run",
    "load_config_from_file",
    "performance_report",
    "portal",
    "refresh_runs",
    "resume_runs",
    "run_assets",
    "run_job",
    "state",
    "track_performance",
    "validate_config",
    "wait_for_run",
]
