"""Dagster's error types (the ``Error`` interface and its members), and ``PythonError``.

The errors that name a job (``InvalidSubsetError``) live with the job, in ``workspace.py``;
the run-config errors in ``validation.py``.
"""

from __future__ import annotations

from typing import Any

import strawberry


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
class BackfillNotFoundError(Error):
    backfill_id: str


@strawberry.type
class PartitionSetNotFoundError(Error):
    partition_set_name: str


@strawberry.type
class PartitionKeysNotFoundError(Error):
    partition_keys: list[str]


@strawberry.type
class InvalidStepError:
    invalid_step_key: str


@strawberry.type
class InvalidOutputError:
    step_key: str
    invalid_output_name: str


def python_error(message: str, class_name: str | None = "Exception", **_: Any) -> PythonError:
    return PythonError(
        message=message,
        class_name=class_name,
        stack=['  File "/mock/dagster_graphql/implementation/utils.py", line 1, in _fn\n'],
    )
