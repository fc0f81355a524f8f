"""Runs: the Run type, lists of runs, and the results of launching, terminating and
subscribing to one."""

from __future__ import annotations

from typing import Annotated

import strawberry

from daglab.harness.mock.records import RunRecord
from daglab.harness.mock.schema.enums import RunConfigData, RunStatus, StepEventStatus
from daglab.harness.mock.schema.errors import (
    ConflictingExecutionParamsError,
    InvalidOutputError,
    InvalidPipelineRunsFilterError,
    InvalidStepError,
    NoModeProvidedError,
    PipelineNotFoundError,
    PresetNotFoundError,
    PythonError,
    RunConflict,
    RunNotFoundError,
    UnauthorizedError,
)
from daglab.harness.mock.schema.events import (
    DagsterRunEvent,
    EventConnection,
    MaterializationEvent,
    event_page,
    render_event,
)
from daglab.harness.mock.schema.validation import RunConfigValidationInvalid
from daglab.harness.mock.schema.workspace import (
    AssetKey,
    InvalidSubsetError,
    PipelineTag,
    RepositoryOrigin,
    asset_key,
)
from daglab.helpers.statuses import TERMINAL_STATUSES


@strawberry.type
class RunStepStats:
    run_id: str
    step_key: str
    status: StepEventStatus | None
    start_time: float | None
    end_time: float | None


@strawberry.type
class Run:
    rec: strawberry.Private[RunRecord]
    now: strawberry.Private[float]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.rec.run_id)

    @strawberry.field
    def run_id(self) -> str:
        return self.rec.run_id

    @strawberry.field
    def status(self) -> RunStatus:
        return RunStatus[self.rec.status(self.now)]

    @strawberry.field
    def run_status(self) -> RunStatus:
        return RunStatus[self.rec.status(self.now)]

    @strawberry.field
    def job_name(self) -> str:
        return self.rec.job_name

    @strawberry.field
    def pipeline_name(self) -> str:
        return self.rec.job_name

    @strawberry.field
    def mode(self) -> str:
        return "default"

    @strawberry.field
    def creation_time(self) -> float:
        return self.rec.created_at

    @strawberry.field
    def start_time(self) -> float | None:
        return self.rec.start_time(self.now)

    @strawberry.field
    def end_time(self) -> float | None:
        return self.rec.end_time(self.now)

    @strawberry.field
    def update_time(self) -> float | None:
        return self.rec.update_time(self.now)

    @strawberry.field
    def tags(self) -> list[PipelineTag]:
        return [
            PipelineTag(key=k, value=v)
            for k, v in self.rec.tags.items()
            if not k.startswith(".dagster/")
        ]

    @strawberry.field
    def asset_selection(self, limit: int | None = None) -> list[AssetKey] | None:
        if self.rec.asset_selection is None:
            return None
        keys = [asset_key(p) for p in self.rec.asset_selection]
        return keys[:limit] if limit is not None else keys

    @strawberry.field
    def asset_selection_count(self) -> int:
        return len(self.rec.asset_selection or [])

    @strawberry.field
    def solid_selection(self) -> list[str] | None:
        return None

    @strawberry.field
    def resolved_op_selection(self) -> list[str] | None:
        return None

    @strawberry.field
    def step_keys_to_execute(self) -> list[str] | None:
        keys = self.rec.step_keys_to_execute
        return list(keys) if keys is not None else None

    @strawberry.field
    def step_stats(self) -> list[RunStepStats]:
        return [
            RunStepStats(
                run_id=self.rec.run_id,
                step_key=s.step_key,
                status=StepEventStatus[s.status],
                start_time=s.start_time,
                end_time=s.end_time,
            )
            for s in self.rec.step_stats(self.now)
        ]

    @strawberry.field
    def asset_materializations(self) -> list[MaterializationEvent]:
        return [
            render_event(self.rec, e)
            for e in self.rec.visible_events(self.now)
            if e.typename == "MaterializationEvent"
        ]

    @strawberry.field
    def repository_origin(self) -> RepositoryOrigin | None:
        return RepositoryOrigin(
            id=f"{self.rec.location}:{self.rec.repository}",
            repository_location_name=self.rec.location,
            repository_name=self.rec.repository,
        )

    @strawberry.field
    def run_config_yaml(self) -> str:
        return self.rec.config_yaml

    @strawberry.field
    def run_config(self) -> RunConfigData:
        return RunConfigData(self.rec.run_config or {})

    @strawberry.field
    def can_terminate(self) -> bool:
        return self.rec.status(self.now) not in TERMINAL_STATUSES

    @strawberry.field
    def has_terminate_permission(self) -> bool:
        return True

    @strawberry.field
    def has_re_execute_permission(self) -> bool:
        return True

    @strawberry.field
    def has_delete_permission(self) -> bool:
        return True

    @strawberry.field
    def root_run_id(self) -> str | None:
        return self.rec.root_run_id

    @strawberry.field
    def parent_run_id(self) -> str | None:
        return self.rec.parent_run_id

    @strawberry.field
    def event_connection(
        self, after_cursor: str | None = None, limit: int | None = None
    ) -> EventConnection:
        return event_page(self.rec, self.now, after_cursor, limit)


@strawberry.type
class Runs:
    results: list[Run]
    count: int


@strawberry.type
class RunIds:
    results: list[str]


@strawberry.type
class CapturedLogs:
    log_key: list[str]
    stdout: str | None = None
    stderr: str | None = None
    cursor: str | None = None


@strawberry.type
class CapturedLogsMetadata:
    stdout_download_url: str | None = None
    stdout_location: str | None = None
    stderr_download_url: str | None = None
    stderr_location: str | None = None


@strawberry.type
class LaunchRunSuccess:
    run: Run


@strawberry.type
class TerminateRunSuccess:
    run: Run


@strawberry.type
class TerminateRunFailure:
    run: Run
    message: str


LaunchRunResult = Annotated[
    LaunchRunSuccess
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
    strawberry.union("LaunchRunResult"),
]


LaunchRunReexecutionResult = Annotated[
    LaunchRunSuccess
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
    strawberry.union("LaunchRunReexecutionResult"),
]


RunOrError = Annotated[Run | RunNotFoundError | PythonError, strawberry.union("RunOrError")]


RunsOrError = Annotated[
    Runs | InvalidPipelineRunsFilterError | PythonError, strawberry.union("RunsOrError")
]


RunIdsOrError = Annotated[
    RunIds | InvalidPipelineRunsFilterError | PythonError, strawberry.union("RunIdsOrError")
]


TerminateRunResult = Annotated[
    TerminateRunSuccess | TerminateRunFailure | RunNotFoundError | UnauthorizedError | PythonError,
    strawberry.union("TerminateRunResult"),
]


@strawberry.type
class TerminateRunsResult:
    terminate_run_results: list[TerminateRunResult]


TerminateRunsResultOrError = Annotated[
    TerminateRunsResult | PythonError, strawberry.union("TerminateRunsResultOrError")
]


@strawberry.type
class PipelineRunLogsSubscriptionSuccess:
    run: Run
    messages: list[DagsterRunEvent]
    has_more_past_events: bool
    cursor: str


@strawberry.type
class PipelineRunLogsSubscriptionFailure:
    message: str
    missing_run_id: str | None = None


PipelineRunLogsSubscriptionPayload = Annotated[
    PipelineRunLogsSubscriptionSuccess | PipelineRunLogsSubscriptionFailure,
    strawberry.union("PipelineRunLogsSubscriptionPayload"),
]
