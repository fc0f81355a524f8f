"""What a run hands back: config problems, the submitted run, its checks and its result."""

from __future__ import annotations

from daglab.helpers.models.base import Model
from daglab.helpers.statuses import TERMINAL_STATUSES


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
