"""The Mutation root: launch, terminate, reload."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from daglab.harness.mock.run_config import parse_run_config, validate_run_config
from daglab.harness.mock.schema.context import mock_context
from daglab.harness.mock.schema.enums import TerminateRunPolicy
from daglab.harness.mock.schema.errors import (
    ConflictingExecutionParamsError,
    InvalidStepError,
    PresetNotFoundError,
    python_error,
)
from daglab.harness.mock.schema.forced import forced
from daglab.harness.mock.schema.inputs import ExecutionParams
from daglab.harness.mock.schema.lookups import asset_paths, resolve_job, run_not_found
from daglab.harness.mock.schema.runs import (
    LaunchRunResult,
    LaunchRunSuccess,
    Run,
    TerminateRunFailure,
    TerminateRunResult,
    TerminateRunsResult,
    TerminateRunsResultOrError,
    TerminateRunSuccess,
)
from daglab.harness.mock.schema.validation import config_invalid
from daglab.harness.mock.schema.workspace import (
    ReloadRepositoryLocationMutationResult,
    RepositoryLocationNotFound,
    WorkspaceLocationEntry,
)


def _launch(info: Info, execution_params: ExecutionParams) -> LaunchRunResult:
    if (err := forced(info, execution_params=execution_params)) is not None:
        return err  # type: ignore[no-any-return]
    ctx = mock_context(info)
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
    selection = asset_paths(sel.asset_selection)
    found = resolve_job(ctx, sel.repository_location_name, sel.repository_name, job_name, selection)
    if not isinstance(found, tuple):
        return found
    loc, job = found
    try:
        run_config = parse_run_config(execution_params.run_config_data)
    except Exception as exc:
        return python_error(f"Could not parse the run config YAML: {exc}", "YAMLError")
    problems = validate_run_config(job, run_config)
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


def _terminate(
    info: Info, run_id: str, terminate_policy: TerminateRunPolicy | None = None
) -> TerminateRunResult:
    if (err := forced(info, runId=run_id)) is not None:
        return err  # type: ignore[no-any-return]
    ctx = mock_context(info)
    rec = ctx.state.get_run(run_id)
    if rec is None:
        return run_not_found(run_id)
    blocking = ctx.state.cancel(
        rec,
        force=terminate_policy == TerminateRunPolicy.MARK_AS_CANCELED_IMMEDIATELY,
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
    # The old pipeline* names answer as the new ones do.
    launch_run = strawberry.mutation(resolver=_launch)
    launch_pipeline_execution = strawberry.mutation(resolver=_launch)
    terminate_run = strawberry.mutation(resolver=_terminate)
    terminate_pipeline_execution = strawberry.mutation(resolver=_terminate)

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
        loc = mock_context(info).state.locations.get(repository_location_name)
        if loc is None:
            return RepositoryLocationNotFound(
                message=f"Location {repository_location_name} does not exist."
            )
        loc.updated_timestamp = mock_context(info).state.now()
        return WorkspaceLocationEntry(loc=loc)
