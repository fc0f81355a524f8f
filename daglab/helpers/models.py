"""What daglab hands back: plain pydantic models that print, serialize and compare well."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from daglab.helpers.statuses import TERMINAL_STATUSES


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocationInfo(Model):
    """A code location, with its load status and, if it failed to load, the error."""

    name: str
    load_status: str
    loaded: bool
    repositories: list[str] = []
    error: str | None = None
    error_class: str | None = None
    updated_at: float | None = None

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class RepositoryInfo(Model):
    """A repository inside a code location (a ``Definitions`` object is ``__repository__``)."""

    name: str
    location: str

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class JobInfo(Model):
    """A user-defined job; implicit asset jobs (``__ASSET_JOB…``) are never JobInfo."""

    name: str
    repository: str
    location: str
    description: str | None = None
    tags: dict[str, str] = {}
    is_asset_job: bool = False

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class AssetInfo(Model):
    """An asset definition, with what a user needs to find and launch it.

    ``key`` is the slash-joined ``path`` (a ``/`` inside a component written ``\\/``, a
    backslash ``\\\\``: see ``daglab.helpers.assetkeys``); ``owners`` are ``team:NAME`` or
    e-mail addresses, as Dagster's ``owner:`` matches them; ``jobs`` are the user jobs that contain it and
    ``implicit_jobs`` the ``__ASSET_JOB…`` names an asset-selection run must be launched on.
    """

    key: str
    path: list[str]
    group: str
    repository: str
    location: str
    description: str | None = None
    tags: dict[str, str] = {}
    kinds: list[str] = []
    partitioned: bool = False
    partitions: str | None = None
    materializable: bool = True
    deps: list[str] = []
    jobs: list[str] = []
    implicit_jobs: list[str] = []
    owners: list[str] = []
    partition_type: str | None = None
    # The sensors and schedules that target it (``sensor:``/``schedule:`` selections); read
    # only when a selection names them (None: not read), never in its JSON.
    sensors: list[str] | None = Field(default=None, exclude=True)
    schedules: list[str] | None = Field(default=None, exclude=True)

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class CodeServerInfo(Model):
    """How one code location is served: by a gRPC server the deployment runs (``grpc``,
    with ``host`` and ``port``) or by a process the webserver manages (``managed``)."""

    location: str
    kind: str
    host: str | None = None
    port: str | None = None
    socket: str | None = None
    target: str | None = None
    state: str


class DeploymentInfo(Model):
    """The instance behind the webserver: storage, run launcher and coordinator, queue
    limits. A field is None when the server does not say (``instance.info`` hidden)."""

    storage: str | None = None
    run_storage: str | None = None
    event_log_storage: str | None = None
    schedule_storage: str | None = None
    run_launcher: str | None = None
    run_coordinator: str | None = None
    max_concurrent_runs: int | None = None
    tag_concurrency_limits: list[dict[str, object]] = []
    code_servers: list[CodeServerInfo] = []


class ServerStatus(Model):
    """What ``daglab status`` reports."""

    url: str
    url_source: str
    auth_source: str
    version: str
    round_trip_ms: float
    locations: list[LocationInfo]
    deployment: DeploymentInfo | None = None
    # issue 20: daemon health (None: the server does not report it) and what is unhealthy
    daemons: list[DaemonInfo] | None = None
    daemons_error: str | None = None
    problems: list[str] = []


# -- runs (daglab run / watch / cancel) -------------------------------------------------------


class ConfigProblem(Model):
    """One thing wrong with a run config, at ``path`` (``["ops", "process_rows", "config"]``)."""

    path: list[str] = []
    message: str
    reason: str | None = None

    @property
    def where(self) -> str:
        return ":".join(["root", *self.path])


class ValidationResult(Model):
    """The server's verdict on a run config for one job (``isPipelineConfigValid``)."""

    valid: bool
    job: str
    location: str
    repository: str
    asset_selection: list[str] = []
    errors: list[ConfigProblem] = []

    def to_json(self) -> dict[str, object]:
        data = self.model_dump()
        data["errors"] = [
            {"path": e.path, "where": e.where, "message": e.message, "reason": e.reason}
            for e in self.errors
        ]
        return data


class RunSubmitResult(Model):
    """A launched run. ``recovered``: the launch response was lost and the run was found
    again by its ``daglab/request_id`` tag instead of being launched twice."""

    run_id: str
    url: str
    status: str
    job: str
    location: str
    repository: str
    asset_selection: list[str] = []
    partition: str | None = None
    tags: dict[str, str] = {}
    request_id: str
    recovered: bool = False

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class RunError(Model):
    """Why a run failed: the failing step and its error, from the run's event log."""

    message: str
    step: str | None = None
    class_name: str | None = None


