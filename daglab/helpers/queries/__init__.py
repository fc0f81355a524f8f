"""Every GraphQL document daglab sends, named, in one place.

A document may be gated to a range of Dagster minor versions where the schema differs
(see shared/research/graphql-versions.md). ``tests/unit/test_schema_coverage.py`` validates each
document against the SDL of every version it may be sent to. User text never goes into a
document: it travels as GraphQL variables.
"""

from __future__ import annotations

from daglab.helpers.queries.assets import ASSET_HEALTH, ASSET_MATERIALIZATIONS
from daglab.helpers.queries.automation import (
    AUTOMATION,
    DAEMON_HEALTH,
    LOCATION_LOAD,
    RELOAD_LOCATION,
    RELOAD_WORKSPACE,
    SCHEDULE_DETAIL,
    SENSOR_DETAIL,
    START_SCHEDULE,
    START_SENSOR,
    STOP_SCHEDULE,
    STOP_SENSOR,
)
from daglab.helpers.queries.deployment import DEPLOYMENT, INSTANCE, PERMISSIONS, RUN_QUEUE_CONFIG
from daglab.helpers.queries.document import OLDEST, Document, Version, pick
from daglab.helpers.queries.operate import (
    BACKFILL,
    BACKFILLS,
    CANCEL_BACKFILL,
    CAPTURED_LOGS,
    JOB_PARTITION_KEYS,
    LAUNCH_BACKFILL,
    LAUNCH_REEXECUTION,
    RESUME_BACKFILL,
    RUN_DETAILS,
    RUN_IDS_PAGE,
    RUN_LOG_PAGE,
    RUNS_PAGE,
)
from daglab.helpers.queries.runs import (
    ASSET_PARTITION_KEYS,
    CONFIG_SCHEMA,
    CONFIG_VALID,
    JOB_PARTITION,
    LAUNCH_RUN,
    RUN,
    RUN_EVENTS,
    RUN_LOGS_SUBSCRIPTION,
    RUN_PROGRESS,
    RUNS_BY_TAG,
    RUNS_STATUS,
    TERMINATE_RUN,
)
from daglab.helpers.queries.workspace import (
    ASSET_INSTIGATORS,
    ASSETS,
    ASSETS_1_7,
    JOBS,
    REPOSITORIES,
    VERSION,
    WORKSPACE,
)

__all__ = [
    "ASSETS",
    "ASSETS_1_7",
    "ASSET_HEALTH",
    "ASSET_INSTIGATORS",
    "ASSET_MATERIALIZATIONS",
    "ASSET_PARTITION_KEYS",
    "AUTOMATION",
    "BACKFILL",
    "BACKFILLS",
    "CANCEL_BACKFILL",
    "CAPTURED_LOGS",
    "CONFIG_SCHEMA",
    "CONFIG_VALID",
    "DAEMON_HEALTH",
    "DEPLOYMENT",
    "INSTANCE",
    "JOBS",
    "JOB_PARTITION",
    "JOB_PARTITION_KEYS",
    "LAUNCH_BACKFILL",
    "LAUNCH_REEXECUTION",
    "LAUNCH_RUN",
    "LOCATION_LOAD",
    "OLDEST",
    "PERMISSIONS",
    "RELOAD_LOCATION",
    "RELOAD_WORKSPACE",
    "REPOSITORIES",
    "RESUME_BACKFILL",
    "RUN",
    "RUNS_BY_TAG",
    "RUNS_PAGE",
    "RUNS_STATUS",
    "RUN_DETAILS",
    "RUN_EVENTS",
    "RUN_IDS_PAGE",
    "RUN_LOGS_SUBSCRIPTION",
    "RUN_LOG_PAGE",
    "RUN_PROGRESS",
    "RUN_QUEUE_CONFIG",
    "SCHEDULE_DETAIL",
    "SENSOR_DETAIL",
    "START_SCHEDULE",
    "START_SENSOR",
    "STOP_SCHEDULE",
    "STOP_SENSOR",
    "TERMINATE_RUN",
    "VERSION",
    "WORKSPACE",
    "Document",
    "Version",
    "all_documents",
    "pick",
]


def all_documents() -> list[Document]:
    """Every document of every module in this package (a new area counts without being listed
    here), for the schema coverage test."""
    import importlib
    import pkgutil

    areas = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
    ]
    return [value for area in areas for value in vars(area).values() if isinstance(value, Document)]
