"""A strawberry schema shaped like the parts of Dagster's (1.13) that daglab uses.

Every type, field, argument and nullability here matches ``tests/schemas/dagster-1.13.graphql``
(``tests/unit/test_mock.py`` checks that the mock is a structural subset of it), so a document
that validates here validates on Dagster. Fields daglab never asks for are left out.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NewType

import strawberry
from strawberry.types import Info

from daglab.harness.mock import state as st

if TYPE_CHECKING:
    from daglab.harness.mock.config import MockConfig, Switchboard


@dataclass
class MockContext:
    """What every resolver sees: the mock's state and switches, and the request's "now"."""

    state: st.MockState
    config: MockConfig
    switches: Switchboard
    operation_name: str | None
    now: float


def _ctx(info: Info) -> MockContext:
    return info.context  # type: ignore[no-any-return]


# -- scalars and enums ---------------------------------------------------------------------------

RunConfigData = NewType("RunConfigData", object)
RUN_CONFIG_DATA = strawberry.scalar(
    name="RunConfigData",
    description="A run config: an object, or a YAML string.",
    serialize=lambda v: v,
    parse_value=lambda v: v,
)


@strawberry.enum
class RunStatus(enum.Enum):
    QUEUED = "QUEUED"
    NOT_STARTED = "NOT_STARTED"
    MANAGED = "MANAGED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    SUSPENDED = "SUSPENDED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"


@strawberry.enum
class LogLevel(enum.Enum):
    CRITICAL = "CRITICAL"
    ERROR = "ERROR"
    INFO = "INFO"
    WARNING = "WARNING"
    DEBUG = "DEBUG"


@strawberry.enum
class DagsterEventType(enum.Enum):
    STEP_OUTPUT = "STEP_OUTPUT"
    STEP_INPUT = "STEP_INPUT"
    STEP_FAILURE = "STEP_FAILURE"
    STEP_START = "STEP_START"
    STEP_SUCCESS = "STEP_SUCCESS"
    STEP_SKIPPED = "STEP_SKIPPED"
    STEP_WORKER_STARTING = "STEP_WORKER_STARTING"
    STEP_WORKER_STARTED = "STEP_WORKER_STARTED"
    RESOURCE_INIT_STARTED = "RESOURCE_INIT_STARTED"
    RESOURCE_INIT_SUCCESS = "RESOURCE_INIT_SUCCESS"
    RESOURCE_INIT_FAILURE = "RESOURCE_INIT_FAILURE"
    STEP_UP_FOR_RETRY = "STEP_UP_FOR_RETRY"
    STEP_RESTARTED = "STEP_RESTARTED"
    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    ASSET_MATERIALIZATION_PLANNED = "ASSET_MATERIALIZATION_PLANNED"
    ASSET_FAILED_TO_MATERIALIZE = "ASSET_FAILED_TO_MATERIALIZE"
    ASSET_OBSERVATION = "ASSET_OBSERVATION"
    STEP_EXPECTATION_RESULT = "STEP_EXPECTATION_RESULT"
    ASSET_CHECK_EVALUATION_PLANNED = "ASSET_CHECK_EVALUATION_PLANNED"
    ASSET_CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"
    ASSET_HEALTH_CHANGED = "ASSET_HEALTH_CHANGED"
    ASSET_WIPED = "ASSET_WIPED"
    RUN_ENQUEUED = "RUN_ENQUEUED"
    RUN_DEQUEUED = "RUN_DEQUEUED"
    RUN_STARTING = "RUN_STARTING"
    RUN_START = "RUN_START"
    RUN_SUCCESS = "RUN_SUCCESS"
    RUN_FAILURE = "RUN_FAILURE"
    RUN_CANCELING = "RUN_CANCELING"
    RUN_CANCELED = "RUN_CANCELED"
    RUN_SUSPENDED = "RUN_SUSPENDED"
    RUN_RESUMED = "RUN_RESUMED"
    PIPELINE_ENQUEUED = "PIPELINE_ENQUEUED"
    PIPELINE_DEQUEUED = "PIPELINE_DEQUEUED"
    PIPELINE_STARTING = "PIPELINE_STARTING"
    PIPELINE_START = "PIPELINE_START"
    PIPELINE_SUCCESS = "PIPELINE_SUCCESS"
    PIPELINE_FAILURE = "PIPELINE_FAILURE"
    PIPELINE_CANCELING = "PIPELINE_CANCELING"
    PIPELINE_CANCELED = "PIPELINE_CANCELED"
    OBJECT_STORE_OPERATION = "OBJECT_STORE_OPERATION"
    ASSET_STORE_OPERATION = "ASSET_STORE_OPERATION"
    LOADED_INPUT = "LOADED_INPUT"
    HANDLED_OUTPUT = "HANDLED_OUTPUT"
    ENGINE_EVENT = "ENGINE_EVENT"
    HOOK_COMPLETED = "HOOK_COMPLETED"
    HOOK_ERRORED = "HOOK_ERRORED"
    HOOK_SKIPPED = "HOOK_SKIPPED"
    ALERT_START = "ALERT_START"
    ALERT_SUCCESS = "ALERT_SUCCESS"
    ALERT_FAILURE = "ALERT_FAILURE"
    LOGS_CAPTURED = "LOGS_CAPTURED"
    FRESHNESS_STATE_EVALUATION = "FRESHNESS_STATE_EVALUATION"
    FRESHNESS_STATE_CHANGE = "FRESHNESS_STATE_CHANGE"
    CODE_LOCATION_UPDATED = "CODE_LOCATION_UPDATED"


@strawberry.enum
class RepositoryLocationLoadStatus(enum.Enum):
    LOADING = "LOADING"
    LOADED = "LOADED"


@strawberry.enum
class EvaluationErrorReason(enum.Enum):
    RUNTIME_TYPE_MISMATCH = "RUNTIME_TYPE_MISMATCH"
    MISSING_REQUIRED_FIELD = "MISSING_REQUIRED_FIELD"
    MISSING_REQUIRED_FIELDS = "MISSING_REQUIRED_FIELDS"
    FIELD_NOT_DEFINED = "FIELD_NOT_DEFINED"
    FIELDS_NOT_DEFINED = "FIELDS_NOT_DEFINED"
    SELECTOR_FIELD_ERROR = "SELECTOR_FIELD_ERROR"


@strawberry.enum
class PartitionDefinitionType(enum.Enum):
    TIME_WINDOW = "TIME_WINDOW"
    STATIC = "STATIC"
    MULTIPARTITIONED = "MULTIPARTITIONED"
    DYNAMIC = "DYNAMIC"


@strawberry.enum
class TerminateRunPolicy(enum.Enum):
    SAFE_TERMINATE = "SAFE_TERMINATE"
    MARK_AS_CANCELED_IMMEDIATELY = "MARK_AS_CANCELED_IMMEDIATELY"


@strawberry.enum
class DefinitionsSource(enum.Enum):
    CODE_SERVER = "CODE_SERVER"
    CONNECTION = "CONNECTION"


# -- inputs --------------------------------------------------------------------------------------


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


# -- errors --------------------------------------------------------------------------------------


@strawberry.interface(name="Error")
class Error:
    message: str


@strawberry.type
class PythonError(Error):
    class_name: str | None = None
    stack: list[str] = strawberry.field(default_factory=list)
    cause: PythonError | None = None
    causes: list[PythonError] = strawberry.field(default_factory=list)
    error_chain: list[ErrorChainLink] = strawberry.field(default_factory=list)


@strawberry.type
class ErrorChainLink(Error):
    error: PythonError
    is_explicit_link: bool


@strawberry.type
class UnauthorizedError(Error):
    pass


@strawberry.type
class PipelineNotFoundError(Error):
    pipeline_name: str
    repository_name: str
    repository_location_name: str


@strawberry.type
class RunNotFoundError(Error):
    run_id: str


@strawberry.type
class InvalidSubsetError(Error):
    pipeline: Pipeline


@strawberry.type
class ConflictingExecutionParamsError(Error):
    pass


@strawberry.type
class NoModeProvidedError(Error):
    pipeline_name: str


@strawberry.type
class PresetNotFoundError(Error):
    preset: str


@strawberry.type
class RunConflict(Error):
    pass


@strawberry.type
class ModeNotFoundError(Error):
    mode: str


@strawberry.type
class RepositoryNotFoundError(Error):
    repository_name: str
    repository_location_name: str


@strawberry.type
class InvalidPipelineRunsFilterError(Error):
    pass


@strawberry.type
class AssetNotFoundError(Error):
    pass


@strawberry.type
class RepositoryLocationNotFound(Error):
    pass


@strawberry.type
class ReloadNotSupported(Error):
    pass


@strawberry.type
class InvalidStepError:
    invalid_step_key: str


@strawberry.type
class InvalidOutputError:
    step_key: str
    invalid_output_name: str


@strawberry.type
class EvaluationStackPathEntry:
    field_name: str


@strawberry.type
class EvaluationStackListItemEntry:
    list_index: int


EvaluationStackEntry = Annotated[
    EvaluationStackPathEntry | EvaluationStackListItemEntry,
    strawberry.union("EvaluationStackEntry"),
]


@strawberry.type
class EvaluationStack:
    entries: list[EvaluationStackEntry]


@strawberry.interface
class PipelineConfigValidationError:
    message: str
    path: list[str]
    stack: EvaluationStack
    reason: EvaluationErrorReason


@strawberry.type
class MissingFieldConfigError(PipelineConfigValidationError):
    pass


@strawberry.type
class RuntimeMismatchConfigError(PipelineConfigValidationError):
    value_rep: str | None = None


@strawberry.type
class FieldNotDefinedConfigError(PipelineConfigValidationError):
    field_name: str


@strawberry.type
class RunConfigValidationInvalid:
    pipeline_name: str
    errors: list[PipelineConfigValidationError]


def python_error(message: str, class_name: str | None = "Exception", **_: Any) -> PythonError:
    return PythonError(
        message=message,
        class_name=class_name,
        stack=['  File "/mock/dagster_graphql/implementation/utils.py", line 1, in _fn\n'],
    )


def config_invalid(job_name: str, problems: list[st.ConfigProblem]) -> RunConfigValidationInvalid:
    errors: list[PipelineConfigValidationError] = []
    for p in problems:
        stack = EvaluationStack(entries=[EvaluationStackPathEntry(field_name=x) for x in p.path])
        common: dict[str, Any] = {
            "message": p.message,
            "path": [],  # real Dagster leaves it empty; the stack has the path
            "stack": stack,
            "reason": EvaluationErrorReason[p.reason],
        }
        if p.kind == "MissingFieldConfigError":
            errors.append(MissingFieldConfigError(**common))
        elif p.kind == "FieldNotDefinedConfigError":
            errors.append(FieldNotDefinedConfigError(field_name=p.field_name or "", **common))
        else:
            errors.append(RuntimeMismatchConfigError(value_rep=p.value_rep, **common))
    return RunConfigValidationInvalid(pipeline_name=job_name, errors=errors)


# -- workspace, repositories, jobs ---------------------------------------------------------------


@strawberry.type
class PipelineTag:
    key: str
    value: str


@strawberry.type
class DefinitionTag:
    key: str
    value: str


@strawberry.type
class RepositoryMetadata:
    key: str
    value: str


@strawberry.type
class RepositoryOrigin:
    id: str
    repository_location_name: str
    repository_name: str
    repository_location_metadata: list[RepositoryMetadata] = strawberry.field(default_factory=list)


@strawberry.type
class AssetKey:
    path: list[str]


def asset_key(path: tuple[str, ...] | list[str]) -> AssetKey:
    return AssetKey(path=list(path))


@strawberry.type
class RepositoryLocation:
    loc: strawberry.Private[st.LocationDef]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.loc.name)

    @strawberry.field
    def name(self) -> str:
        return self.loc.name

    @strawberry.field
    def is_reload_supported(self) -> bool:
        return True

    @strawberry.field
    def environment_path(self) -> str | None:
        return None

    @strawberry.field
    def server_id(self) -> str | None:
        return f"mock-{self.loc.name}"

    @strawberry.field
    def repositories(self) -> list[Repository]:
        return [Repository(loc=self.loc)]


@strawberry.type
class Repository:
    loc: strawberry.Private[st.LocationDef]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(f"{self.loc.name}:{self.loc.repository}")

    @strawberry.field
    def name(self) -> str:
        return self.loc.repository

    @strawberry.field
    def location(self) -> RepositoryLocation:
        return RepositoryLocation(loc=self.loc)

    @strawberry.field
    def origin(self) -> RepositoryOrigin:
        return RepositoryOrigin(
            id=f"{self.loc.name}:{self.loc.repository}",
            repository_location_name=self.loc.name,
            repository_name=self.loc.repository,
        )

    @strawberry.field
    def pipelines(self) -> list[Pipeline]:
        return [Pipeline(loc=self.loc, job=j) for j in sorted_jobs(self.loc)]

    @strawberry.field
    def jobs(self) -> list[Job]:
        return [Job(loc=self.loc, job=j) for j in sorted_jobs(self.loc)]

    @strawberry.field
    def asset_nodes(self) -> list[AssetNode]:
        return [AssetNode(loc=self.loc, asset=a) for a in sorted_assets(self.loc)]

    @strawberry.field
    def display_metadata(self) -> list[RepositoryMetadata]:
        return []


def sorted_jobs(loc: st.LocationDef) -> list[st.JobDef]:
    return sorted(loc.jobs.values(), key=lambda j: j.name)


def sorted_assets(loc: st.LocationDef) -> list[st.AssetDef]:
    return sorted(loc.assets.values(), key=lambda a: a.path)


@strawberry.type
class _JobFields:
    """Fields shared by Job and Pipeline (identical in Dagster)."""

    loc: strawberry.Private[st.LocationDef]
    job: strawberry.Private[st.JobDef]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(f"{self.loc.name}:{self.loc.repository}:{self.job.name}")

    @strawberry.field
    def name(self) -> str:
        return self.job.name

    @strawberry.field
    def description(self) -> str | None:
        return self.job.description

    @strawberry.field
    def tags(self) -> list[PipelineTag]:
        return [PipelineTag(key=k, value=v) for k, v in self.job.tags.items()]

    @strawberry.field
    def run_tags(self) -> list[PipelineTag]:
        return []

    @strawberry.field
    def is_job(self) -> bool:
        return True

    @strawberry.field
    def is_asset_job(self) -> bool:
        return self.job.is_asset_job

    @strawberry.field
    def graph_name(self) -> str:
        return self.job.name

    @strawberry.field
    def pipeline_snapshot_id(self) -> str:
        return f"snapshot-{self.loc.name}-{self.job.name}"

    @strawberry.field
    def node_names(self) -> list[str]:
        return list(self.job.op_names)

    @strawberry.field
    def has_launch_execution_permission(self) -> bool:
        return True

    @strawberry.field
    def has_launch_reexecution_permission(self) -> bool:
        return True

    @strawberry.field
    def repository(self) -> Repository:
        return Repository(loc=self.loc)


@strawberry.type
class Pipeline(_JobFields):
    pass


@strawberry.type
class Job(_JobFields):
    pass


@strawberry.type
class WorkspaceLocationEntry:
    loc: strawberry.Private[st.LocationDef]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.loc.name)

    @strawberry.field
    def name(self) -> str:
        return self.loc.name

    @strawberry.field
    def load_status(self) -> RepositoryLocationLoadStatus:
        return RepositoryLocationLoadStatus.LOADED

    @strawberry.field
    def location_or_load_error(self) -> RepositoryLocationOrLoadError | None:
        if self.loc.load_error is not None:
            return python_error(self.loc.load_error, "DagsterImportError")
        return RepositoryLocation(loc=self.loc)

    @strawberry.field
    def updated_timestamp(self) -> float:
        return self.loc.updated_timestamp

    @strawberry.field
    def version_key(self) -> str:
        return f"{self.loc.name}-{int(self.loc.updated_timestamp)}"

    @strawberry.field
    def display_metadata(self) -> list[RepositoryMetadata]:
        return []

    @strawberry.field
    def definitions_source(self) -> DefinitionsSource:
        return DefinitionsSource.CODE_SERVER


RepositoryLocationOrLoadError = Annotated[
    RepositoryLocation | PythonError, strawberry.union("RepositoryLocationOrLoadError")
]


@strawberry.type
class Workspace:
    id: str
    location_entries: list[WorkspaceLocationEntry]


@strawberry.type
class WorkspaceLocationStatusEntry:
    id: strawberry.ID
    name: str
    load_status: RepositoryLocationLoadStatus
    update_timestamp: float
    version_key: str


@strawberry.type
class WorkspaceLocationStatusEntries:
    entries: list[WorkspaceLocationStatusEntry]


@strawberry.type
class RepositoryConnection:
    nodes: list[Repository]


# -- assets --------------------------------------------------------------------------------------


@strawberry.type
class UserAssetOwner:
    email: str


@strawberry.type
class TeamAssetOwner:
    team: str


AssetOwner = Annotated[UserAssetOwner | TeamAssetOwner, strawberry.union("AssetOwner")]


@strawberry.type
class DimensionDefinitionType:
    name: str
    description: str
    type: PartitionDefinitionType
    is_primary_dimension: bool
    dynamic_partitions_definition_name: str | None = None


@strawberry.type
class PartitionDefinition:
    description: str
    type: PartitionDefinitionType
    dimension_types: list[DimensionDefinitionType]
    name: str | None = None
    fmt: str | None = None


@strawberry.type
class AssetDependency:
    asset: AssetNode


@strawberry.type
class AssetNode:
    loc: strawberry.Private[st.LocationDef]
    asset: strawberry.Private[st.AssetDef]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(f'{self.loc.name}.{self.loc.repository}.["{self.asset.key}"]')

    @strawberry.field
    def asset_key(self) -> AssetKey:
        return asset_key(self.asset.path)

    @strawberry.field
    def group_name(self) -> str:
        return self.asset.group

    @strawberry.field
    def description(self, character_limit: int | None = None) -> str | None:
        text = self.asset.description
        if text is not None and character_limit is not None:
            return text[:character_limit]
        return text

    @strawberry.field
    def compute_kind(self) -> str | None:
        return self.asset.compute_kind

    @strawberry.field
    def kinds(self) -> list[str]:
        kinds = [self.asset.compute_kind] if self.asset.compute_kind else []
        prefix = "dagster/kind/"
        kinds += [k[len(prefix) :] for k in self.asset.tags if k.startswith(prefix)]
        return kinds

    @strawberry.field
    def tags(self) -> list[DefinitionTag]:
        return [DefinitionTag(key=k, value=v) for k, v in self.asset.tags.items()]

    @strawberry.field
    def owners(self) -> list[AssetOwner]:
        out: list[AssetOwner] = []
        for owner in self.asset.owners:
            if owner.startswith("team:"):
                out.append(TeamAssetOwner(team=owner[len("team:") :]))
            else:
                out.append(UserAssetOwner(email=owner))
        return out

    @strawberry.field
    def is_executable(self) -> bool:
        return True

    @strawberry.field
    def is_observable(self) -> bool:
        return False

    @strawberry.field
    def is_materializable(self) -> bool:
        return True

    @strawberry.field
    def is_partitioned(self) -> bool:
        return self.asset.partitions is not None

    @strawberry.field
    def is_auto_created_stub(self) -> bool:
        return False

    @strawberry.field
    def partition_definition(self) -> PartitionDefinition | None:
        p = self.asset.partitions
        if p is None:
            return None
        ptype = PartitionDefinitionType[p.type]
        return PartitionDefinition(
            description=p.description,
            type=ptype,
            name=p.name,
            dimension_types=[
                DimensionDefinitionType(
                    name="default", description="", type=ptype, is_primary_dimension=False
                )
            ],
        )

    @strawberry.field
    def partition_keys(self) -> list[str]:
        return list(self.asset.partitions.keys) if self.asset.partitions else []

    @strawberry.field
    def job_names(self, info: Info) -> list[str]:
        return _ctx(info).state.jobs_of_asset(self.loc, self.asset.path)

    @strawberry.field
    def jobs(self, info: Info) -> list[Pipeline]:
        names = _ctx(info).state.jobs_of_asset(self.loc, self.asset.path)
        return [Pipeline(loc=self.loc, job=self.loc.jobs[n]) for n in names]

    @strawberry.field
    def dependency_keys(self) -> list[AssetKey]:
        return [asset_key(p) for p in self.asset.deps]

    @strawberry.field
    def depended_by_keys(self) -> list[AssetKey]:
        return [asset_key(a.path) for a in sorted_assets(self.loc) if self.asset.path in a.deps]

    @strawberry.field
    def dependencies(self) -> list[AssetDependency]:
        return [
            AssetDependency(asset=AssetNode(loc=self.loc, asset=self.loc.assets[p]))
            for p in self.asset.deps
            if p in self.loc.assets
        ]

    @strawberry.field
    def depended_by(self) -> list[AssetDependency]:
        return [
            AssetDependency(asset=AssetNode(loc=self.loc, asset=a))
            for a in sorted_assets(self.loc)
            if self.asset.path in a.deps
        ]

    @strawberry.field
    def op_name(self) -> str | None:
        return self.asset.op_name

    @strawberry.field
    def op_names(self) -> list[str]:
        return [self.asset.op_name]

    @strawberry.field
    def graph_name(self) -> str | None:
        return None

    @strawberry.field
    def has_asset_checks(self) -> bool:
        return False

    @strawberry.field
    def pools(self) -> list[str]:
        return []

    @strawberry.field
    def repository(self) -> Repository:
        return Repository(loc=self.loc)


@strawberry.type
class Asset:
    id: str
    key: AssetKey
    definition: AssetNode | None = None


@strawberry.type
class AssetConnection:
    nodes: list[Asset]
    cursor: str | None = None


# -- runs ----------------------------------------------------------------------------------------


@strawberry.type
class Run:
    rec: strawberry.Private[st.RunRecord]
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
        return list(self.rec.step_keys) if self.rec.asset_selection else None

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
        return self.rec.status(self.now) not in st.TERMINAL_STATUSES

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


# -- events --------------------------------------------------------------------------------------


@strawberry.interface
class MessageEvent:
    run_id: str
    message: str
    timestamp: str
    level: LogLevel
    step_key: str | None = None
    solid_handle_id: str | None = strawberry.field(name="solidHandleID", default=None)
    event_type: DagsterEventType | None = None


@strawberry.interface
class StepEvent:
    step_key: str | None = None
    solid_handle_id: str | None = strawberry.field(name="solidHandleID", default=None)


@strawberry.interface
class RunEvent:
    pipeline_name: str


@strawberry.interface
class ErrorEvent:
    error: PythonError | None = None


@strawberry.interface
class DisplayableEvent:
    label: str | None = None
    description: str | None = None


@strawberry.interface
class MarkerEvent:
    marker_start: str | None = None
    marker_end: str | None = None


def _event_types(*classes: type) -> dict[str, type]:
    return {cls.__name__: cls for cls in classes}


@strawberry.type
class RunEnqueuedEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunDequeuedEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunStartingEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunStartEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunSuccessEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunCancelingEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunSuspendedEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunResumedEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class AlertStartEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class AlertSuccessEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class AlertFailureEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunFailureEvent(MessageEvent, RunEvent, ErrorEvent):
    pass


@strawberry.type
class RunCanceledEvent(MessageEvent, RunEvent, ErrorEvent):
    pass


@strawberry.type
class AssetMaterializationPlannedEvent(MessageEvent, RunEvent):
    asset_key: AssetKey | None = None


@strawberry.type
class ExecutionStepStartEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class ExecutionStepSuccessEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class ExecutionStepSkippedEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class ExecutionStepRestartEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class ExecutionStepFailureEvent(MessageEvent, StepEvent, ErrorEvent):
    pass


@strawberry.type
class ExecutionStepUpForRetryEvent(MessageEvent, StepEvent, ErrorEvent):
    seconds_to_wait: float | None = None


@strawberry.type
class HookCompletedEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class HookSkippedEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class HookErroredEvent(MessageEvent, StepEvent, ErrorEvent):
    pass


@strawberry.type
class LogMessageEvent(MessageEvent):
    pass


@strawberry.type
class LogsCapturedEvent(MessageEvent):
    file_key: str
    log_key: str
    step_keys: list[str] | None = None
    external_url: str | None = None
    external_stdout_url: str | None = None
    external_stderr_url: str | None = None
    pid: int | None = None


@strawberry.type
class HandledOutputEvent(MessageEvent, StepEvent, DisplayableEvent):
    output_name: str
    manager_key: str


@strawberry.type
class LoadedInputEvent(MessageEvent, StepEvent, DisplayableEvent):
    input_name: str
    manager_key: str
    upstream_output_name: str | None = None
    upstream_step_key: str | None = None


@strawberry.type
class EngineEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent, ErrorEvent):
    pass


@strawberry.type
class StepWorkerStartingEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent):
    pass


@strawberry.type
class StepWorkerStartedEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent):
    pass


@strawberry.type
class ResourceInitStartedEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent):
    pass


@strawberry.type
class ResourceInitSuccessEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent):
    pass


@strawberry.type
class ResourceInitFailureEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent, ErrorEvent):
    pass


@strawberry.type
class MaterializationEvent(MessageEvent, StepEvent, DisplayableEvent):
    asset_key: AssetKey | None = None
    partition: str | None = None


@strawberry.type
class ObservationEvent(MessageEvent, StepEvent, DisplayableEvent):
    asset_key: AssetKey | None = None
    partition: str | None = None


@strawberry.type
class FailedToMaterializeEvent(MessageEvent, StepEvent, DisplayableEvent):
    asset_key: AssetKey | None = None
    partition: str | None = None


@strawberry.type
class AssetCheckEvaluationPlannedEvent(MessageEvent, StepEvent):
    asset_key: AssetKey
    check_name: str


_EVENT_CLASSES: dict[str, type] = _event_types(
    RunEnqueuedEvent,
    RunDequeuedEvent,
    RunStartingEvent,
    RunStartEvent,
    RunSuccessEvent,
    RunCancelingEvent,
    RunSuspendedEvent,
    RunResumedEvent,
    AlertStartEvent,
    AlertSuccessEvent,
    AlertFailureEvent,
    RunFailureEvent,
    RunCanceledEvent,
    AssetMaterializationPlannedEvent,
    ExecutionStepStartEvent,
    ExecutionStepSuccessEvent,
    ExecutionStepSkippedEvent,
    ExecutionStepRestartEvent,
    ExecutionStepFailureEvent,
    ExecutionStepUpForRetryEvent,
    HookCompletedEvent,
    HookSkippedEvent,
    HookErroredEvent,
    LogMessageEvent,
    LogsCapturedEvent,
    HandledOutputEvent,
    LoadedInputEvent,
    EngineEvent,
    StepWorkerStartingEvent,
    StepWorkerStartedEvent,
    ResourceInitStartedEvent,
    ResourceInitSuccessEvent,
    ResourceInitFailureEvent,
    MaterializationEvent,
    ObservationEvent,
    FailedToMaterializeEvent,
    AssetCheckEvaluationPlannedEvent,
)

DagsterRunEvent = Annotated[
    RunEnqueuedEvent
    | RunDequeuedEvent
    | RunStartingEvent
    | RunStartEvent
    | RunSuccessEvent
    | RunCancelingEvent
    | RunSuspendedEvent
    | RunResumedEvent
    | AlertStartEvent
    | AlertSuccessEvent
    | AlertFailureEvent
    | RunFailureEvent
    | RunCanceledEvent
    | AssetMaterializationPlannedEvent
    | ExecutionStepStartEvent
    | ExecutionStepSuccessEvent
    | ExecutionStepSkippedEvent
    | ExecutionStepRestartEvent
    | ExecutionStepFailureEvent
    | ExecutionStepUpForRetryEvent
    | HookCompletedEvent
    | HookSkippedEvent
    | HookErroredEvent
    | LogMessageEvent
    | LogsCapturedEvent
    | HandledOutputEvent
    | LoadedInputEvent
    | EngineEvent
    | StepWorkerStartingEvent
    | StepWorkerStartedEvent
    | ResourceInitStartedEvent
    | ResourceInitSuccessEvent
    | ResourceInitFailureEvent
    | MaterializationEvent
    | ObservationEvent
    | FailedToMaterializeEvent
    | AssetCheckEvaluationPlannedEvent,
    strawberry.union("DagsterRunEvent"),
]


def render_event(run: st.RunRecord, event: st.EventRecord) -> Any:
    cls = _EVENT_CLASSES[event.typename]
    kwargs: dict[str, Any] = {
        "run_id": run.run_id,
        "message": event.message,
        "timestamp": str(int(event.at * 1000)),
        "level": LogLevel[event.level],
        "step_key": event.step_key,
        "solid_handle_id": event.step_key,
        "event_type": DagsterEventType[event.event_type] if event.event_type else None,
    }
    if issubclass(cls, RunEvent):
        kwargs["pipeline_name"] = run.job_name
    if issubclass(cls, ErrorEvent):
        kwargs["error"] = python_error(**event.error) if event.error else None
    if event.asset_path is not None:
        kwargs["asset_key"] = asset_key(event.asset_path)
        if issubclass(cls, DisplayableEvent):
            kwargs["label"] = "/".join(event.asset_path)
    return cls(**kwargs)


@strawberry.type
class EventConnection:
    events: list[DagsterRunEvent]
    cursor: str
    has_more: bool


def event_page(
    run: st.RunRecord, now: float, after_cursor: str | None, limit: int | None
) -> EventConnection:
    after = st.decode_cursor(after_cursor)
    pending = [e for e in run.visible_events(now) if e.storage_id > after]
    page = pending if limit is None else pending[: max(limit, 0)]
    last = page[-1].storage_id if page else max(after, 0)
    return EventConnection(
        events=[render_event(run, e) for e in page],
        cursor=st.encode_cursor(last),
        has_more=len(page) < len(pending),
    )


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


# -- results -------------------------------------------------------------------------------------


@strawberry.type
class LaunchRunSuccess:
    run: Run


@strawberry.type
class PipelineConfigValidationValid:
    pipeline_name: str


@strawberry.type
class RunConfigSchema:
    job: strawberry.Private[st.JobDef]

    @strawberry.field
    def root_default_yaml(self) -> str:
        return st.default_config_yaml(self.job)

    @strawberry.field
    def is_run_config_valid(
        self,
        run_config_data: RunConfigData | None = None,
    ) -> PipelineConfigValidationResult:
        return check_config(self.job, run_config_data)


@strawberry.type
class TerminateRunSuccess:
    run: Run


@strawberry.type
class TerminateRunFailure:
    run: Run
    message: str


@strawberry.type
class DaemonStatus:
    daemon_type: str
    id: strawberry.ID
    required: bool
    healthy: bool | None
    last_heartbeat_time: float | None
    last_heartbeat_errors: list[PythonError]


@strawberry.type
class DaemonHealth:
    id: str
    required: strawberry.Private[bool]
    healthy: strawberry.Private[bool]
    now: strawberry.Private[float]

    @strawberry.field
    def daemon_status(self, daemon_type: str | None = None) -> DaemonStatus:
        return _daemon_status(self, daemon_type or "SENSOR")

    @strawberry.field
    def all_daemon_statuses(self) -> list[DaemonStatus]:
        names = ("SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR")
        return [_daemon_status(self, n) for n in names]


def _daemon_status(health: DaemonHealth, name: str) -> DaemonStatus:
    required = health.required if name == "QUEUED_RUN_COORDINATOR" else True
    return DaemonStatus(
        daemon_type=name,
        id=strawberry.ID(name),
        required=required,
        healthy=health.healthy if required else None,
        last_heartbeat_time=health.now if health.healthy else None,
        last_heartbeat_errors=[],
    )


@strawberry.type
class Instance:
    id: str
    info: str | None
    run_queuing_supported: bool
    daemon_health: DaemonHealth
    has_info: bool
    executable_path: str


# -- unions --------------------------------------------------------------------------------------

WorkspaceOrError = Annotated[Workspace | PythonError, strawberry.union("WorkspaceOrError")]
WorkspaceLocationStatusEntriesOrError = Annotated[
    WorkspaceLocationStatusEntries | PythonError,
    strawberry.union("WorkspaceLocationStatusEntriesOrError"),
]
RepositoriesOrError = Annotated[
    RepositoryConnection | RepositoryNotFoundError | PythonError,
    strawberry.union("RepositoriesOrError"),
]
RepositoryOrError = Annotated[
    PythonError | Repository | RepositoryNotFoundError, strawberry.union("RepositoryOrError")
]
PipelineOrError = Annotated[
    Pipeline | PipelineNotFoundError | InvalidSubsetError | PythonError,
    strawberry.union("PipelineOrError"),
]
PipelineConfigValidationResult = Annotated[
    InvalidSubsetError
    | PipelineConfigValidationValid
    | RunConfigValidationInvalid
    | PipelineNotFoundError
    | PythonError,
    strawberry.union("PipelineConfigValidationResult"),
]
RunConfigSchemaOrError = Annotated[
    RunConfigSchema | PipelineNotFoundError | InvalidSubsetError | ModeNotFoundError | PythonError,
    strawberry.union("RunConfigSchemaOrError"),
]
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
RunOrError = Annotated[Run | RunNotFoundError | PythonError, strawberry.union("RunOrError")]
RunsOrError = Annotated[
    Runs | InvalidPipelineRunsFilterError | PythonError, strawberry.union("RunsOrError")
]
EventConnectionOrError = Annotated[
    EventConnection | RunNotFoundError | PythonError, strawberry.union("EventConnectionOrError")
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
ReloadRepositoryLocationMutationResult = Annotated[
    WorkspaceLocationEntry
    | ReloadNotSupported
    | RepositoryLocationNotFound
    | UnauthorizedError
    | PythonError,
    strawberry.union("ReloadRepositoryLocationMutationResult"),
]
AssetsOrError = Annotated[AssetConnection | PythonError, strawberry.union("AssetsOrError")]
AssetNodeOrError = Annotated[AssetNode | AssetNotFoundError, strawberry.union("AssetNodeOrError")]
PipelineRunLogsSubscriptionPayload = Annotated[
    PipelineRunLogsSubscriptionSuccess | PipelineRunLogsSubscriptionFailure,
    strawberry.union("PipelineRunLogsSubscriptionPayload"),
]


# -- forced union errors -------------------------------------------------------------------------


def build_error(typename: str, message: str | None, args: dict[str, Any], **fields: Any) -> Any:
    """An instance of the error type ``typename``, filled from the field's arguments."""
    msg = message or f"mock {typename}"
    run_id = str(args.get("runId") or args.get("run_id") or "unknown")
    selector = args.get("selector") or args.get("pipeline") or args.get("params")
    execution_params = args.get("execution_params") or args.get("executionParams")
    if selector is None and execution_params is not None:
        selector = execution_params.selector
    job_name = (
        getattr(selector, "pipeline_name", None) or getattr(selector, "job_name", None) or "job"
    )
    location = getattr(selector, "repository_location_name", None) or "main"
    repository = getattr(selector, "repository_name", None) or st.REPOSITORY
    builders: dict[str, Any] = {
        "PythonError": lambda: python_error(msg, fields.get("class_name", "Exception")),
        "UnauthorizedError": lambda: UnauthorizedError(message=msg),
        "RunNotFoundError": lambda: RunNotFoundError(message=msg, run_id=run_id),
        "PipelineNotFoundError": lambda: PipelineNotFoundError(
            message=msg,
            pipeline_name=job_name,
            repository_name=repository,
            repository_location_name=location,
        ),
        "RunConfigValidationInvalid": lambda: config_invalid(
            job_name,
            [
                st.ConfigProblem(
                    "RuntimeMismatchConfigError", "RUNTIME_TYPE_MISMATCH", msg, ("ops",)
                )
            ],
        ),
        "InvalidStepError": lambda: InvalidStepError(
            invalid_step_key=fields.get("invalid_step_key", "step")
        ),
        "InvalidOutputError": lambda: InvalidOutputError(
            step_key=fields.get("step_key", "step"),
            invalid_output_name=fields.get("invalid_output_name", "result"),
        ),
        "InvalidPipelineRunsFilterError": lambda: InvalidPipelineRunsFilterError(message=msg),
        "ConflictingExecutionParamsError": lambda: ConflictingExecutionParamsError(message=msg),
        "NoModeProvidedError": lambda: NoModeProvidedError(message=msg, pipeline_name=job_name),
        "PresetNotFoundError": lambda: PresetNotFoundError(
            message=msg, preset=fields.get("preset", "preset")
        ),
        "RunConflict": lambda: RunConflict(message=msg),
        "ModeNotFoundError": lambda: ModeNotFoundError(message=msg, mode="default"),
        "RepositoryNotFoundError": lambda: RepositoryNotFoundError(
            message=msg, repository_name=repository, repository_location_name=location
        ),
        "RepositoryLocationNotFound": lambda: RepositoryLocationNotFound(message=msg),
        "ReloadNotSupported": lambda: ReloadNotSupported(message=msg),
        "AssetNotFoundError": lambda: AssetNotFoundError(message=msg),
    }
    if typename == "InvalidSubsetError":
        return _invalid_subset(msg, location, job_name)
    if typename not in builders:
        raise ValueError(f"the mock cannot build a {typename}")
    return builders[typename]()