class CheckResult(Model):
    """One asset check evaluated in a run (an ``ASSET_CHECK_EVALUATION`` event). ``asset`` is
    the slash-joined key, ``path`` its exact components; ``severity`` is ERROR or WARN."""

    asset: str
    path: list[str] = []
    name: str
    passed: bool
    severity: str = "ERROR"
    step: str | None = None

    @property
    def failed_error(self) -> bool:
        """A failed check of ERROR severity: the run's outcome is a failure (exit 1)."""
        return not self.passed and self.severity != "WARN"


class RunResult(Model):
    """Where a run stands (or ended): what ``daglab run --json`` and ``watch`` print.

    Times are epoch seconds; ``to_json`` renders them as ISO 8601 (UTC). ``status`` is
    Dagster's own name, kept as an open string (newer servers add statuses).
    """

    run_id: str
    status: str
    url: str
    job: str | None = None
    location: str | None = None
    repository: str | None = None
    asset_selection: list[str] = []
    partition: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    error: RunError | None = None
    steps_succeeded: list[str] = []
    steps_failed: list[str] = []
    steps_skipped: list[str] = []
    materialized: list[str] = []
    checks: list[CheckResult] = []
    timed_out: bool = False
    canceled_by_daglab: bool = False
    waited_s: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def stop_reason(self) -> str:
        """Why daglab stopped looking at the run: ``ended``, ``timed_out`` (the run goes on),
        ``canceled_on_timeout``, or ``not_waiting`` (launched, or read once, not watched)."""
        if self.timed_out:
            return "canceled_on_timeout" if self.canceled_by_daglab else "timed_out"
        if self.waited_s is None:
            return "not_waiting"
        return "ended"

    @property
    def succeeded(self) -> bool:
        """The run ended SUCCESS. A failed ERROR check does not change the run's status in
        Dagster; ``ok`` says whether the outcome is good (what decides daglab's exit code)."""
        return self.status == "SUCCESS"

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def ok(self) -> bool:
        """SUCCESS and no failed check of ERROR severity (a failed WARN check is only a
        warning): ``daglab run`` exits 0 exactly when this is true."""
        return self.succeeded and not any(c.failed_error for c in self.checks)

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at
        if end is None:
            return None
        return round(end - self.started_at, 3)

    def to_json(self) -> dict[str, object]:
        def iso(ts: float | None) -> str | None:
            if ts is None:
                return None
            from datetime import datetime, timezone

            return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()

        return {
            "run_id": self.run_id,
            "status": self.status,
            "url": self.url,
            "job": self.job,
            "location": self.location,
            "repository": self.repository,
            "asset_selection": self.asset_selection,
            "partition": self.partition,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "duration_s": self.duration_s,
            "error": self.error.model_dump() if self.error else None,
            "steps_succeeded": self.steps_succeeded,
            "steps_failed": self.steps_failed,
            "steps_skipped": self.steps_skipped,
            "materialized": self.materialized,
            "checks": [
                {
                    "asset": c.asset,
                    "path": c.path,
                    "name": c.name,
                    "passed": c.passed,
                    "severity": c.severity,
                    "step": c.step,
                }
                for c in self.checks
            ],
            "ok": self.ok,
            "timed_out": self.timed_out,
            "canceled_by_daglab": self.canceled_by_daglab,
        }


# -- run operations: history, one run, logs, backfills ------------------------------------------


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def _duration(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round(end - start, 3)


class RunSummary(Model):
    """One run of the history (``daglab runs list``): what a table row and a JSON line hold."""

    run_id: str
    status: str
    url: str
    job: str | None = None
    location: str | None = None
    repository: str | None = None
    asset_selection: list[str] = []
    partition: str | None = None
    tags: dict[str, str] = {}
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None

    @property
    def duration_s(self) -> float | None:
        return _duration(self.started_at, self.ended_at)

    @property
    def launched_by_daglab(self) -> bool:
        return "daglab/request_id" in self.tags

    def to_json(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "url": self.url,
            "job": self.job,
            "location": self.location,
            "repository": self.repository,
            "asset_selection": self.asset_selection,
            "partition": self.partition,
            "tags": self.tags,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "duration_s": self.duration_s,
            "launched_by_daglab": self.launched_by_daglab,
        }


class StepInfo(Model):
    """A step of a run as the server's step stats have it."""

    key: str
    status: str | None = None
    started_at: float | None = None
    ended_at: float | None = None

    @property
    def duration_s(self) -> float | None:
        return _duration(self.started_at, self.ended_at)

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "status": self.status,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "duration_s": self.duration_s,
        }


class Materialization(Model):
    """An asset materialized by a run (``partition`` for a partitioned asset)."""

    key: str
    step: str | None = None
    partition: str | None = None


