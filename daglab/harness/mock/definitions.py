"""The mock's fixture workspace: code locations, jobs, assets and their config schemas.

Frozen definitions, mirroring ``fixtures/dagster_project``; the run state machine
(``state.py``) launches runs of them and ``schema/`` renders them as Dagster's types.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

REPOSITORY = "__repository__"
ASSET_JOB = "__ASSET_JOB"

AssetPath = tuple[str, ...]


@dataclass(frozen=True)
class ConfigField:
    """One field of an op's config schema (Dagster type name: Int, Float, String, Bool)."""

    name: str
    type: str
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class PartitionsDef:
    type: str  # PartitionDefinitionType: TIME_WINDOW, STATIC, ...
    description: str
    keys: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class AssetDef:
    path: AssetPath
    group: str
    description: str | None = None
    compute_kind: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    deps: tuple[AssetPath, ...] = ()
    partitions: PartitionsDef | None = None
    owners: tuple[str, ...] = ()
    log_message: str = "daglab fixture: materializing"

    @property
    def key(self) -> str:
        return "/".join(self.path)

    @property
    def op_name(self) -> str:
        return "__".join(self.path)


@dataclass(frozen=True)
class JobDef:
    name: str
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    ops: tuple[str, ...] = ()
    assets: tuple[AssetPath, ...] = ()
    config: Mapping[str, tuple[ConfigField, ...]] = field(default_factory=dict)
    fails_in: str | None = None  # the op that raises
    log_messages: Mapping[str, str] = field(default_factory=dict)
    sleep_op: str | None = None  # the op whose `seconds` config sets the run's duration

    @property
    def is_asset_job(self) -> bool:
        return bool(self.assets)

    @property
    def op_names(self) -> tuple[str, ...]:
        return self.ops + tuple("__".join(p) for p in self.assets)


@dataclass
class LocationDef:
    name: str
    jobs: dict[str, JobDef]
    assets: dict[AssetPath, AssetDef]
    repository: str = REPOSITORY
    load_error: str | None = None  # set to make the location fail to load (PythonError)
    updated_timestamp: float = field(default_factory=time.time)

    def steps_of(self, job: JobDef, asset_selection: Iterable[AssetPath] | None) -> list[str]:
        if job.is_asset_job:
            chosen = list(asset_selection) if asset_selection else list(job.assets)
            return [self.assets[p].op_name for p in chosen]
        return list(job.ops)


def fixture_locations() -> dict[str, LocationDef]:
    """Locations ``main`` and ``analytics``, mirroring ``fixtures/dagster_project``."""
    daily = PartitionsDef(
        type="TIME_WINDOW",
        description="Daily, starting 2024-01-01 UTC. Ending 2024-01-08 UTC.",
        keys=tuple(f"2024-01-0{d}" for d in range(1, 8)),
    )
    main_assets = [
        AssetDef(
            ("orders", "raw_orders"),
            "orders",
            "Raw orders as they arrive from the shop.",
            "python",
            {"domain": "sales", "tier": "bronze"},
            log_message="daglab fixture: loading raw orders",
        ),
        AssetDef(
            ("orders", "cleaned_orders"),
            "orders",
            "Orders with duplicates and test orders removed.",
            "pandas",
            {"domain": "sales", "tier": "silver"},
            deps=(("orders", "raw_orders"),),
            log_message="daglab fixture: cleaning orders",
        ),
        AssetDef(
            ("orders", "order_summary"),
            "reporting",
            "Daily totals of cleaned orders.",
            "python",
            {"domain": "sales", "tier": "gold"},
            deps=(("orders", "cleaned_orders"),),
            log_message="daglab fixture: summarising orders",
        ),
        AssetDef(
            ("customers", "raw_customers"),
            "customers",
            "Customers as exported from the CRM.",
            None,
            {"domain": "crm", "tier": "bronze"},
            log_message="daglab fixture: loading raw customers",
        ),
        AssetDef(
            ("customers", "customer_ltv"),
            "reporting",
            "Lifetime value per customer.",
            None,
            {"domain": "crm", "tier": "gold"},
            deps=(("customers", "raw_customers"), ("orders", "cleaned_orders")),
            log_message="daglab fixture: computing customer lifetime value",
        ),
        AssetDef(
            ("events", "daily_events"),
            "events",
            "Web events of one day (7 daily partitions, 2024-01-01 .. 2024-01-07).",
            None,
            {"domain": "web"},
            partitions=daily,
            log_message="daglab fixture: counting events",
        ),
    ]
    orders = tuple(a.path for a in main_assets if a.path[0] == "orders")
    main_jobs = [
        JobDef(
            ASSET_JOB,
            None,
            assets=tuple(a.path for a in main_assets),
        ),
        JobDef("orders_job", "Materializes the three orders/* assets.", assets=orders),
        JobDef(
            "config_job",
            "One op with a config schema: rows (required int), label, factor.",
            ops=("process_rows",),
            config={
                "process_rows": (
                    ConfigField("rows", "Int", required=True),
                    ConfigField("label", "String", default="daglab"),
                    ConfigField("factor", "Float", default=1.0),
                )
            },
            log_messages={"process_rows": "daglab fixture: processing rows"},
        ),
        JobDef(
            "failing_job",
            "Always fails in op `explode`.",
            ops=("explode",),
            fails_in="explode",
            log_messages={"explode": "daglab fixture: about to fail"},
        ),
        JobDef(
            "slow_job",
            "Sleeps `seconds` (default 30) in op `sleep_for`; for cancel and timeout tests.",
            ops=("sleep_for",),
            config={"sleep_for": (ConfigField("seconds", "Float", default=30.0),)},
            sleep_op="sleep_for",
            log_messages={"sleep_for": "daglab fixture: sleeping"},
        ),
        JobDef(
            "tagged_job",
            "A job with definition tags.",
            tags={"team": "data", "priority": "high"},
            ops=("noop",),
            log_messages={"noop": "daglab fixture: noop"},
        ),
        JobDef(
            "shared_job",
            "A job whose name also exists in location `analytics`.",
            ops=("noop",),
            log_messages={"noop": "daglab fixture: noop"},
        ),
    ]
    report = AssetDef(
        ("analytics", "daily_report"),
        "analytics",
        "The daily BI report.",
        None,
        {"domain": "bi"},
        log_message="daglab fixture: building the daily report",
    )
    analytics_jobs = [
        JobDef(ASSET_JOB, None, assets=(report.path,)),
        JobDef(
            "shared_job",
            "A job whose name also exists in location `main`.",
            ops=("noop",),
            log_messages={"noop": "daglab fixture: noop in analytics"},
        ),
        JobDef("analytics_job", "Materializes analytics/daily_report.", assets=(report.path,)),
    ]
    return {
        "main": LocationDef(
            "main", {j.name: j for j in main_jobs}, {a.path: a for a in main_assets}
        ),
        "analytics": LocationDef(
            "analytics", {j.name: j for j in analytics_jobs}, {report.path: report}
        ),
    }