def _invalid_subset(message: str, location: str, job_name: str) -> InvalidSubsetError:
    locations = st.fixture_locations()
    loc = locations.get(location) or locations["main"]
    job = loc.jobs.get(job_name) or next(iter(loc.jobs.values()))
    return InvalidSubsetError(message=message, pipeline=Pipeline(loc=loc, job=job))


def forced(info: Info, **args: Any) -> Any | None:
    """The union member a test forced on this root field, if any (see MockDagster.union_error)."""
    ctx = _ctx(info)
    chosen = ctx.switches.take_union_error(info.field_name, ctx.operation_name)
    if chosen is None:
        return None
    members = union_members(info.return_type)
    if chosen.typename not in members:
        raise ValueError(
            f"mock: {chosen.typename} is not a possible answer of {info.field_name} "
            f"(one of {', '.join(sorted(members))})"
        )
    return build_error(chosen.typename, chosen.message, args, **chosen.fields)


def union_members(return_type: Any) -> set[str]:
    from strawberry.types.base import StrawberryOptional
    from strawberry.types.union import StrawberryUnion

    while isinstance(return_type, StrawberryOptional):
        return_type = return_type.of_type
    if isinstance(return_type, StrawberryUnion):
        return {getattr(t, "__strawberry_definition__").name for t in return_type.types}  # noqa: B009
    definition = getattr(return_type, "__strawberry_definition__", None)
    return {definition.name} if definition is not None else set()