class StepFailure(Model):
    """A failed step: its error and the chain of causes under it (outermost first)."""

    step: str | None = None
    message: str
    class_name: str | None = None
    causes: list[RunError] = []


class RunDetails(Model):
    """One run in full (``daglab runs show``)."""

    run: RunSummary
    parent_run_id: str | None = None
    root_run_id: str | None = None
    steps: list[StepInfo] = []
    materializations: list[Materialization] = []
    failures: list[StepFailure] = []
    run_error: str | None = None

    @property
    def failure(self) -> StepFailure | None:
        return self.failures[0] if self.failures else None

    def to_json(self) -> dict[str, object]:
        return {
            **self.run.to_json(),
            "parent_run_id": self.parent_run_id,
            "root_run_id": self.root_run_id,
            "steps": [s.to_json() for s in self.steps],
            "materializations": [m.model_dump() for m in self.materializations],
            "failures": [f.model_dump() for f in self.failures],
            "run_error": self.run_error,
        }


class RunEvent(Model):
    """One event of a run's log (``daglab logs``). ``timestamp`` is epoch seconds."""

    type: str | None
    level: str | None = None
    step: str | None = None
    timestamp: float | None = None
    message: str = ""
    error: StepFailure | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "type": self.type,
            "level": self.level,
            "step": self.step,
            "timestamp": _iso(self.timestamp),
            "message": self.message,
            "error": self.error.model_dump() if self.error else None,
        }


class CapturedLogInfo(Model):
    """Where a step's captured stdout/stderr is: ``kept`` False when the instance keeps none
    (Dagster's NoOpComputeLogManager) or none for that step; ``external_url`` when they live
    elsewhere (a cloud bucket, a log service) and the server offers a link."""

    run_id: str
    step: str | None
    stream: str
    file_key: str | None = None
    kept: bool = True
    external_url: str | None = None
    location: str | None = None
    download_url: str | None = None
    bytes: int = 0

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class BackfillInfo(Model):
    """A partition backfill and how far its partitions got.

    Partition counts: ``requested`` (targeted), ``in_progress``, ``succeeded``, ``failed``; the
    rest are not started yet. ``status`` is Dagster's BulkActionStatus, an open string.
    """

    backfill_id: str
    status: str
    url: str
    partitions: list[str] = []
    requested: int = 0
    in_progress: int = 0
    succeeded: int = 0
    failed: int = 0
    is_asset_backfill: bool = False
    job: str | None = None
    asset_selection: list[str] = []
    tags: dict[str, str] = {}
    created_at: float | None = None
    ended_at: float | None = None
    error: str | None = None
    failed_partitions: list[str] = []
    timed_out: bool = False
    waited_s: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in (
            "COMPLETED",
            "COMPLETED_SUCCESS",
            "COMPLETED_FAILED",
            "FAILED",
            "CANCELED",
        )

    @property
    def succeeded_all(self) -> bool:
        return (
            self.finished
            and self.status not in ("FAILED", "CANCELED", "COMPLETED_FAILED")
            and self.failed == 0
            and self.requested > 0
            and self.succeeded == self.requested
        )

    def to_json(self) -> dict[str, object]:
        data = self.model_dump(exclude={"created_at", "ended_at"})
        data["created_at"] = _iso(self.created_at)
        data["ended_at"] = _iso(self.ended_at)
        data["finished"] = self.finished
        data["succeeded_all"] = self.succeeded_all
        return data


# -- asset health and checks (daglab assets, daglab checks) -------------------------------------


class MetadataItem(Model):
    """One metadata entry of a materialization or check: its label, Dagster's type name
    (``TextMetadataEntry`` ...) and its value as text (bounded and cleaned)."""

    label: str
    type: str
    value: str | None = None


class MaterializationRecord(Model):
    """One materialization of an asset: when (epoch seconds), by which run, of which
    partition, and its metadata."""

    asset: str
    run_id: str
    timestamp: float
    partition: str | None = None
    step: str | None = None
    metadata: list[MetadataItem] = []

    def to_json(self) -> dict[str, object]:
        return {
            "asset": self.asset,
            "run_id": self.run_id,
            "timestamp": _iso(self.timestamp),
            "timestamp_ms": round(self.timestamp * 1000),
            "partition": self.partition,
            "step": self.step,
            "metadata": [m.model_dump() for m in self.metadata],
        }


class AssetCheckInfo(Model):
    """An asset check and its latest execution (``status``: Dagster's SUCCEEDED, FAILED,
    IN_PROGRESS, EXECUTION_FAILED, SKIPPED; None if it never ran). ``severity`` is what the
    latest evaluation said (Dagster knows a check's severity only from its results)."""

    asset: str
    path: list[str]
    name: str
    description: str | None = None
    blocking: bool = False
    jobs: list[str] = []
    location: str | None = None
    repository: str | None = None
    status: str | None = None
    severity: str | None = None
    passed: bool | None = None
    run_id: str | None = None
    timestamp: float | None = None

    @property
    def failed_error(self) -> bool:
        return self.passed is False and self.severity != "WARN"

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = self.model_dump()
        data["timestamp"] = _iso(self.timestamp)
        return data


