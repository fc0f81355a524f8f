"""Run-config validation: the config errors, the valid/invalid results, ``RunConfigSchema``."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from daglab.harness.mock.definitions import JobDef
from daglab.harness.mock.run_config import (
    ConfigProblem,
    default_config_yaml,
    parse_run_config,
    validate_run_config,
)
from daglab.harness.mock.schema.enums import EvaluationErrorReason, RunConfigData
from daglab.harness.mock.schema.errors import (
    ModeNotFoundError,
    PipelineNotFoundError,
    PythonError,
    python_error,
)
from daglab.harness.mock.schema.workspace import InvalidSubsetError


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


def config_invalid(job_name: str, problems: list[ConfigProblem]) -> RunConfigValidationInvalid:
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


@strawberry.type
class PipelineConfigValidationValid:
    pipeline_name: str


@strawberry.type
class RunConfigSchema:
    job: strawberry.Private[JobDef]

    @strawberry.field
    def root_default_yaml(self) -> str:
        return default_config_yaml(self.job)

    @strawberry.field
    def is_run_config_valid(
        self,
        run_config_data: RunConfigData | None = None,
    ) -> PipelineConfigValidationResult:
        return check_config(self.job, run_config_data)


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


def check_config(job: JobDef, run_config_data: Any) -> Any:
    try:
        run_config = parse_run_config(run_config_data)
    except Exception as exc:  # YAML errors
        return python_error(f"Could not parse the run config YAML: {exc}", "YAMLError")
    problems = validate_run_config(job, run_config)
    if problems:
        return config_invalid(job.name, problems)
    return PipelineConfigValidationValid(pipeline_name=job.name)