# -- shared resolver logic -----------------------------------------------------------------------


def check_config(job: st.JobDef, run_config_data: Any) -> Any:
    try:
        run_config = st.parse_run_config(run_config_data)
    except Exception as exc:  # YAML errors
        return python_error(f"Could not parse the run config YAML: {exc}", "YAMLError")
    problems = st.validate_run_config(job, run_config)
    if problems:
        return config_invalid(job.name, problems)
    return PipelineConfigValidationValid(pipeline_name=job.name)


def _paths(keys: list[AssetKeyInput] | None) -> list[tuple[str, ...]] | None:
    return [tuple(k.path) for k in keys] if keys else None


def _not_found(location: str, repository: str, job_name: str) -> PipelineNotFoundError:
    return PipelineNotFoundError(
        message=f"Could not find Pipeline {location}.{repository}.{job_name}",
        pipeline_name=job_name,
        repository_name=repository,
        repository_location_name=location,
    )


def _resolve_job(
    ctx: MockContext,
    location: str,
    repository: str,
    job_name: str,
    asset_selection: list[tuple[str, ...]] | None,
) -> tuple[st.LocationDef, st.JobDef] | Any:
    try:
        loc, job = ctx.state.find_job(location, repository, job_name)
    except st.UnknownTarget:
        return _not_found(location, repository, job_name)
    if asset_selection:
        unknown = [p for p in asset_selection if p not in job.assets]
        if not job.is_asset_job or unknown:
            names = ", ".join("/".join(p) for p in unknown or asset_selection)
            return InvalidSubsetError(
                message=f"Assets not found in job {job_name}: {names}",
                pipeline=Pipeline(loc=loc, job=job),
            )
    return loc, job


