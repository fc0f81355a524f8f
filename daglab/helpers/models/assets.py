"""Asset health and checks: materializations, check executions, partitions, health."""

from __future__ import annotations

from daglab.helpers.models.base import Model, iso_time


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
            "timestamp": iso_time(self.timestamp),
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
        data["timestamp"] = iso_time(self.timestamp)
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
