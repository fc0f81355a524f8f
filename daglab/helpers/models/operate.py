"""Run operations: a run of the history, one run in full, its steps, events, logs, backfills."""

from __future__ import annotations

from daglab.helpers.models.base import Model, iso_time, seconds_between
from daglab.helpers.models.runs import RunError


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
        return seconds_between(self.started_at, self.ended_at)

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
            "created_at": iso_time(self.created_at),
            "started_at": iso_time(self.started_at),
            "ended_at": iso_time(self.ended_at),
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
        return seconds_between(self.started_at, self.ended_at)

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "status": self.status,
            "started_at": iso_time(self.started_at),
            "ended_at": iso_time(self.ended_at),
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
            "timestamp": iso_time(self.timestamp),
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
        data["created_at"] = iso_time(self.created_at)
        data["ended_at"] = iso_time(self.ended_at)
        data["finished"] = self.finished
        data["succeeded_all"] = self.succeeded_all
        return data
