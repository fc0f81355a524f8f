"""Dagster's input types: selectors, execution params, the runs filter."""

from __future__ import annotations

import strawberry

from daglab.harness.mock.schema.enums import (
    BulkActionStatus,
    ReexecutionStrategy,
    RunConfigData,
    RunStatus,
)


@strawberry.input
class AssetKeyInput:
    path: list[str]


@strawberry.input
class AssetCheckHandleInput:
    asset_key: AssetKeyInput
    name: str


@strawberry.input
class ExecutionTag:
    key: str
    value: str


@strawberry.input
class RepositorySelector:
    repository_name: str
    repository_location_name: str


@strawberry.input
class AssetGroupSelector:
    group_name: str
    repository_name: str
    repository_location_name: str


@strawberry.input
class PipelineSelector:
    pipeline_name: str
    repository_name: str
    repository_location_name: str
    solid_selection: list[str] | None = None
    asset_selection: list[AssetKeyInput] | None = None
    asset_check_selection: list[AssetCheckHandleInput] | None = None


@strawberry.input
class JobOrPipelineSelector:
    pipeline_name: str | None = None
    job_name: str | None = None
    repository_name: str
    repository_location_name: str
    solid_selection: list[str] | None = None
    asset_selection: list[AssetKeyInput] | None = None
    asset_check_selection: list[AssetCheckHandleInput] | None = None


@strawberry.input
class ExecutionMetadata:
    tags: list[ExecutionTag] | None = None
    root_run_id: str | None = None
    parent_run_id: str | None = None


@strawberry.input
class ExecutionParams:
    selector: JobOrPipelineSelector
    run_config_data: RunConfigData | None = None
    mode: str | None = None
    execution_metadata: ExecutionMetadata | None = None
    step_keys: list[str] | None = None
    preset: str | None = None


@strawberry.input
class RunsFilter:
    run_ids: list[str | None] | None = None
    pipeline_name: str | None = None
    tags: list[ExecutionTag] | None = None
    statuses: list[RunStatus] | None = None
    snapshot_id: str | None = None
    updated_after: float | None = None
    updated_before: float | None = None
    created_before: float | None = None
    created_after: float | None = None
    mode: str | None = None


@strawberry.input
class ReexecutionParams:
    parent_run_id: str
    strategy: ReexecutionStrategy
    extra_tags: list[ExecutionTag] | None = None
    use_parent_run_tags: bool | None = None


@strawberry.input
class PartitionSetSelector:
    partition_set_name: str
    repository_selector: RepositorySelector


@strawberry.input
class PartitionRangeSelector:
    start: str
    end: str


@strawberry.input
class PartitionsSelector:
    range: PartitionRangeSelector | None = None
    ranges: list[PartitionRangeSelector] | None = None


@strawberry.input
class PartitionsByAssetSelector:
    asset_key: AssetKeyInput
    partitions: PartitionsSelector | None = None


@strawberry.input
class LaunchBackfillParams:
    selector: PartitionSetSelector | None = None
    partition_names: list[str] | None = None
    partitions_by_assets: list[PartitionsByAssetSelector | None] | None = None
    reexecution_steps: list[str] | None = None
    asset_selection: list[AssetKeyInput] | None = None
    from_failure: bool | None = None
    all_partitions: bool | None = None
    tags: list[ExecutionTag] | None = None
    force_synchronous_submission: bool | None = None
    title: str | None = None
    description: str | None = None
    run_config_data: RunConfigData | None = None


@strawberry.input
class BulkActionsFilter:
    statuses: list[BulkActionStatus] | None = None
    created_before: float | None = None
    created_after: float | None = None
    selector_id: str | None = None