class PartitionHealth(Model):
    """The partitions of an asset: counts as Dagster's ``partitionStats`` gives them (the four
    are disjoint), and with ``keys`` the keys that are missing, failed, in progress."""

    total: int
    materialized: int
    failed: int
    in_progress: int
    missing: int
    failed_keys: list[str] | None = None
    missing_keys: list[str] | None = None
    in_progress_keys: list[str] | None = None
    keys_truncated: bool = False
    keys_note: str | None = None


class AssetHealth(Model):
    """What ``daglab assets status`` says of one asset."""

    key: str
    path: list[str]
    location: str
    repository: str
    latest_materialization: MaterializationRecord | None = None
    latest_run_id: str | None = None
    latest_run_status: str | None = None
    in_progress_run_ids: list[str] = []
    queued_run_ids: list[str] = []
    stale_status: str | None = None
    stale_causes: list[str] = []
    staleness_note: str | None = None
    partitioned: bool = False
    partitions: PartitionHealth | None = None
    checks: list[AssetCheckInfo] = []
    checks_note: str | None = None

    def to_json(self) -> dict[str, object]:
        latest = self.latest_materialization
        return {
            "key": self.key,
            "path": self.path,
            "location": self.location,
            "repository": self.repository,
            "latest_materialization": latest.to_json() if latest else None,
            "latest_run": (
                {"run_id": self.latest_run_id, "status": self.latest_run_status}
                if self.latest_run_id
                else None
            ),
            "in_progress_run_ids": self.in_progress_run_ids,
            "queued_run_ids": self.queued_run_ids,
            "stale_status": self.stale_status,
            "stale_causes": self.stale_causes,
            "staleness_note": self.staleness_note,
            "partitioned": self.partitioned,
            "partitions": self.partitions.model_dump() if self.partitions else None,
            "checks": [c.to_json() for c in self.checks],
            "checks_note": self.checks_note,
        }


# -- automation: schedules, sensors, reloads, daemons (daglab schedules/sensors/reload) ----


class TickInfo(Model):
    """One evaluation of a schedule or sensor: its outcome (Dagster's ``InstigationTickStatus``:
    STARTED, SKIPPED, SUCCESS, FAILURE), why it skipped, its error, the runs it requested."""

    tick_id: str
    status: str
    timestamp: float | None = None
    end_timestamp: float | None = None
    skip_reason: str | None = None
    error: str | None = None
    run_ids: list[str] = []

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class InstigatorInfo(Model):
    """A schedule or a sensor (``kind``), where it lives and whether it runs.

    ``status`` is the effective one (RUNNING/STOPPED); ``default_status`` the one declared in
    code; ``next_tick`` the next evaluation the server expects (None while stopped);
    ``ticks`` only in ``show``, newest first."""

    kind: str
    name: str
    location: str
    repository: str
    status: str
    default_status: str
    description: str | None = None
    cron_schedule: str | None = None
    timezone: str | None = None
    min_interval_seconds: int | None = None
    sensor_type: str | None = None
    jobs: list[str] = []
    next_tick: float | None = None
    can_reset: bool = False
    state_id: str | None = None
    ticks: list[TickInfo] | None = None

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class InstigatorChange(Model):
    """What ``start``/``stop`` did: the status before and after, and what Dagster does with a
    stop of one declared RUNNING in code (``note``)."""

    instigator: InstigatorInfo
    action: str
    before: str
    after: str
    note: str | None = None

    def to_json(self) -> dict[str, object]:
        return {**self.model_dump(exclude={"instigator"}), **self.instigator.to_json()}


class ReloadResult(Model):
    """The locations a reload waited for, as they ended (LOADED, or failed with ``error``)."""

    locations: list[LocationInfo]
    waited_s: float

    @property
    def failed(self) -> list[LocationInfo]:
        return [loc for loc in self.locations if not loc.loaded]

    def to_json(self) -> dict[str, object]:
        return {
            "locations": [loc.to_json() for loc in self.locations],
            "waited_s": self.waited_s,
            "ok": not self.failed,
        }


class DaemonInfo(Model):
    """One daemon of the instance (``SCHEDULER``, ``SENSOR``, ``QUEUED_RUN_COORDINATOR``, ...)."""

    daemon_type: str
    required: bool
    healthy: bool | None = None
    last_heartbeat: float | None = None
    errors: list[str] = []

    def to_json(self) -> dict[str, object]:
        return self.model_dump()
