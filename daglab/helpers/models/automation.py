"""Automation: ticks, schedules and sensors, their changes, reloads, daemons."""

from __future__ import annotations

from daglab.helpers.models.base import Model
from daglab.helpers.models.workspace import LocationInfo


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