def _run_not_found(run_id: str) -> RunNotFoundError:
    return RunNotFoundError(message=f"Run {run_id} could not be found.", run_id=run_id)


def _run_or_error(info: Info, run_id: str) -> Any:
    if (err := forced(info, runId=run_id)) is not None:
        return err
    ctx = _ctx(info)
    rec = ctx.state.get_run(str(run_id))
    if rec is None:
        return _run_not_found(str(run_id))
    return Run(rec=rec, now=ctx.now)


def _runs_or_error(
    info: Info, filter: RunsFilter | None, cursor: str | None, limit: int | None
) -> Any:
    if (err := forced(info)) is not None:
        return err
    ctx = _ctx(info)
    f = filter or RunsFilter()
    runs = ctx.state.list_runs(
        run_ids=f.run_ids,
        job_name=f.pipeline_name,
        tags={t.key: t.value for t in f.tags} if f.tags else None,
        statuses=[s.value for s in f.statuses] if f.statuses else None,
        created_after=f.created_after,
        created_before=f.created_before,
    )
    count = len(runs)
    if cursor:
        ids = [r.run_id for r in runs]
        if cursor not in ids:
            return InvalidPipelineRunsFilterError(message=f"Run {cursor} not found")
        runs = runs[ids.index(cursor) + 1 :]
    if limit is not None:
        runs = runs[: max(limit, 0)]
    return Runs(results=[Run(rec=r, now=ctx.now) for r in runs], count=count)


