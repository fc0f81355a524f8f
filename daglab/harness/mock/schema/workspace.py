"""The workspace: code locations, repositories, jobs and assets, and their unions.

One module because Dagster's types point at each other here (a repository lists its jobs
and assets; an asset, a job and an invalid subset point back at their repository or job).
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from daglab.harness.mock.definitions import AssetDef, JobDef, LocationDef
from daglab.harness.mock.schema.context import mock_context
from daglab.harness.mock.schema.enums import (
    DefinitionsSource,
    PartitionDefinitionType,
    RepositoryLocationLoadStatus,
)
from daglab.harness.mock.schema.errors import (
    AssetNotFoundError,
    Error,
    PipelineNotFoundError,
    PythonError,
    ReloadNotSupported,
    RepositoryLocationNotFound,
    RepositoryNotFoundError,
    UnauthorizedError,
    python_error,
)


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
class _LocationFields:
    """Fields shared by RepositoryLocation and WorkspaceLocationEntry: a location's id and name."""

    loc: strawberry.Private[LocationDef]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.loc.name)

    @strawberry.field
    def name(self) -> str:
        return self.loc.name


@strawberry.type
class RepositoryLocation(_LocationFields):
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
    loc: strawberry.Private[LocationDef]

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


def sorted_jobs(loc: LocationDef) -> list[JobDef]:
    return sorted(loc.jobs.values(), key=lambda j: j.name)


def sorted_assets(loc: LocationDef) -> list[AssetDef]:
    return sorted(loc.assets.values(), key=lambda a: a.path)


@strawberry.type
class _JobFields:
    """Fields shared by Job and Pipeline (identical in Dagster)."""

    loc: strawberry.Private[LocationDef]
    job: strawberry.Private[JobDef]

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
class WorkspaceLocationEntry(_LocationFields):
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


@strawberry.type
class InvalidSubsetError(Error):
    pipeline: Pipeline


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
    loc: strawberry.Private[LocationDef]
    asset: strawberry.Private[AssetDef]

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
        return mock_context(info).state.jobs_of_asset(self.loc, self.asset.path)

    @strawberry.field
    def jobs(self, info: Info) -> list[Pipeline]:
        names = mock_context(info).state.jobs_of_asset(self.loc, self.asset.path)
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
