"""The tools' output schemas: the ``--json`` documents of the CLI, as pydantic models.

Entities are the library's own models where their ``to_json()`` is their ``model_dump()``
(``LocationInfo``, ``JobInfo``, ``AssetInfo``, ``RunSubmitResult``); where ``to_json()`` reshapes
a model (``RunResult``: ISO times and ``duration_s``; ``ValidationResult``: each problem's
``where``), a model here describes that shape, and ``tests/unit/test_mcp_bounds.py`` checks
that its fields are exactly the keys ``to_json()`` gives.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from daglab.helpers.models import (
    AssetInfo,
    CapturedLogInfo,
    InstigatorInfo,
    JobInfo,
    LocationInfo,
    MetadataItem,
    PartitionHealth,
    StepFailure,
)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(_Out):
    total: int = Field(description="How many matched before the limit was applied.")
    limit: int = Field(description="The most items this answer could hold.")
    truncated: bool = Field(description="True if more matched than are listed here.")


class LocationsOut(Page):
    """``daglab discover --filter locations --json``, bounded."""

    locations: list[LocationInfo]


class JobsOut(Page):
    """``daglab discover --filter jobs --json``, bounded."""

    jobs: list[JobInfo]
    failed_locations: list[str] = Field(
        default_factory=list,
        description="Code locations that failed to load: their jobs are not listed.",
    )


class AssetsOut(Page):
    """``daglab discover --filter assets --json``, bounded."""

    assets: list[AssetInfo]
    failed_locations: list[str] = Field(
        default_factory=list,
        description="Code locations that failed to load: their assets are not listed.",
    )


class ProblemOut(_Out):
    path: list[str] = Field(description="Where in the run config, e.g. ['ops', 'x', 'config'].")
    where: str = Field(description="The same path as Dagster writes it: root:ops:x:config.")
    message: str
    reason: str | None = None


class ValidationOut(_Out):
    """``daglab run --validate-only --json``: the server's verdict on a run config."""

    valid: bool
    job: str
    location: str
    repository: str
    asset_selection: list[str] = []
    errors: list[ProblemOut] = []


class RunErrorOut(_Out):
    message: str
    step: str | None = None
    class_name: str | None = None


class CheckOut(_Out):
    asset: str = Field(
        description="The checked asset's key, slash-joined (a '/' inside a component is '\\/')."
    )
    path: list[str] = Field(default=[], description="The asset key's exact components.")
    name: str
    passed: bool
    severity: str = Field(default="ERROR", description="ERROR or WARN.")
    step: str | None = None


class RunOut(_Out):
    """``daglab run/watch --json``: where a run stands, or how it ended."""

    run_id: str
    status: str = Field(description="Dagster's own status: QUEUED, STARTED, SUCCESS, FAILURE, ...")
    url: str = Field(description="The run's page in the Dagster UI.")
    job: str | None = None
    location: str | None = None
    repository: str | None = None
    asset_selection: list[str] = []
    partition: str | None = None
    started_at: str | None = Field(default=None, description="ISO 8601, UTC.")
    ended_at: str | None = Field(default=None, description="ISO 8601, UTC.")
    duration_s: float | None = None
    error: RunErrorOut | None = None
    steps_succeeded: list[str] = []
    steps_failed: list[str] = []
    steps_skipped: list[str] = []
    materialized: list[str] = []
    checks: list[CheckOut] = Field(default=[], description="The asset checks the run evaluated.")
    ok: bool = Field(
        default=False,
        description="The run succeeded and no check of ERROR severity failed (daglab's exit 0).",
    )
    timed_out: bool = Field(
        default=False, description="daglab stopped waiting before the run ended; it goes on."
    )
    canceled_by_daglab: bool = False