# -- root types ----------------------------------------------------------------------------------


@strawberry.type
class Query:
    @strawberry.field
    def version(self, info: Info) -> str:
        return _ctx(info).config.version

    @strawberry.field
    def workspace_or_error(self, info: Info) -> WorkspaceOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        locations = _ctx(info).state.locations.values()
        return Workspace(
            id="Workspace", location_entries=[WorkspaceLocationEntry(loc=loc) for loc in locations]
        )

    @strawberry.field
    def location_statuses_or_error(self, info: Info) -> WorkspaceLocationStatusEntriesOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        return WorkspaceLocationStatusEntries(
            entries=[
                WorkspaceLocationStatusEntry(
                    id=strawberry.ID(loc.name),
                    name=loc.name,
                    load_status=RepositoryLocationLoadStatus.LOADED,
                    update_timestamp=loc.updated_timestamp,
                    version_key=f"{loc.name}-{int(loc.updated_timestamp)}",
                )
                for loc in _ctx(info).state.locations.values()
            ]
        )

    @strawberry.field
    def repositories_or_error(
        self, info: Info, repository_selector: RepositorySelector | None = None
    ) -> RepositoriesOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        locations = _ctx(info).state.loaded_locations()
        if repository_selector is not None:
            locations = [
                loc
                for loc in locations
                if loc.name == repository_selector.repository_location_name
                and loc.repository == repository_selector.repository_name
            ]
            if not locations:
                return RepositoryNotFoundError(
                    message="Could not find a repository named "
                    f"{repository_selector.repository_name} in location "
                    f"{repository_selector.repository_location_name}",
                    repository_name=repository_selector.repository_name,
                    repository_location_name=repository_selector.repository_location_name,
                )
        return RepositoryConnection(nodes=[Repository(loc=loc) for loc in locations])

    @strawberry.field
    def repository_or_error(
        self, info: Info, repository_selector: RepositorySelector
    ) -> RepositoryOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        for loc in _ctx(info).state.loaded_locations():
            if (
                loc.name == repository_selector.repository_location_name
                and loc.repository == repository_selector.repository_name
            ):
                return Repository(loc=loc)
        return RepositoryNotFoundError(
            message=f"Could not find a repository named {repository_selector.repository_name}",
            repository_name=repository_selector.repository_name,
            repository_location_name=repository_selector.repository_location_name,
        )

    @strawberry.field
    def pipeline_or_error(self, info: Info, params: PipelineSelector) -> PipelineOrError:
        if (err := forced(info, params=params)) is not None:
            return err  # type: ignore[no-any-return]
        found = _resolve_job(
            _ctx(info),
            params.repository_location_name,
            params.repository_name,
            params.pipeline_name,
            _paths(params.asset_selection),
        )
        if not isinstance(found, tuple):
            return found  # type: ignore[no-any-return]
        return Pipeline(loc=found[0], job=found[1])

    @strawberry.field
    def is_pipeline_config_valid(
        self,
        info: Info,
        pipeline: PipelineSelector,
        mode: str,
        run_config_data: RunConfigData | None = None,
    ) -> PipelineConfigValidationResult:
        if (err := forced(info, pipeline=pipeline)) is not None:
            return err  # type: ignore[no-any-return]
        found = _resolve_job(
            _ctx(info),
            pipeline.repository_location_name,
            pipeline.repository_name,
            pipeline.pipeline_name,
            _paths(pipeline.asset_selection),
        )
        if not isinstance(found, tuple):
            return found  # type: ignore[no-any-return]
        return check_config(found[1], run_config_data)  # type: ignore[no-any-return]

    @strawberry.field
    def run_config_schema_or_error(
        self, info: Info, selector: PipelineSelector, mode: str | None = None
    ) -> RunConfigSchemaOrError:
        if (err := forced(info, selector=selector)) is not None:
            return err  # type: ignore[no-any-return]
        found = _resolve_job(
            _ctx(info),
            selector.repository_location_name,
            selector.repository_name,
            selector.pipeline_name,
            _paths(selector.asset_selection),
        )
        if not isinstance(found, tuple):
            return found  # type: ignore[no-any-return]
        return RunConfigSchema(job=found[1])

    @strawberry.field
    def run_or_error(self, info: Info, run_id: strawberry.ID) -> RunOrError:
        return _run_or_error(info, run_id)  # type: ignore[no-any-return]

    @strawberry.field
    def pipeline_run_or_error(self, info: Info, run_id: strawberry.ID) -> RunOrError:
        return _run_or_error(info, run_id)  # type: ignore[no-any-return]

    @strawberry.field
    def runs_or_error(
        self,
        info: Info,
        filter: RunsFilter | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> RunsOrError:
        return _runs_or_error(info, filter, cursor, limit)  # type: ignore[no-any-return]

    @strawberry.field
    def pipeline_runs_or_error(
        self,
        info: Info,
        filter: RunsFilter | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> RunsOrError:
        return _runs_or_error(info, filter, cursor, limit)  # type: ignore[no-any-return]

    @strawberry.field
    def logs_for_run(
        self,
        info: Info,
        run_id: strawberry.ID,
        after_cursor: str | None = None,
        limit: int | None = None,
    ) -> EventConnectionOrError:
        if (err := forced(info, runId=run_id)) is not None:
            return err  # type: ignore[no-any-return]
        ctx = _ctx(info)
        rec = ctx.state.get_run(str(run_id))
        if rec is None:
            return _run_not_found(str(run_id))
        try:
            return event_page(rec, ctx.now, after_cursor, limit)
        except ValueError as exc:
            return python_error(str(exc), "CheckError")

    @strawberry.field
    def instance(self, info: Info) -> Instance:
        ctx = _ctx(info)
        return Instance(
            id="Instance",
            info=None,
            run_queuing_supported=ctx.config.run_queue,
            daemon_health=DaemonHealth(
                id="daemonHealth",
                required=ctx.config.run_queue,
                healthy=ctx.config.daemon_healthy,
                now=ctx.now,
            ),
            has_info=False,
            executable_path="/mock/bin/python",
        )

    @strawberry.field
    def asset_nodes(
        self,
        info: Info,
        group: AssetGroupSelector | None = None,
        pipeline: PipelineSelector | None = None,
        asset_keys: list[AssetKeyInput] | None = None,
        load_materializations: bool | None = False,
    ) -> list[AssetNode]:
        out = []
        wanted = set(_paths(asset_keys) or [])
        for loc in _ctx(info).state.loaded_locations():
            for asset in sorted_assets(loc):
                if wanted and asset.path not in wanted:
                    continue
                if group is not None and (
                    group.group_name != asset.group
                    or group.repository_location_name != loc.name
                    or group.repository_name != loc.repository
                ):
                    continue
                if pipeline is not None:
                    job = loc.jobs.get(pipeline.pipeline_name)
                    if pipeline.repository_location_name != loc.name or job is None:
                        continue
                    if asset.path not in job.assets:
                        continue
                out.append(AssetNode(loc=loc, asset=asset))
        return out

    @strawberry.field
    def asset_node_or_error(self, info: Info, asset_key: AssetKeyInput) -> AssetNodeOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        path = tuple(asset_key.path)
        state = _ctx(info).state
        loc = state.location_of_asset(path)
        if loc is None:
            return AssetNotFoundError(message=f"Asset key {list(path)} not found.")
        return AssetNode(loc=loc, asset=loc.assets[path])

    @strawberry.field
    def assets_or_error(
        self,
        info: Info,
        prefix: list[str] | None = None,
        asset_keys: list[AssetKeyInput] | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> AssetsOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        nodes = []
        wanted = set(_paths(asset_keys) or [])
        for loc in _ctx(info).state.loaded_locations():
            for asset in sorted_assets(loc):
                if prefix and list(asset.path[: len(prefix)]) != prefix:
                    continue
                if wanted and asset.path not in wanted:
                    continue
                nodes.append((asset.key, loc, asset))
        nodes.sort(key=lambda n: n[0])
        if cursor:
            nodes = [n for n in nodes if n[0] > cursor]
        if limit is not None:
            nodes = nodes[: max(limit, 0)]
        return AssetConnection(
            nodes=[
                Asset(
                    id=f'["{key}"]',
                    key=asset_key(asset.path),
                    definition=AssetNode(loc=loc, asset=asset),
                )
                for key, loc, asset in nodes
            ],
            cursor=nodes[-1][0] if nodes else None,
        )


def _launch(info: Info, execution_params: ExecutionParams) -> Any:
    if (err := forced(info, execution_params=execution_params)) is not None:
        return err
    ctx = _ctx(info)
    sel = execution_params.selector
    if sel.job_name and sel.pipeline_name and sel.job_name != sel.pipeline_name:
        return ConflictingExecutionParamsError(
            message="Invalid ExecutionParams. Cannot define both jobName and pipelineName."
        )
    job_name = sel.job_name or sel.pipeline_name
    if not job_name:
        return python_error(
            "Must specify either pipelineName or jobName", "DagsterInvariantViolationError"
        )
    if execution_params.preset:
        return PresetNotFoundError(
            message=f"Preset {execution_params.preset} not found in pipeline {job_name}.",
            preset=execution_params.preset,
        )
    selection = _paths(sel.asset_selection)
    found = _resolve_job(
        ctx, sel.repository_location_name, sel.repository_name, job_name, selection
    )
    if not isinstance(found, tuple):
        return found
    loc, job = found
    try:
        run_config = st.parse_run_config(execution_params.run_config_data)
    except Exception as exc:
        return python_error(f"Could not parse the run config YAML: {exc}", "YAMLError")
    problems = st.validate_run_config(job, run_config)
    if problems:
        return config_invalid(job.name, problems)
    steps = loc.steps_of(job, selection)
    for key in execution_params.step_keys or []:
        if key not in steps:
            return InvalidStepError(invalid_step_key=key)
    meta = execution_params.execution_metadata
    tags = {t.key: t.value for t in (meta.tags or [])} if meta else {}
    run = ctx.state.launch(
        loc,
        job,
        run_config=run_config,
        tags=tags,
        asset_selection=selection,
        step_seconds=ctx.config.run_step_seconds,
        queued=ctx.config.run_queue,
        parent_run_id=meta.parent_run_id if meta else None,
        root_run_id=meta.root_run_id if meta else None,
    )
    return LaunchRunSuccess(run=Run(rec=run, now=ctx.state.now()))


def _terminate(info: Info, run_id: str, policy: TerminateRunPolicy | None) -> Any:
    if (err := forced(info, runId=run_id)) is not None:
        return err
    ctx = _ctx(info)
    rec = ctx.state.get_run(run_id)
    if rec is None:
        return _run_not_found(run_id)
    blocking = ctx.state.cancel(
        rec,
        force=policy == TerminateRunPolicy.MARK_AS_CANCELED_IMMEDIATELY,
        delay=ctx.config.run_step_seconds,
    )
    run = Run(rec=rec, now=ctx.state.now())
    if blocking is not None:
        return TerminateRunFailure(
            run=run,
            message=f"Run {run_id} could not be terminated due to having status {blocking}.",
        )
    return TerminateRunSuccess(run=run)


@strawberry.type
class Mutation:
    @strawberry.mutation
    def launch_run(self, info: Info, execution_params: ExecutionParams) -> LaunchRunResult:
        return _launch(info, execution_params)  # type: ignore[no-any-return]

    @strawberry.mutation
    def launch_pipeline_execution(
        self, info: Info, execution_params: ExecutionParams
    ) -> LaunchRunResult:
        return _launch(info, execution_params)  # type: ignore[no-any-return]

    @strawberry.mutation
    def terminate_run(
        self, info: Info, run_id: str, terminate_policy: TerminateRunPolicy | None = None
    ) -> TerminateRunResult:
        return _terminate(info, run_id, terminate_policy)  # type: ignore[no-any-return]

    @strawberry.mutation
    def terminate_pipeline_execution(
        self, info: Info, run_id: str, terminate_policy: TerminateRunPolicy | None = None
    ) -> TerminateRunResult:
        return _terminate(info, run_id, terminate_policy)  # type: ignore[no-any-return]

    @strawberry.mutation
    def terminate_runs(
        self, info: Info, run_ids: list[str], terminate_policy: TerminateRunPolicy | None = None
    ) -> TerminateRunsResultOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        return TerminateRunsResult(
            terminate_run_results=[_terminate(info, r, terminate_policy) for r in run_ids]
        )

    @strawberry.mutation
    def reload_repository_location(
        self, info: Info, repository_location_name: str
    ) -> ReloadRepositoryLocationMutationResult:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        loc = _ctx(info).state.locations.get(repository_location_name)
        if loc is None:
            return RepositoryLocationNotFound(
                message=f"Location {repository_location_name} does not exist."
            )
        loc.updated_timestamp = _ctx(info).state.now()
        return WorkspaceLocationEntry(loc=loc)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def pipeline_run_logs(
        self, info: Info, run_id: strawberry.ID, cursor: str | None = None
    ) -> AsyncGenerator[PipelineRunLogsSubscriptionPayload, None]:
        """Like Dagster's: past events, then new ones as they happen; it never completes."""
        import asyncio

        ctx = _ctx(info)
        rec = ctx.state.get_run(str(run_id))
        if rec is None:
            yield PipelineRunLogsSubscriptionFailure(
                message=f"Could not load run with id {run_id}", missing_run_id=str(run_id)
            )
            return
        after = -1 if cursor in (None, "HEAD") else st.decode_cursor(cursor)
        if cursor == "HEAD":
            visible = rec.visible_events(ctx.state.now())
            after = visible[-1].storage_id if visible else -1
        first = True
        while True:
            now = ctx.state.now()
            new = [e for e in rec.visible_events(now) if e.storage_id > after]
            if new or first:
                if new:
                    after = new[-1].storage_id
                first = False
                yield PipelineRunLogsSubscriptionSuccess(
                    run=Run(rec=rec, now=now),
                    messages=[render_event(rec, e) for e in new],
                    has_more_past_events=False,
                    cursor=st.encode_cursor(max(after, 0)),
                )
            await asyncio.sleep(0.05)


class MockSchema(strawberry.Schema):
    """The schema, quiet: errors go to the client, not to the log."""

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        return None


def build_schema() -> MockSchema:
    from strawberry.schema.config import StrawberryConfig

    return MockSchema(
        config=StrawberryConfig(scalar_map={RunConfigData: RUN_CONFIG_DATA}),
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Job,
            MissingFieldConfigError,
            RuntimeMismatchConfigError,
            FieldNotDefinedConfigError,
            ErrorChainLink,
        ],
    )


schema = build_schema()
