"""The mock's in-memory world: the fixture workspace, the runs it launches, their events.

Plain Python, no GraphQL: ``schema.py`` renders these records as Dagster's types. A run's
whole life (statuses and events, each with the time it happens) is planned when it is
launched; queries show what has happened by "now" (``MockState.clock``), so a run progresses
STARTING → STARTED → SUCCESS (or FAILURE) without any background task.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

REPOSITORY = "__repository__"
ASSET_JOB = "__ASSET_JOB"
TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
ALL_STATUSES = (
    "QUEUED",
    "NOT_STARTED",
    "MANAGED",
    "STARTING",
    "STARTED",
    "SUSPENDED",
    "SUCCESS",
    "FAILURE",
    "CANCELING",
    "CANCELED",
)

AssetPath = tuple[str, ...]


# -- definitions -------------------------------------------------------------------------------


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


# -- run config ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigProblem:
    """One run-config error, shaped like Dagster's PipelineConfigValidationError."""

    kind: str  # MissingFieldConfigError | RuntimeMismatchConfigError | FieldNotDefinedConfigError
    reason: str  # EvaluationErrorReason
    message: str
    path: tuple[str, ...]
    field_name: str | None = None
    value_rep: str | None = None


_TOP_LEVEL_KEYS = ("ops", "execution", "loggers", "resources")
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "Int": (int,),
    "Float": (int, float),
    "String": (str,),
    "Bool": (bool,),
}


def _type_ok(type_name: str, value: Any) -> bool:
    if type_name in ("Int", "Float") and isinstance(value, bool):
        return False
    return isinstance(value, _PY_TYPES.get(type_name, (object,)))


def parse_run_config(data: Any) -> Any:
    """``runConfigData`` may be an object or a YAML string (both accepted by Dagster)."""
    if data is None:
        return {}
    if isinstance(data, str):
        loaded = yaml.safe_load(data) if data.strip() else {}
        return {} if loaded is None else loaded
    return data


def validate_run_config(job: JobDef, run_config: Any) -> list[ConfigProblem]:
    """The problems Dagster would report for ``run_config`` on ``job`` (a useful subset)."""
    problems: list[ConfigProblem] = []
    if not isinstance(run_config, dict):
        return [
            ConfigProblem(
                "RuntimeMismatchConfigError",
                "RUNTIME_TYPE_MISMATCH",
                f'Invalid scalar at path root. Value "{run_config!r}" is not a dict.',
                (),
                value_rep=repr(run_config),
            )
        ]
    for key in run_config:
        if key not in _TOP_LEVEL_KEYS:
            problems.append(
                ConfigProblem(
                    "FieldNotDefinedConfigError",
                    "FIELD_NOT_DEFINED",
                    f'Received unexpected config entry "{key}" at the root.',
                    (),
                    field_name=str(key),
                )
            )
    ops = run_config.get("ops") or {}
    if not isinstance(ops, dict):
        ops = {}
    for op_name in ops:
        if op_name not in job.op_names and op_name not in job.config:
            problems.append(
                ConfigProblem(
                    "FieldNotDefinedConfigError",
                    "FIELD_NOT_DEFINED",
                    f'Received unexpected config entry "{op_name}" at path root:ops.',
                    ("ops",),
                    field_name=str(op_name),
                )
            )
    for op_name, fields in job.config.items():
        op_entry = ops.get(op_name) or {}
        given = op_entry.get("config") if isinstance(op_entry, dict) else None
        given = given if isinstance(given, dict) else {}
        path = ("ops", op_name, "config")
        where = "root:" + ":".join(path)
        known = {f.name for f in fields}
        for f in fields:
            if f.name not in given:
                if f.required:
                    problems.append(
                        ConfigProblem(
                            "MissingFieldConfigError",
                            "MISSING_REQUIRED_FIELD",
                            f'Missing required config entry "{f.name}" at path {where}. '
                            f"Sample config for missing entry: {{'{f.name}': 0}}",
                            path,
                            field_name=f.name,
                        )
                    )
                continue
            value = given[f.name]
            if not _type_ok(f.type, value):
                problems.append(
                    ConfigProblem(
                        "RuntimeMismatchConfigError",
                        "RUNTIME_TYPE_MISMATCH",
                        f'Invalid scalar at path {where}:{f.name}. Value "{value}" of type '
                        f'"{type(value)}" is not valid for expected type "{f.type}".',
                        (*path, f.name),
                        value_rep=repr(value),
                    )
                )
        for name in given:
            if name not in known:
                problems.append(
                    ConfigProblem(
                        "FieldNotDefinedConfigError",
                        "FIELD_NOT_DEFINED",
                        f'Received unexpected config entry "{name}" at path {where}.',
                        path,
                        field_name=str(name),
                    )
                )
    return problems


