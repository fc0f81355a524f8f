"""Partition backfills: the PartitionBackfill type, lists of them, and the results of
launching, canceling and resuming one. The mock's backfills are asset backfills (its jobs
have no partition sets); the daemon's progress is ``MockState.tick``'s."""

from __future__ import annotations

from typing import Annotated

import strawberry

from daglab.harness.mock.records import BackfillRecord
from daglab.harness.mock.schema.enums import BulkActionStatus, RunStatus
from daglab.harness.mock.schema.errors import (
    BackfillNotFoundError,
    ConflictingExecutionParamsError,
    InvalidOutputError,
    InvalidStepError,
    NoModeProvidedError,
    PartitionKeysNotFoundError,
    PartitionSetNotFoundError,
    PipelineNotFoundError,
    PresetNotFoundError,
    PythonError,
    RunConflict,
    UnauthorizedError,
)
from daglab.harness.mock.schema.validation import RunConfigValidationInvalid
from daglab.harness.mock.schema.workspace import (
    AssetKey,
    InvalidSubsetError,
    PipelineTag,
    asset_key,
)
from daglab.harness.mock.state import MockState
from daglab.helpers.statuses import TERMINAL_STATUSES


@strawberry.type
class PartitionStatus:
    id: str
    partition_name: str
    run_id: str | None = None
    run_status: RunStatus | None = None


@strawberry.type
class PartitionStatuses:
    results: list[PartitionStatus]


@strawberry.type
class AssetPartitionsStatusCounts:
    asset_key: AssetKey
    num_partitions_targeted: int
    num_partitions_in_progress: int
    num_partitions_materialized: int
    num_partitions_failed: int


@strawberry.type
class UnpartitionedAssetStatus:
    asset_key: AssetKey
    in_progress: bool
    materialized: bool
    failed: bool


AssetBackfillStatus = Annotated[
    AssetPartitionsStatusCounts | UnpartitionedAssetStatus,
    strawberry.union("AssetBackfillStatus"),
]


@strawberry.type
class AssetBackfillData:
    asset_backfill_statuses: list[AssetBackfillStatus]


@strawberry.type
class PartitionBackfill:
    rec: strawberry.Private[BackfillRecord]
    state: strawberry.Private[MockState]
    now: strawberry.Private[float]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.rec.backfill_id)

    @strawberry.field
    def status(self) -> BulkActionStatus:
        return BulkActionStatus[self.rec.status]

    @strawberry.field
    def run_status(self) -> RunStatus:
        return {
            "REQUESTED": RunStatus.STARTED,
            "CANCELING": RunStatus.CANCELING,
            "CANCELED": RunStatus.CANCELED,
            "COMPLETED_SUCCESS": RunStatus.SUCCESS,
        }.get(self.rec.status, RunStatus.FAILURE)

    @strawberry.field
    def creation_time(self) -> float:
        return self.rec.created_at

    @strawberry.field
    def timestamp(self) -> float:
        return self.rec.created_at

    @strawberry.field
    def start_time(self) -> float | None:
        return self.rec.created_at

    @strawberry.field
    def end_timestamp(self) -> float | None:
        return self.rec.end_at

    @strawberry.field
    def end_time(self) -> float | None:
        return self.rec.end_at

    @strawberry.field
    def tags(self) -> list[PipelineTag]:
        return [PipelineTag(key=k, value=v) for k, v in self.rec.tags.items()]

    @strawberry.field
    def job_name(self) -> str | None:
        return None

    @strawberry.field
    def asset_selection(self) -> list[AssetKey] | None:
        return [asset_key(p) for p in self.rec.asset_selection]

    @strawberry.field
    def partition_names(self) -> list[str] | None:
        return list(self.rec.partition_names)

    @strawberry.field
    def num_partitions(self) -> int | None:
        return len(self.rec.partition_names)

    @strawberry.field
    def num_cancelable(self) -> int:
        return len(self._unfinished())

    @strawberry.field
    def from_failure(self) -> bool:
        return self.rec.from_failure

    @strawberry.field
    def partition_set_name(self) -> str | None:
        return None

    @strawberry.field
    def is_asset_backfill(self) -> bool:
        return True

    @strawberry.field
    def is_valid_serialization(self) -> bool:
        return True

    @strawberry.field
    def has_cancel_permission(self) -> bool:
        return True

    @strawberry.field
    def has_resume_permission(self) -> bool:
        return True

    @strawberry.field
    def error(self) -> PythonError | None:
        return None

    @strawberry.field
    def partition_statuses(self) -> PartitionStatuses | None:
        return None  # Dagster has none for an asset backfill

    @strawberry.field
    def asset_backfill_data(self) -> AssetBackfillData | None:
        statuses = self._run_statuses()
        in_progress = sum(1 for s in statuses.values() if s not in TERMINAL_STATUSES)
        done = sum(1 for s in statuses.values() if s == "SUCCESS")
        failed = sum(1 for s in statuses.values() if s in ("FAILURE", "CANCELED"))
        out: list[AssetBackfillStatus] = []
        for path in self.rec.asset_selection:
            asset = self.state.find_asset(path)
            if asset is not None and asset.partitions is None:
                out.append(
                    UnpartitionedAssetStatus(
                        asset_key=asset_key(path),
                        in_progress=in_progress > 0,
                        materialized=done > 0,
                        failed=failed > 0,
                    )
                )
                continue
            out.append(
                AssetPartitionsStatusCounts(
                    asset_key=asset_key(path),
                    num_partitions_targeted=len(self.rec.partition_names),
                    num_partitions_in_progress=in_progress,
                    num_partitions_materialized=done,
                    num_partitions_failed=failed,
                )
            )
        return AssetBackfillData(asset_backfill_statuses=out)

    def _run_statuses(self) -> dict[str, str]:
        out = {}
        for partition, run_id in self.rec.runs.items():
            run = self.state.runs.get(run_id)
            if run is not None:
                out[partition] = run.status(self.now)
        return out

    def _unfinished(self) -> list[str]:
        return [p for p, s in self._run_statuses().items() if s not in TERMINAL_STATUSES]


@strawberry.type
class PartitionBackfills:
    results: list[PartitionBackfill]


@strawberry.type
class LaunchBackfillSuccess:
    backfill_id: str
    launched_run_ids: list[str | None] | None = None


@strawberry.type
class CancelBackfillSuccess:
    backfill_id: str


@strawberry.type
class ResumeBackfillSuccess:
    backfill_id: str


PartitionBackfillOrError = Annotated[
    PartitionBackfill | BackfillNotFoundError | PythonError,
    strawberry.union("PartitionBackfillOrError"),
]

PartitionBackfillsOrError = Annotated[
    PartitionBackfills | PythonError, strawberry.union("PartitionBackfillsOrError")
]

LaunchBackfillResult = Annotated[
    LaunchBackfillSuccess
    | PartitionSetNotFoundError
    | PartitionKeysNotFoundError
    | InvalidStepError
    | InvalidOutputError
    | RunConfigValidationInvalid
    | PipelineNotFoundError
    | RunConflict
    | UnauthorizedError
    | PythonError
    | InvalidSubsetError
    | PresetNotFoundError
    | ConflictingExecutionParamsError
    | NoModeProvidedError,
    strawberry.union("LaunchBackfillResult"),
]

CancelBackfillResult = Annotated[
    CancelBackfillSuccess | UnauthorizedError | PythonError,
    strawberry.union("CancelBackfillResult"),
]

ResumeBackfillResult = Annotated[
    ResumeBackfillSuccess | UnauthorizedError | PythonError,
    strawberry.union("ResumeBackfillResult"),
]
