"""Job partition sets. The mock's jobs have no partitions, so every set list is empty and
every set is not found; the types are here so daglab's partition documents validate and get
Dagster's answer shape."""

from __future__ import annotations

from typing import Annotated

import strawberry

from daglab.harness.mock.schema.errors import (
    PartitionSetNotFoundError,
    PipelineNotFoundError,
    PythonError,
)
from daglab.harness.mock.schema.workspace import PipelineTag


@strawberry.type
class PartitionRunConfig:
    yaml: str


@strawberry.type
class PartitionTags:
    results: list[PipelineTag]


PartitionRunConfigOrError = Annotated[
    PartitionRunConfig | PythonError, strawberry.union("PartitionRunConfigOrError")
]
PartitionTagsOrError = Annotated[
    PartitionTags | PythonError, strawberry.union("PartitionTagsOrError")
]


@strawberry.type
class Partition:
    name: str
    partition_set_name: str
    run_config_or_error: PartitionRunConfigOrError
    tags_or_error: PartitionTagsOrError


@strawberry.type
class Partitions:
    results: list[Partition]


PartitionsOrError = Annotated[Partitions | PythonError, strawberry.union("PartitionsOrError")]


@strawberry.type
class PartitionSet:
    name: str
    pipeline_name: str
    keys: strawberry.Private[tuple[str, ...]]

    def _partition(self, key: str) -> Partition:
        return Partition(
            name=key,
            partition_set_name=self.name,
            run_config_or_error=PartitionRunConfig(yaml="{}\n"),
            tags_or_error=PartitionTags(
                results=[
                    PipelineTag(key="dagster/partition", value=key),
                    PipelineTag(key="dagster/partition_set", value=self.name),
                ]
            ),
        )

    @strawberry.field
    def partitions_or_error(
        self, cursor: str | None = None, limit: int | None = None, reverse: bool | None = None
    ) -> PartitionsOrError:
        return Partitions(results=[self._partition(k) for k in self.keys])

    @strawberry.field
    def partition(self, partition_name: str) -> Partition | None:
        return self._partition(partition_name)


@strawberry.type
class PartitionSets:
    results: list[PartitionSet]


PartitionSetsOrError = Annotated[
    PartitionSets | PipelineNotFoundError | PythonError, strawberry.union("PartitionSetsOrError")
]


PartitionSetOrError = Annotated[
    PartitionSet | PartitionSetNotFoundError | PythonError, strawberry.union("PartitionSetOrError")
]