def default_config_yaml(job: JobDef) -> str:
    """``RunConfigSchema.rootDefaultYaml``: the defaults of every op's config."""
    ops: dict[str, Any] = {}
    for op_name, fields in job.config.items():
        defaults = {f.name: f.default for f in fields if not f.required}
        if defaults:
            ops[op_name] = {"config": defaults}
    return yaml.safe_dump({"ops": ops}, sort_keys=True) if ops else "{}\n"


# -- runs and events -----------------------------------------------------------------------------


def encode_cursor(storage_id: int) -> str:
    """Dagster's opaque event cursor: base64 of ``{"type": "STORAGE_ID", "value": N}``."""
    raw = json.dumps({"type": "STORAGE_ID", "value": storage_id})
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The storage id in a cursor; ValueError if it is not one of ours."""
    if not cursor:
        return -1
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return int(data["value"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ValueError(f"Invalid cursor {cursor!r}") from None


@dataclass
class EventRecord:
    """One entry of a run's event log; ``typename`` is the GraphQL type that renders it."""

    storage_id: int
    at: float
    typename: str
    event_type: str | None
    message: str
    level: str = "DEBUG"
    step_key: str | None = None
    asset_path: AssetPath | None = None
    error: dict[str, Any] | None = None


@dataclass
class RunRecord:
    run_id: str
    job_name: str
    location: str
    repository: str
    tags: dict[str, str]
    run_config: Any
    asset_selection: list[AssetPath] | None
    step_keys: list[str]
    created_at: float
    timeline: list[tuple[float, str]]
    events: list[EventRecord]
    parent_run_id: str | None = None
    root_run_id: str | None = None

    def status(self, now: float) -> str:
        current = self.timeline[0][1]
        for at, status in self.timeline:
            if at <= now:
                current = status
        return current

    def time_of(self, statuses: Iterable[str], now: float) -> float | None:
        wanted = set(statuses)
        for at, status in self.timeline:
            if status in wanted and at <= now:
                return at
        return None

    def start_time(self, now: float) -> float | None:
        return self.time_of(("STARTED",), now)

    def end_time(self, now: float) -> float | None:
        return self.time_of(TERMINAL_STATUSES, now)

    def update_time(self, now: float) -> float:
        return max(at for at, _ in self.timeline if at <= now) if self.timeline else self.created_at

    def visible_events(self, now: float) -> list[EventRecord]:
        return [e for e in self.events if e.at <= now]

    @property
    def config_yaml(self) -> str:
        return yaml.safe_dump(self.run_config or {}, sort_keys=True)


class UnknownTarget(LookupError):
    """The location, repository or job of a selector does not exist."""


