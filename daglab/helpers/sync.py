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

import inspect
from collections.abc import Callable
from typing import Any

from daglab.helpers import automate as _automate
from daglab.helpers import operate as _operate
from daglab.helpers import session as _core
from daglab.helpers import state
from daglab.helpers.performance import (
    PerformanceMetrics,
    _check_operation,
    _Measurement,
    clear_performance,
    get_memory_usage,
    performance_report,
)
from daglab.helpers.portal import blocking, portal

connect = blocking(_core.connect)
close = blocking(_core.close)
discover_locations = blocking(_core.discover_locations)
discover_jobs = blocking(_core.discover_jobs)
discover_assets = blocking(_core.discover_assets)
validate_config = blocking(_core.validate_config)
run_job = blocking(_core.run_job)
run_assets = blocking(_core.run_assets)
get_run = blocking(_core.get_run)
wait_for_run = blocking(_core.wait_for_run)
cancel_run = blocking(_core.cancel_run)
refresh_runs = blocking(_core.refresh_runs)
resume_runs = blocking(_core.resume_runs)
list_runs = blocking(_operate.list_runs)
resolve_run = blocking(_operate.resolve_run)
get_run_details = blocking(_operate.get_run_details)
get_run_logs = blocking(_operate.get_run_logs)
get_step_logs = blocking(_operate.get_step_logs)
rerun = blocking(_operate.rerun)
backfill = blocking(_operate.backfill)
get_backfill = blocking(_operate.get_backfill)
list_backfills = blocking(_operate.list_backfills)
wait_for_backfill = blocking(_operate.wait_for_backfill)
cancel_backfill = blocking(_operate.cancel_backfill)
resume_backfill = blocking(_operate.resume_backfill)
asset_status = blocking(_operate.asset_status)
asset_history = blocking(_operate.asset_history)
list_checks = blocking(_operate.list_checks)
run_checks = blocking(_operate.run_checks)
list_schedules = blocking(_automate.list_schedules)
list_sensors = blocking(_automate.list_sensors)
get_schedule = blocking(_automate.get_schedule)
get_sensor = blocking(_automate.get_sensor)
start_schedule = blocking(_automate.start_schedule)
stop_schedule = blocking(_automate.stop_schedule)
start_sensor = blocking(_automate.start_sensor)
stop_sensor = blocking(_automate.stop_sensor)
reload_location = blocking(_automate.reload_location)
get_daemon_health = blocking(_automate.get_daemon_health)

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
    "asset_history",
    "asset_status",
    "backfill",
    "cancel_backfill",
    "cancel_run",
    "clear_performance",
    "close",
    "connect",
    "discover_assets",
    "discover_jobs",
    "discover_locations",
    "get_backfill",
    "get_daemon_health",
    "get_memory_usage",
    "get_run",
    "get_run_details",
    "get_run_logs",
    "get_schedule",
    "get_sensor",
    "get_step_logs",
    "list_backfills",
    "list_checks",
    "list_runs",
    "list_schedules",
    "list_sensors",
    "load_config_from_file",
    "performance_report",
    "portal",
    "refresh_runs",
    "reload_location",
    "rerun",
    "resolve_run",
    "resume_backfill",
    "resume_runs",
    "run_assets",
    "run_checks",
    "run_job",
    "start_schedule",
    "start_sensor",
    "state",
    "stop_schedule",
    "stop_sensor",
    "track_performance",
    "validate_config",
    "wait_for_backfill",
    "wait_for_run",
]
