"""Measure what an operation costs: wall time, CPU time and peak memory, without psutil.

Memory comes from ``/proc`` on Linux. The peak of one operation is measured by resetting the
kernel's resident-set high-water mark (``/proc/self/clear_refs``) when it starts and reading
it back (``VmHWM``) when it ends; where that is not possible, ``resource.getrusage`` gives a
lifetime peak, and the delta only shows growth beyond the previous peak
(``PerformanceMetrics.memory_method`` says which was used).
"""

from __future__ import annotations

import inspect
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from daglab.helpers.display import format_bytes, format_seconds, html_table, text_table
from daglab.helpers.errors import BadInputError

T = TypeVar("T")

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MAX_RECORDS = 10_000


# -- reading memory -----------------------------------------------------------------------


def _proc_status() -> dict[str, int]:
    """VmRSS and VmHWM of this process in bytes, from /proc/self/status (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return {}
    out = {}
    for name in ("VmRSS", "VmHWM"):
        match = re.search(rf"^{name}:\s+(\d+)\s*kB", text, re.MULTILINE)
        if match:
            out[name] = int(match.group(1)) * 1024
    return out


def _maxrss() -> int | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    value = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    # kilobytes on Linux, bytes on macOS
    return value if sys.platform == "darwin" else value * 1024


def _current_rss() -> int | None:
    status = _proc_status()
    if "VmRSS" in status:
        return status["VmRSS"]
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _meminfo() -> dict[str, int]:
    try:
        with open("/proc/meminfo", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return {}
    out = {}
    for name in ("MemTotal", "MemAvailable"):
        match = re.search(rf"^{name}:\s+(\d+)\s*kB", text, re.MULTILINE)
        if match:
            out[name] = int(match.group(1)) * 1024
    return out


class _PeakTracker:
    """Shares the kernel's one high-water mark between nested and concurrent measurements.

    Resetting the mark for a new measurement would hide the peaks of those already running,
    so the current mark is folded into each of them (and into the process peak) first.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, int] = {}
        self._next = 0
        self._process_peak = 0
        self._can_reset: bool | None = None

    def _reset_hwm(self) -> bool:
        if self._can_reset is False:
            return False
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
                fh.write("5")
        except OSError:
            self._can_reset = False
            return False
        self._can_reset = "VmHWM" in _proc_status()
        return self._can_reset

    def _hwm(self) -> int | None:
        return _proc_status().get("VmHWM")

    def start(self) -> tuple[int, str]:
        with self._lock:
            hwm = self._hwm()
            if hwm is not None:
                self._process_peak = max(self._process_peak, hwm)
                for token in self._active:
                    self._active[token] = max(self._active[token], hwm)
            method = "hwm" if self._reset_hwm() else ("maxrss" if _maxrss() else "none")
            token = self._next
            self._next += 1
            self._active[token] = 0
            return token, method

    def stop(self, token: int, method: str) -> int | None:
        with self._lock:
            seen = self._active.pop(token, 0)
            if method == "hwm":
                hwm = self._hwm()
                if hwm is None:
                    return None
                self._process_peak = max(self._process_peak, hwm)
                return max(seen, hwm)
            if method == "maxrss":
                return _maxrss()
            return None

    def process_peak(self) -> int | None:
        with self._lock:
            hwm = self._hwm()
            candidates = [v for v in (hwm, self._process_peak, None if hwm else _maxrss()) if v]
            return max(candidates) if candidates else None


_peaks = _PeakTracker()


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryInfo:
    """Memory of this process and of the machine, in bytes (None where the OS does not say)."""

    rss_bytes: int | None
    peak_rss_bytes: int | None
    system_available_bytes: int | None
    system_total_bytes: int | None

    @property
    def rss_mb(self) -> float | None:
        return _mb(self.rss_bytes)

    @property
    def peak_rss_mb(self) -> float | None:
        return _mb(self.peak_rss_bytes)

    @property
    def system_available_mb(self) -> float | None:
        return _mb(self.system_available_bytes)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"RSS {format_bytes(self.rss_bytes)}, peak {format_bytes(self.peak_rss_bytes)}, "
            f"system available {format_bytes(self.system_available_bytes)}"
            f" of {format_bytes(self.system_total_bytes)}"
        )

    def _repr_html_(self) -> str:
        return html_table(
            ["process RSS", "process peak", "system available", "system total"],
            [
                [
                    format_bytes(self.rss_bytes),
                    format_bytes(self.peak_rss_bytes),
                    format_bytes(self.system_available_bytes),
                    format_bytes(self.system_total_bytes),
                ]
            ],
            caption="Memory",
        )


