"""Union members a test forces on a root field (``MockDagster.union_error``)."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info
from strawberry.types.base import StrawberryOptional
from strawberry.types.union import StrawberryUnion

from daglab.harness.mock.definitions import REPOSITORY, fixture_locations
from daglab.harness.mock.run_config import ConfigProblem
from daglab.harness.mock.schema.context import mock_context
from daglab.harness.mock.schema.errors import (
    AssetNotFoundError,
    BackfillNotFoundError,
    ConflictingExecutionParamsError,
    InvalidOutputError,
    InvalidPipelineRunsFilterError,
    InvalidStepError,
    ModeNotFoundError,
    NoModeProvidedError,
    PartitionKeysNotFoundError,
    PartitionSetNotFoundError,
    PipelineNotFoundError,
    PresetNotFoundError,
    ReloadNotSupported,
    RepositoryLocationNotFound,
    RepositoryNotFoundError,
    RunConflict,
    RunNotFoundError,
    UnauthorizedError,
    python_error,
)
from daglab.harness.mock.schema.validation import config_invalid
from daglab.harness.mock.schema.workspace import InvalidSubsetError, Pipeline


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
    repository = getattr(selector, "repository_name", None) or REPOSITORY
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
            [ConfigProblem("RuntimeMismatchConfigError", "RUNTIME_TYPE_MISMATCH", msg, ("ops",))],
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
        "BackfillNotFoundError": lambda: BackfillNotFoundError(
            message=msg, backfill_id=str(args.get("backfill_id") or "unknown")
        ),
        "PartitionSetNotFoundError": lambda: PartitionSetNotFoundError(
            message=msg, partition_set_name=fields.get("partition_set_name", "job_partition_set")
        ),
        "PartitionKeysNotFoundError": lambda: PartitionKeysNotFoundError(
            message=msg, partition_keys=list(fields.get("partition_keys", ["key"]))
        ),
    }
    if typename == "InvalidSubsetError":
        return _invalid_subset(msg, location, job_name)
    if typename not in builders:
        raise ValueError(f"the mock cannot build a {typename}")
    return builders[typename]()


def _invalid_subset(message: str, location: str, job_name: str) -> InvalidSubsetError:
    locations = fixture_locations()
    loc = locations.get(location) or locations["main"]
    job = loc.jobs.get(job_name) or next(iter(loc.jobs.values()))
    return InvalidSubsetError(message=message, pipeline=Pipeline(loc=loc, job=job))


def forced(info: Info, **args: Any) -> Any | None:
    """The union member a test forced on this root field, if any (see MockDagster.union_error)."""
    ctx = mock_context(info)
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
    while isinstance(return_type, StrawberryOptional):
        return_type = return_type.of_type
    if isinstance(return_type, StrawberryUnion):
        return {getattr(t, "__strawberry_definition__").name for t in return_type.types}  # noqa: B009
    definition = getattr(return_type, "__strawberry_definition__", None)
    return {definition.name} if definition is not None else set()