class LaunchOut(RunOut):
    """A launched run: ``RunOut`` plus how daglab left it."""

    request_id: str = Field(
        description="The daglab/request_id tag of the run: one request, never two runs."
    )
    stop_reason: str = Field(
        description="Why daglab stopped looking: ended, timed_out (the run goes on), "
        "canceled_on_timeout, or not_waiting (launched with wait=false)."
    )
    waited_s: float | None = Field(default=None, description="How long daglab waited.")


class CancelOut(RunOut):
    """``daglab cancel --json``."""

    force: bool


class ProfileOut(_Out):
    name: str
    url: str | None = Field(description="The profile's URL (credentials are never shown).")
    default: bool = Field(description="The deployment used when a call names no profile.")


class DeploymentsOut(_Out):
    """The deployments this server can talk to: its own connection and the configured
    profiles."""

    default_url: str
    default_source: str = Field(description="Where the default connection came from.")
    default_profile: str | None = None
    profiles: list[ProfileOut]


# -- operating runs: history, one run, logs, failures, re-execution ----------------------------


class RunSummaryOut(_Out):
    """One run of the history: a line of ``daglab runs list --json``."""

    run_id: str
    status: str
    url: str
    job: str | None = None
    location: str | None = None
    repository: str | None = None
    asset_selection: list[str] = []
    partition: str | None = None
    tags: dict[str, str] = {}
    created_at: str | None = Field(default=None, description="ISO 8601, UTC.")
    started_at: str | None = Field(default=None, description="ISO 8601, UTC.")
    ended_at: str | None = Field(default=None, description="ISO 8601, UTC.")
    duration_s: float | None = None
    launched_by_daglab: bool = False


class RunsOut(_Out):
    """``daglab runs list --json``, bounded, with a cursor to go on."""

    runs: list[RunSummaryOut]
    count: int
    limit: int
    truncated: bool = Field(description="True if more runs match: go on with next_cursor.")
    next_cursor: str | None = None


class StepOut(_Out):
    key: str
    status: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None


class MaterializationOut(_Out):
    key: str
    step: str | None = None
    partition: str | None = None


class RunDetailsOut(RunSummaryOut):
    """``daglab runs show RUN --json``: one run in full."""

    parent_run_id: str | None = None
    root_run_id: str | None = None
    steps: list[StepOut] = []
    materializations: list[MaterializationOut] = []
    failures: list[StepFailure] = []
    run_error: str | None = None


class EventOut(_Out):
    type: str | None = Field(description="Dagster's event type (None for a log message).")
    level: str | None = None
    step: str | None = None
    timestamp: str | None = Field(default=None, description="ISO 8601, UTC.")
    message: str = ""
    error: StepFailure | None = None


class RunLogsOut(_Out):
    """``daglab logs RUN --json``, bounded, with a cursor to go on."""

    run_id: str
    status: str | None = None
    events: list[EventOut]
    count: int
    limit: int
    truncated: bool = Field(description="True if the log goes on: read on with next_cursor.")
    next_cursor: str | None = None
    cursor: str | None = Field(
        default=None, description="Where this answer ended: pass it later to see new events."
    )


class ComputeLogsOut(CapturedLogInfo):
    """``daglab logs RUN --stdout|--stderr --json``, as bounded lines."""

    model_config = ConfigDict(extra="forbid")

    lines: list[str]
    truncated: bool = Field(description="True if the stream goes on past these lines.")
    next_offset: int | None = Field(
        default=None, description="The byte offset to read on from (with from_start)."
    )


class StderrTailOut(_Out):
    step: str
    lines: list[str]
    kept: bool | None = None
    external_url: str | None = None
    unavailable: str | None = Field(default=None, description="Why no lines could be read.")


class FailureSummaryOut(_Out):
    """Why a run failed: its failing steps and errors, and the last lines of stderr."""

    run_id: str
    status: str
    url: str
    job: str | None = None
    failed: bool
    failed_steps: list[str] = []
    failures: list[StepFailure] = []
    run_error: str | None = None
    stderr_tail: StderrTailOut | None = None


class RerunOut(LaunchOut):
    """``daglab rerun RUN --json``: the re-execution, launched (and waited on)."""

    parent_run_id: str