@dataclass(frozen=True)
class PerformanceMetrics:
    """What one tracked operation cost."""

    operation: str
    wall_s: float
    cpu_s: float
    rss_before_bytes: int | None
    rss_after_bytes: int | None
    peak_rss_bytes: int | None
    peak_memory_delta_bytes: int | None
    memory_method: str
    started_at: float
    ok: bool = True
    error: str | None = None

    @property
    def cpu_percent(self) -> float:
        """CPU time over wall time (above 100 when several threads worked at once)."""
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def peak_memory_delta_mb(self) -> float | None:
        return _mb(self.peak_memory_delta_bytes)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "cpu_percent": round(self.cpu_percent, 1)}

    def __str__(self) -> str:
        status = "" if self.ok else f" FAILED ({self.error})"
        return (
            f"{self.operation}: wall {format_seconds(self.wall_s)}, "
            f"CPU {format_seconds(self.cpu_s)} ({self.cpu_percent:.0f}%), "
            f"peak memory +{format_bytes(self.peak_memory_delta_bytes)}{status}"
        )

    def _repr_html_(self) -> str:
        return html_table(
            ["operation", "wall", "CPU", "CPU %", "peak memory Δ", "RSS after", "ok"],
            [
                [
                    self.operation,
                    format_seconds(self.wall_s),
                    format_seconds(self.cpu_s),
                    f"{self.cpu_percent:.0f}%",
                    format_bytes(self.peak_memory_delta_bytes),
                    format_bytes(self.rss_after_bytes),
                    "yes" if self.ok else f"no: {self.error}",
                ]
            ],
        )


@dataclass(frozen=True)
class OperationSummary:
    """All tracked runs of one operation, summarized."""

    operation: str
    count: int
    failures: int
    wall_mean_s: float
    wall_min_s: float
    wall_max_s: float
    cpu_mean_s: float
    peak_memory_delta_max_bytes: int | None
    relative: float
    """Mean wall time over that of the fastest operation in the report (1.0 = fastest)."""


@dataclass(frozen=True)
class PerformanceReport:
    """Tracked operations side by side, fastest first."""

    rows: list[OperationSummary] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __getitem__(self, operation: str) -> OperationSummary:
        for row in self.rows:
            if row.operation == operation:
                return row
        raise KeyError(operation)

    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(row) for row in self.rows]

    def _cells(self) -> list[list[str]]:
        return [
            [
                row.operation,
                str(row.count),
                format_seconds(row.wall_mean_s),
                format_seconds(row.wall_min_s),
                format_seconds(row.wall_max_s),
                format_seconds(row.cpu_mean_s),
                format_bytes(row.peak_memory_delta_max_bytes),
                f"{row.relative:.2f}x",
                str(row.failures),
            ]
            for row in self.rows
        ]

    _HEADERS = (
        "operation",
        "runs",
        "wall mean",
        "wall min",
        "wall max",
        "CPU mean",
        "peak memory Δ",
        "vs fastest",
        "failed",
    )

    def __str__(self) -> str:
        if not self.rows:
            return "No operations tracked yet."
        return text_table(list(self._HEADERS), self._cells())

    def _repr_html_(self) -> str:
        if not self.rows:
            return "<p>No operations tracked yet.</p>"
        return html_table(list(self._HEADERS), self._cells(), caption="Performance")


def _mb(value: int | None) -> float | None:
    return None if value is None else value / (1024 * 1024)


# -- recording --------------------------------------------------------------------------


class _Records:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[PerformanceMetrics] = []

    def add(self, metrics: PerformanceMetrics) -> None:
        with self._lock:
            self._items.append(metrics)
            del self._items[:-_MAX_RECORDS]

    def all(self) -> list[PerformanceMetrics]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


records = _Records()