class MockState:
    """Locations, runs and event log of one mock server. Thread-safe: the HTTP server's
    thread and the test's thread both use it."""

    def __init__(
        self,
        locations: dict[str, LocationDef] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.locations = locations if locations is not None else fixture_locations()
        self.runs: dict[str, RunRecord] = {}
        self.clock = clock
        self._lock = threading.RLock()
        self._storage_id = 0

    # -- lookups -------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock()

    def loaded_locations(self) -> list[LocationDef]:
        return [loc for loc in self.locations.values() if loc.load_error is None]

    def find_job(self, location: str, repository: str, job_name: str) -> tuple[LocationDef, JobDef]:
        loc = self.locations.get(location)
        if loc is None or loc.load_error is not None or loc.repository != repository:
            raise UnknownTarget(f"{location}.{repository}")
        job = loc.jobs.get(job_name)
        if job is None:
            raise UnknownTarget(f"{location}.{repository}.{job_name}")
        return loc, job

    def find_asset(self, path: Iterable[str]) -> AssetDef | None:
        wanted = tuple(path)
        for loc in self.loaded_locations():
            if wanted in loc.assets:
                return loc.assets[wanted]
        return None

    def location_of_asset(self, path: AssetPath) -> LocationDef | None:
        for loc in self.loaded_locations():
            if path in loc.assets:
                return loc
        return None

    def jobs_of_asset(self, loc: LocationDef, path: AssetPath) -> list[str]:
        return [j.name for j in loc.jobs.values() if path in j.assets]

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            return self.runs.get(run_id)

    # -- launching -----------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._storage_id += 1
        return self._storage_id

    def launch(
        self,
        loc: LocationDef,
        job: JobDef,
        *,
        run_config: Any,
        tags: Mapping[str, str],
        asset_selection: list[AssetPath] | None,
        step_seconds: float,
        queued: bool = False,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
    ) -> RunRecord:
        """Create a run and plan its whole life from now."""
        with self._lock:
            now = self.now()
            run_id = str(uuid.uuid4())
            steps = loc.steps_of(job, asset_selection)
            all_tags = {**job.tags, "dagster/code_location": loc.name, **dict(tags)}
            run = RunRecord(
                run_id=run_id,
                job_name=job.name,
                location=loc.name,
                repository=loc.repository,
                tags=all_tags,
                run_config=run_config,
                asset_selection=asset_selection,
                step_keys=steps,
                created_at=now,
                timeline=[],
                events=[],
                parent_run_id=parent_run_id,
                root_run_id=root_run_id,
            )
            self._plan(run, loc, job, now, step_seconds, queued)
            self.runs[run_id] = run
            return run

    def _event(
        self,
        run: RunRecord,
        at: float,
        typename: str,
        event_type: str | None,
        message: str,
        **kw: Any,
    ) -> None:
        run.events.append(EventRecord(self._next_id(), at, typename, event_type, message, **kw))

    def _plan(
        self,
        run: RunRecord,
        loc: LocationDef,
        job: JobDef,
        t: float,
        step: float,
        queued: bool,
    ) -> None:
        name = job.name
        for key in run.step_keys:
            planned = next((a for a in loc.assets.values() if a.op_name == key), None)
            if planned is not None:
                self._event(
                    run,
                    t,
                    "AssetMaterializationPlannedEvent",
                    "ASSET_MATERIALIZATION_PLANNED",
                    f"{name} intends to materialize asset {list(planned.path)!r}",
                    asset_path=planned.path,
                )
        if queued:
            run.timeline.append((t, "QUEUED"))
            self._event(run, t, "RunEnqueuedEvent", "RUN_ENQUEUED", "", level="INFO")
            t += step
            self._event(run, t, "RunDequeuedEvent", "RUN_DEQUEUED", "", level="INFO")
        run.timeline.append((t, "STARTING"))
        self._event(run, t, "RunStartingEvent", "RUN_STARTING", "", level="INFO")
        t += step
        run.timeline.append((t, "STARTED"))
        self._event(run, t, "RunStartEvent", "RUN_START", f'Started execution of run for "{name}".')
        duration = step
        if job.sleep_op:
            cfg = ((run.run_config or {}).get("ops") or {}).get(job.sleep_op) or {}
            seconds = (cfg.get("config") or {}).get("seconds", 30.0)
            duration = max(step, float(seconds))
        slot = duration / (len(run.step_keys) + 1)
        failed: list[str] = []
        for i, key in enumerate(run.step_keys):
            at = t + slot * (i + 0.5)
            self._event(
                run,
                at,
                "ExecutionStepStartEvent",
                "STEP_START",
                f'Started execution of step "{key}".',
                step_key=key,
            )
            asset = next((a for a in loc.assets.values() if a.op_name == key), None)
            text = asset.log_message if asset else job.log_messages.get(key, f"op {key}")
            self._event(run, at, "LogMessageEvent", None, text, level="INFO", step_key=key)
            if key == job.fails_in:
                failed.append(key)
                self._event(
                    run,
                    at + slot / 4,
                    "ExecutionStepFailureEvent",
                    "STEP_FAILURE",
                    f'Execution of step "{key}" failed.',
                    level="ERROR",
                    step_key=key,
                    error={
                        "message": "Exception: daglab fixture failure: the explode op always "
                        "fails\n",
                        "className": "Exception",
                        "stack": ['  File "main_location.py", line 134, in explode\n'],
                    },
                )
                break
            if asset is not None:
                self._event(
                    run,
                    at + slot / 4,
                    "MaterializationEvent",
                    "ASSET_MATERIALIZATION",
                    f"Materialized value {' '.join(asset.path)}.",
                    step_key=key,
                    asset_path=asset.path,
                )
            self._event(
                run,
                at + slot / 2,
                "ExecutionStepSuccessEvent",
                "STEP_SUCCESS",
                f'Finished execution of step "{key}" in {int(slot * 500)}ms.',
                step_key=key,
            )
        end = t + duration
        if failed:
            run.timeline.append((end, "FAILURE"))
            self._event(
                run,
                end,
                "RunFailureEvent",
                "RUN_FAILURE",
                f'Execution of run for "{name}" failed. Steps failed: {failed!r}.',
                level="ERROR",
            )
        else:
            run.timeline.append((end, "SUCCESS"))
            self._event(
                run,
                end,
                "RunSuccessEvent",
                "RUN_SUCCESS",
                f'Finished execution of run for "{name}".',
            )

    # -- terminating ---------------------------------------------------------------------------

    def cancel(self, run: RunRecord, *, force: bool = False, delay: float = 0.0) -> str | None:
        """Terminate a run as Dagster does; None if done, else the status that prevents it.

        Safe termination (the default) takes only QUEUED runs (CANCELED at once) and STARTED
        runs (CANCELING now, CANCELED after ``delay``, when the run worker has stopped).
        ``force`` (MARK_AS_CANCELED_IMMEDIATELY) marks any unfinished run CANCELED at once.
        """
        with self._lock:
            now = self.now()
            status = run.status(now)
            if status in TERMINAL_STATUSES:
                return status
            if not force and status not in ("QUEUED", "STARTED"):
                return status
            run.timeline = [(at, s) for at, s in run.timeline if at <= now]
            run.events = [e for e in run.events if e.at <= now]
            canceled_at = now
            if status == "STARTED" and not force:
                run.timeline.append((now, "CANCELING"))
                self._event(
                    run,
                    now,
                    "RunCancelingEvent",
                    "RUN_CANCELING",
                    "Sending run termination request.",
                    level="INFO",
                )
                canceled_at = now + delay
            run.timeline.append((canceled_at, "CANCELED"))
            self._event(
                run,
                canceled_at,
                "RunCanceledEvent",
                "RUN_CANCELED",
                f'Execution of run for "{run.job_name}" canceled.',
                level="ERROR",
            )
            return None

    def finish_all(self) -> None:
        """Move every run to the end of its planned life (tests that do not want to wait)."""
        with self._lock:
            now = self.now()
            for run in self.runs.values():
                last = max(at for at, _ in run.timeline)
                shift = last - now
                if shift > 0:
                    run.timeline = [(at - shift, s) for at, s in run.timeline]
                    for event in run.events:
                        event.at -= shift

    # -- listing -------------------------------------------------------------------------------

    def list_runs(
        self,
        *,
        run_ids: Iterable[str | None] | None = None,
        job_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        statuses: Iterable[str] | None = None,
        created_after: float | None = None,
        created_before: float | None = None,
    ) -> list[RunRecord]:
        """Matching runs, newest first (as Dagster orders them)."""
        now = self.now()
        with self._lock:
            runs = list(reversed(self.runs.values()))
        if run_ids is not None:
            ids = {r for r in run_ids if r}
            runs = [r for r in runs if r.run_id in ids]
        if job_name:
            runs = [r for r in runs if r.job_name == job_name]
        if tags:
            runs = [r for r in runs if all(r.tags.get(k) == v for k, v in tags.items())]
        if statuses:
            wanted = set(statuses)
            runs = [r for r in runs if r.status(now) in wanted]
        if created_after is not None:
            runs = [r for r in runs if r.created_at > created_after]
        if created_before is not None:
            runs = [r for r in runs if r.created_at < created_before]
        return runs
