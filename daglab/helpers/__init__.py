"""The daglab library: what scripts and notebooks import.

The notebook API is async (``await dl.run_job("orders_job")`` at the top level of a Jupyter
cell, ``asyncio.run(...)`` in a script); ``daglab.helpers.sync`` has the same functions,
blocking. Everything is loaded on first use, so ``import daglab.helpers`` (which every
``daglab.helpers.*`` import runs first) stays cheap.

    import daglab.helpers as dl

    await dl.connect()                                  # or the env/profile/default target
    jobs = await dl.discover_jobs()                     # a table in Jupyter
    assets = await dl.discover_assets(pattern="orders/*")
    result = await dl.run_assets(pattern="orders/*")    # live progress, then the RunResult
    result, metrics = await dl.track_performance("jobs", dl.discover_jobs)
    dl.performance_report()
"""

from __future__ import annotations

import importlib

from daglab.helpers import _httpx_cli

_httpx_cli.install()

# Not ``from typing import TYPE_CHECKING``: importing typing alone costs more than this module.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from daglab.helpers import state, sync
    from daglab.helpers.automate import (
        get_daemon_health,
        get_schedule,
        get_sensor,
        list_schedules,
        list_sensors,
        reload_location,
        start_schedule,
        start_sensor,
        stop_schedule,
        stop_sensor,
    )
    from daglab.helpers.errors import (
        AmbiguousTargetError,
        AuthError,
        BadInputError,
        ConfigValidationError,
        DaglabError,
        RunFailedError,
        RunTimeoutError,
        SelectionError,
        ServerError,
        TargetNotFoundError,
    )
    from daglab.helpers.models import (
        AssetCheckInfo,
        AssetHealth,
        AssetInfo,
        BackfillInfo,
        JobInfo,
        LocationInfo,
        MaterializationRecord,
        RunDetails,
        RunEvent,
        RunResult,
        RunSubmitResult,
        RunSummary,
        ValidationResult,
    )
    from daglab.helpers.operate import (
        asset_history,
        asset_status,
        backfill,
        cancel_backfill,
        get_backfill,
        get_run_details,
        get_run_logs,
        get_step_logs,
        list_backfills,
        list_checks,
        list_runs,
        rerun,
        resolve_run,
        resume_backfill,
        run_checks,
        wait_for_backfill,
    )
    from daglab.helpers.performance import (
        MemoryInfo,
        PerformanceMetrics,
        PerformanceReport,
        clear_performance,
        get_memory_usage,
        performance_report,
    )
    from daglab.helpers.session import (
        Connection,
        cancel_run,
        close,
        connect,
        discover_assets,
        discover_jobs,
        discover_locations,
        get_run,
        load_config_from_file,
        refresh_runs,
        resume_runs,
        run_assets,
        run_job,
        track_performance,
        validate_config,
        wait_for_run,
    )

_SESSION = "daglab.helpers.session"
_OPERATE = "daglab.helpers.operate"
_AUTOMATE = "daglab.helpers.automate"
_PERFORMANCE = "daglab.helpers.performance"
_MODELS = "daglab.helpers.models"
_ERRORS = "daglab.helpers.errors"

_EXPORTS: dict[str, str] = {
    # the async notebook API
    "connect": _SESSION,
    "close": _SESSION,
    "discover_locations": _SESSION,
    "discover_jobs": _SESSION,
    "discover_assets": _SESSION,
    "validate_config": _SESSION,
    "load_config_from_file": _SESSION,
    "run_job": _SESSION,
    "run_assets": _SESSION,
    "get_run": _SESSION,
    "wait_for_run": _SESSION,
    "cancel_run": _SESSION,
    "refresh_runs": _SESSION,
    "resume_runs": _SESSION,
    "list_runs": _OPERATE,
    "resolve_run": _OPERATE,
    "get_run_details": _OPERATE,
    "get_run_logs": _OPERATE,
    "get_step_logs": _OPERATE,
    "rerun": _OPERATE,
    "backfill": _OPERATE,
    "cancel_backfill": _OPERATE,
    "get_backfill": _OPERATE,
    "list_backfills": _OPERATE,
    "resume_backfill": _OPERATE,
    "wait_for_backfill": _OPERATE,
    "asset_status": _OPERATE,
    "asset_history": _OPERATE,
    "list_checks": _OPERATE,
    "run_checks": _OPERATE,
    "list_schedules": _AUTOMATE,
    "list_sensors": _AUTOMATE,
    "get_schedule": _AUTOMATE,
    "get_sensor": _AUTOMATE,
    "start_schedule": _AUTOMATE,
    "stop_schedule": _AUTOMATE,
    "start_sensor": _AUTOMATE,
    "stop_sensor": _AUTOMATE,
    "reload_location": _AUTOMATE,
    "get_daemon_health": _AUTOMATE,
    "track_performance": _SESSION,
    "Connection": _SESSION,
    # local helpers (the same in daglab.helpers.sync)
    "get_memory_usage": _PERFORMANCE,
    "performance_report": _PERFORMANCE,
    "clear_performance": _PERFORMANCE,
    "PerformanceMetrics": _PERFORMANCE,
    "MemoryInfo": _PERFORMANCE,
    "PerformanceReport": _PERFORMANCE,
    # what the helpers return
    "AssetInfo": _MODELS,
    "AssetHealth": _MODELS,
    "AssetCheckInfo": _MODELS,
    "MaterializationRecord": _MODELS,
    "JobInfo": _MODELS,
    "LocationInfo": _MODELS,
    "RunResult": _MODELS,
    "RunSummary": _MODELS,
    "RunDetails": _MODELS,
    "RunEvent": _MODELS,
    "BackfillInfo": _MODELS,
    "RunSubmitResult": _MODELS,
    "ValidationResult": _MODELS,
    # what they raise
    "DaglabError": _ERRORS,
    "BadInputError": _ERRORS,
    "TargetNotFoundError": _ERRORS,
    "AmbiguousTargetError": _ERRORS,
    "SelectionError": _ERRORS,
    "ConfigValidationError": _ERRORS,
    "ServerError": _ERRORS,
    "AuthError": _ERRORS,
    "RunFailedError": _ERRORS,
    "RunTimeoutError": _ERRORS,
}

# Submodules reachable as attributes without an explicit import (``dl.state.load()``).
_SUBMODULES = frozenset({"state", "sync"})

__all__ = [
    "AmbiguousTargetError",
    "AssetCheckInfo",
    "AssetHealth",
    "AssetInfo",
    "AuthError",
    "BackfillInfo",
    "BadInputError",
    "ConfigValidationError",
    "Connection",
    "DaglabError",
    "JobInfo",
    "LocationInfo",
    "MaterializationRecord",
    "MemoryInfo",
    "PerformanceMetrics",
    "PerformanceReport",
    "RunDetails",
    "RunEvent",
    "RunFailedError",
    "RunResult",
    "RunSubmitResult",
    "RunSummary",
    "RunTimeoutError",
    "SelectionError",
    "ServerError",
    "TargetNotFoundError",
    "ValidationResult",
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
    "sync",
    "track_performance",
    "validate_config",
    "wait_for_backfill",
    "wait_for_run",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