class BackfillOut(_Out):
    """``daglab backfills show ID --json`` (partition lists cut to the server's max limit)."""

    backfill_id: str
    status: str = Field(description="Dagster's BulkActionStatus: REQUESTED, COMPLETED, FAILED, ...")
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
    created_at: str | None = None
    ended_at: str | None = None
    error: str | None = None
    failed_partitions: list[str] = []
    timed_out: bool = False
    waited_s: float | None = None
    finished: bool = False
    succeeded_all: bool = Field(default=False, description="Every partition succeeded.")
    partitions_truncated: bool = Field(
        default=False, description="partitions or failed_partitions were cut to the limit."
    )


class BackfillsOut(_Out):
    """``daglab backfills list --json``, bounded."""

    backfills: list[BackfillOut]
    count: int
    limit: int
    truncated: bool


# -- automation (mcp/automation.py) -----------------------------------------------------------


class SchedulesOut(Page):
    """``daglab schedules list --json``, bounded."""

    schedules: list[InstigatorInfo]
    count: int


class SensorsOut(Page):
    """``daglab sensors list --json``, bounded."""

    sensors: list[InstigatorInfo]
    count: int


class InstigatorChangeOut(InstigatorInfo):
    """``daglab schedules|sensors start|stop NAME --json``: the schedule or sensor after the
    change, with the status before and after and, for a stop of one declared RUNNING in
    code, what Dagster does with it (``note``)."""

    action: str
    before: str
    after: str
    note: str | None = None


class ReloadOut(_Out):
    """``daglab reload LOCATION --json``."""

    locations: list[LocationInfo]
    waited_s: float
    ok: bool


# -- asset health and checks ---------------------------------------------------------------------


class MaterializationRecordOut(_Out):
    """One materialization (``daglab assets history --json``)."""

    asset: str
    run_id: str
    timestamp: str | None = Field(default=None, description="ISO 8601, UTC.")
    timestamp_ms: int
    partition: str | None = None
    step: str | None = None
    metadata: list[MetadataItem] = Field(
        default=[], description="At most 20 entries, each value cut to 500 characters."
    )


class AssetCheckOut(_Out):
    """An asset check and its latest execution (``daglab checks list --json``)."""

    asset: str
    path: list[str]
    name: str
    description: str | None = None
    blocking: bool = False
    jobs: list[str] = []
    location: str | None = None
    repository: str | None = None
    status: str | None = Field(
        default=None,
        description="The latest execution's: SUCCEEDED, FAILED, IN_PROGRESS, "
        "EXECUTION_FAILED, SKIPPED; null if it never ran.",
    )
    severity: str | None = None
    passed: bool | None = None
    run_id: str | None = None
    timestamp: str | None = None


class LatestRunOut(_Out):
    run_id: str
    status: str | None = None


class AssetHealthOut(_Out):
    """One asset of ``daglab assets status --json``."""

    key: str
    path: list[str]
    location: str
    repository: str
    latest_materialization: MaterializationRecordOut | None = None
    latest_run: LatestRunOut | None = None
    in_progress_run_ids: list[str] = []
    queued_run_ids: list[str] = []
    stale_status: str | None = Field(default=None, description="FRESH, STALE or MISSING.")
    stale_causes: list[str] = []
    staleness_note: str | None = None
    partitioned: bool = False
    partitions: PartitionHealth | None = None
    checks: list[AssetCheckOut] = []
    checks_note: str | None = None


class AssetStatusOut(Page):
    """``daglab assets status --json``, bounded."""

    assets: list[AssetHealthOut]


class AssetHistoryOut(_Out):
    """``daglab assets history KEY --json``, bounded."""

    asset: str
    materializations: list[MaterializationRecordOut]
    count: int
    limit: int
    truncated: bool


class ChecksOut(Page):
    """``daglab checks list --json``, bounded."""

    checks: list[AssetCheckOut]
