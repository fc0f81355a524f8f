"""Performance helpers: what an operation costs, memory, and tracked operations side by side."""

from __future__ import annotations

import asyncio
import sys
import time

import helpers_fakes
import pytest

import daglab.helpers as dl
from daglab.helpers import performance, sync
from daglab.helpers.errors import BadInputError

fresh_session = helpers_fakes.fresh_session
pytestmark = pytest.mark.usefixtures("fresh_session")

MiB = 1024 * 1024
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def busy(seconds: float) -> int:
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return n


def allocate(mib: int) -> int:
    block = bytearray(mib * MiB)
    for i in range(0, len(block), 4096):  # touch every page so it is resident
        block[i] = 1
    return len(block)


def test_sync_tracking_returns_the_result_and_its_cost() -> None:
    result, metrics = sync.track_performance("sleep", time.sleep, 0.05)
    assert result is None
    assert metrics.operation == "sleep" and metrics.ok
    assert 0.05 <= metrics.wall_s < 1.0
    assert metrics.cpu_s < metrics.wall_s


def test_cpu_time_is_measured() -> None:
    _, metrics = sync.track_performance("busy", busy, 0.1)
    assert metrics.cpu_s >= 0.09
    assert metrics.cpu_percent == pytest.approx(100 * metrics.cpu_s / metrics.wall_s)


@linux
def test_peak_memory_delta_sees_a_short_lived_allocation() -> None:
    size, metrics = sync.track_performance("allocate", allocate, 64)
    assert size == 64 * MiB
    assert metrics.memory_method == "hwm"
    assert metrics.peak_memory_delta_bytes is not None
    assert metrics.peak_memory_delta_bytes >= 56 * MiB
    # the block is freed again: the peak is above what is left after
    assert metrics.peak_rss_bytes is not None and metrics.rss_after_bytes is not None
    assert metrics.peak_rss_bytes > metrics.rss_after_bytes


@linux
def test_nested_tracking_keeps_the_outer_peak() -> None:
    def outer() -> None:
        allocate(48)
        sync.track_performance("inner", time.sleep, 0.01)

    _, metrics = sync.track_performance("outer", outer)
    assert metrics.peak_memory_delta_bytes is not None
    assert metrics.peak_memory_delta_bytes >= 40 * MiB


async def test_async_tracking_awaits_coroutines() -> None:
    async def fetch(x: int) -> int:
        await asyncio.sleep(0.05)
        return x * 2

    result, metrics = await dl.track_performance("fetch", fetch, 21)
    assert result == 42 and metrics.wall_s >= 0.05
    plain, _ = await dl.track_performance("plain", sum, [1, 2, 3])
    assert plain == 6


def test_sync_tracking_runs_async_callables_to_completion() -> None:
    async def fetch() -> str:
        await asyncio.sleep(0.02)
        return "done"

    result, metrics = sync.track_performance("fetch", fetch)
    assert result == "done" and metrics.wall_s >= 0.02


async def test_sync_tracking_of_async_callables_works_inside_a_running_loop() -> None:
    async def fetch() -> str:
        return "done"

    result, _ = sync.track_performance("fetch", fetch)
    assert result == "done"


def test_a_failing_operation_is_recorded_and_re_raised() -> None:
    def boom() -> None:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        sync.track_performance("boom", boom)
    [row] = dl.performance_report()
    assert row.operation == "boom" and row.failures == 1


@pytest.mark.parametrize("operation,func", [("", len), ("ok", "not callable")])
def test_bad_arguments_are_bad_input(operation: str, func: object) -> None:
    with pytest.raises(BadInputError):
        sync.track_performance(operation, func)  # type: ignore[arg-type]


@linux
def test_memory_usage_reads_the_process_and_the_machine() -> None:
    info = dl.get_memory_usage()
    assert info.rss_bytes and info.rss_bytes > 1 * MiB
    assert info.peak_rss_bytes and info.peak_rss_bytes >= info.rss_bytes
    assert info.system_total_bytes and info.system_available_bytes
    assert 0 < info.system_available_bytes <= info.system_total_bytes
    assert "RSS" in str(info)
    assert "<table" in info._repr_html_()


@linux
def test_the_process_peak_survives_per_operation_resets() -> None:
    sync.track_performance("big", allocate, 80)
    sync.track_performance("small", time.sleep, 0)
    info = dl.get_memory_usage()
    assert info.peak_rss_bytes is not None and info.rss_bytes is not None
    assert info.peak_rss_bytes >= info.rss_bytes + 60 * MiB


def test_report_compares_operations_fastest_first() -> None:
    for _ in range(3):
        sync.track_performance("slow", time.sleep, 0.03)
        sync.track_performance("fast", time.sleep, 0)
    report = dl.performance_report()
    assert [row.operation for row in report] == ["fast", "slow"]
    assert report["fast"].count == 3 and report["fast"].relative == 1.0
    assert report["slow"].relative > 1.0
    assert report["slow"].wall_min_s <= report["slow"].wall_mean_s <= report["slow"].wall_max_s
    only = dl.performance_report(["slow"])
    assert [row.operation for row in only] == ["slow"]
    text = str(report)
    assert text.splitlines()[0].split()[:2] == ["operation", "runs"]
    assert "fast" in text and "slow" in text


def test_report_html_is_escaped() -> None:
    sync.track_performance("<b>op</b>", time.sleep, 0)
    html = dl.performance_report()._repr_html_()
    assert "&lt;b&gt;op&lt;/b&gt;" in html and "<b>op</b>" not in html


def test_an_empty_report_says_so() -> None:
    assert str(dl.performance_report()) == "No operations tracked yet."
    dl.clear_performance()
    assert len(dl.performance_report()) == 0


def test_metrics_serialize_and_print() -> None:
    _, metrics = sync.track_performance("op", time.sleep, 0)
    data = metrics.to_json()
    assert data["operation"] == "op" and "cpu_percent" in data
    assert str(metrics).startswith("op: wall ")
    assert "op" in metrics._repr_html_()


def test_runtime_uses_no_psutil() -> None:
    import subprocess

    code = (
        "import sys, daglab.helpers as dl; dl.get_memory_usage(); "
        "dl.sync.track_performance('x', len, 'abc'); print('psutil' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_records_are_bounded() -> None:
    for _ in range(performance._MAX_RECORDS + 5):
        performance.records.add(
            performance.PerformanceMetrics("x", 0.0, 0.0, None, None, None, None, "none", 0.0)
        )
    assert len(performance.records.all()) == performance._MAX_RECORDS