class _Measurement:
    """One measurement in progress; ``finish`` turns it into ``PerformanceMetrics``."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.started_at = time.time()
        self.rss_before = _current_rss()
        self.token, self.method = _peaks.start()
        self._maxrss_before = _maxrss() if self.method == "maxrss" else None
        self.cpu0 = time.process_time()
        self.wall0 = time.perf_counter()

    def finish(self, error: BaseException | None = None, record: bool = True) -> PerformanceMetrics:
        wall = time.perf_counter() - self.wall0
        cpu = time.process_time() - self.cpu0
        peak = _peaks.stop(self.token, self.method)
        rss_after = _current_rss()
        delta: int | None = None
        if self.method == "hwm" and peak is not None and self.rss_before is not None:
            delta = max(0, peak - self.rss_before)
        elif self.method == "maxrss" and peak is not None and self._maxrss_before is not None:
            delta = max(0, peak - self._maxrss_before)
        metrics = PerformanceMetrics(
            operation=self.operation,
            wall_s=wall,
            cpu_s=cpu,
            rss_before_bytes=self.rss_before,
            rss_after_bytes=rss_after,
            peak_rss_bytes=peak,
            peak_memory_delta_bytes=delta,
            memory_method=self.method,
            started_at=self.started_at,
            ok=error is None,
            error=None if error is None else f"{type(error).__name__}: {error}".splitlines()[0],
        )
        if record:
            records.add(metrics)
        return metrics


def _check_operation(operation: object, func: object) -> None:
    if not isinstance(operation, str) or not operation:
        raise BadInputError("track_performance needs an operation name (a non-empty string).")
    if not callable(func):
        raise BadInputError(f"track_performance needs a callable, not {type(func).__name__}.")


def track_sync(
    operation: str, func: Callable[..., T], *args: Any, **kwargs: Any
) -> tuple[T, PerformanceMetrics]:
    """Call ``func(*args, **kwargs)`` and measure it; record it for ``performance_report``.

    If ``func`` raises, the failed measurement is recorded and the exception propagates.
    ``func`` must not return an awaitable: use ``track_async`` for coroutines.
    """
    _check_operation(operation, func)
    measurement = _Measurement(operation)
    try:
        result = func(*args, **kwargs)
    except BaseException as exc:
        measurement.finish(exc)
        raise
    return result, measurement.finish()


async def track_async(
    operation: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, PerformanceMetrics]:
    """Like ``track_sync``, for a callable that may return an awaitable (awaited and measured).

    CPU time is the whole process's, so other work running on the loop at the same time
    counts too.
    """
    _check_operation(operation, func)
    measurement = _Measurement(operation)
    try:
        result = func(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
    except BaseException as exc:
        measurement.finish(exc)
        raise
    return result, measurement.finish()


def is_async_callable(func: object) -> bool:
    """True for coroutine functions, also behind functools.partial or a callable object."""
    while hasattr(func, "func") and not inspect.isfunction(func):  # functools.partial
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004
    )


# -- public helpers ---------------------------------------------------------------------


def get_memory_usage() -> MemoryInfo:
    """This process's resident memory and its peak, and the memory the machine has free."""
    meminfo = _meminfo()
    rss = _current_rss()
    peak = _peaks.process_peak()
    if rss is not None and peak is not None:
        peak = max(peak, rss)
    return MemoryInfo(
        rss_bytes=rss,
        peak_rss_bytes=peak,
        system_available_bytes=meminfo.get("MemAvailable"),
        system_total_bytes=meminfo.get("MemTotal"),
    )


def performance_report(operations: Iterable[str] | None = None) -> PerformanceReport:
    """Compare the operations tracked in this session side by side, fastest first."""
    wanted = set(operations) if operations is not None else None
    grouped: dict[str, list[PerformanceMetrics]] = {}
    for item in records.all():
        if wanted is None or item.operation in wanted:
            grouped.setdefault(item.operation, []).append(item)
    rows = []
    for name, items in grouped.items():
        walls = [m.wall_s for m in items]
        deltas = [m.peak_memory_delta_bytes for m in items if m.peak_memory_delta_bytes is not None]
        rows.append(
            (
                name,
                len(items),
                sum(1 for m in items if not m.ok),
                statistics.fmean(walls),
                min(walls),
                max(walls),
                statistics.fmean(m.cpu_s for m in items),
                max(deltas) if deltas else None,
            )
        )
    rows.sort(key=lambda r: r[3])
    fastest = rows[0][3] if rows else 0.0
    return PerformanceReport(
        [
            OperationSummary(
                operation=name,
                count=count,
                failures=failures,
                wall_mean_s=mean,
                wall_min_s=low,
                wall_max_s=high,
                cpu_mean_s=cpu,
                peak_memory_delta_max_bytes=delta,
                relative=(mean / fastest) if fastest > 0 else 1.0,
            )
            for name, count, failures, mean, low, high, cpu, delta in rows
        ]
    )


def clear_performance() -> None:
    """Forget the operations tracked so far."""
    records.clear()
