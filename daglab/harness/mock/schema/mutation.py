"""The Mutation root: launch, re-execute, terminate, reload; launch, cancel and resume a
backfill."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from daglab.harness.mock.records import RunRecord, UnknownTarget
from daglab.harness.mock.run_config import parse_run_config, validate_run_config
from daglab.harness.mock.schema.backfills import (
    CancelBackfillResult,
    CancelBackfillSuccess,
    LaunchBackfillResult,
    LaunchBackfillSuccess,
    ResumeBackfillResult,
    ResumeBackfillSuccess,
)
from daglab.harness.mock.schema.context import MockContext, mock_context
from daglab.harness.mock.schema.enums import ReexecutionStrategy, TerminateRunPolicy
from daglab.harness.mock.schema.errors import (
    ConflictingExecutionParamsError,
    InvalidStepError,
    PartitionKeysNotFoundError,
    PartitionSetNotFoundError,
    PresetNotFoundError,
    PythonError,
    python_error,
)
from daglab.harness.mock.schema.forced import forced
from daglab.harness.mock.schema.inputs import (
    ExecutionParams,
    LaunchBackfillParams,
    ReexecutionParams,
)
from daglab.harness.mock.schema.lookups import (
    asset_paths,
    job_not_found,
    resolve_job,
    run_not_found,
)
from daglab.harness.mock.schema.runs import (
    LaunchRunReexecutionResult,
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

RESUME_RETRY_TAG = "dagster/is_resume_retry"
# Dagster's TAGS_TO_MAYBE_OMIT_ON_RETRY, and the backfill tags it drops for a re-execution.
_OMIT_ON_RETRY = frozenset(
    {
        RESUME_RETRY_TAG,
        "dagster/step_selection",
        "dagster/auto_materialize",
        "dagster/will_retry",
        "dagster/retry_number",
        "dagster/backfill",
        "dagster/parent_backfill_id",
        "dagster/root_backfill_id",
        "dagster/parent_run_id",
        "dagster/root_run_id",
    }
)


def _launch(info: Info, execution_params: ExecutionParams) -> LaunchRunResult:
    if (err := forced(info, execution_params=execution_params)) is not None:
        return err  # type: ignore[no-any-return]
    return _start(mock_context(info), execution_params)


def _start(
    ctx: MockContext, execution_params: ExecutionParams, resume_steps: list[str] | None = None
) -> LaunchRunResult:
    """Check and launch a run as Dagster's ``do_launch`` does; ``resume_steps``: the steps
    a re-execution from failure picked from its parent."""
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
        step_keys=execution_params.step_keys or resume_steps,
    )
    return LaunchRunSuccess(run=Run(rec=run, now=ctx.state.now()))


def _steps_to_retry(ctx: MockContext, parent: RunRecord) -> list[str] | PythonError:
    """The parent's steps that did not succeed (failed, or never ran), in plan order."""
    succeeded = {s.step_key for s in parent.step_stats(ctx.state.now()) if s.status == "SUCCESS"}
    steps = [k for k in parent.step_keys if k not in succeeded]
    if not steps:
        return python_error(
            f"No steps to re-execute: every step of run {parent.run_id} succeeded.",
            "DagsterInvariantViolationError",
        )
    return steps


def _reexecute(
    info: Info,
    execution_params: ExecutionParams | None = None,
    reexecution_params: ReexecutionParams | None = None,
) -> LaunchRunReexecutionResult:
    if (err := forced(info, execution_params=execution_params)) is not None:
        return err  # type: ignore[no-any-return]
    ctx = mock_context(info)
    if (execution_params is None) == (reexecution_params is None):
        return python_error(
            "Must only provide one of either executionParams or reexecutionParams",
            "DagsterInvariantViolationError",
        )
    if reexecution_params is not None:
        return _reexecute_parent(ctx, reexecution_params)
    assert execution_params is not None
    meta = execution_params.execution_metadata
    for name in ("root_run_id", "parent_run_id"):
        if meta is None or not isinstance(getattr(meta, name), str):
            return python_error(
                f"Param \"{name}\" is not a str. Got None which is type <class 'NoneType'>.",
                "CheckError",
            )
    assert meta is not None and meta.parent_run_id is not None
    tags = {t.key: t.value for t in meta.tags or []}
    resume_steps = None
    if not execution_params.step_keys and tags.get(RESUME_RETRY_TAG) == "true":
        parent = ctx.state.get_run(meta.parent_run_id)
        if parent is None:
            return python_error(
                f"Run {meta.parent_run_id} could not be found.", "DagsterRunNotFoundError"
            )
        steps = _steps_to_retry(ctx, parent)
        if isinstance(steps, PythonError):
            return steps
        resume_steps = steps
    return _start(ctx, execution_params, resume_steps)


def _reexecute_parent(ctx: MockContext, params: ReexecutionParams) -> LaunchRunReexecutionResult:
    """``reexecutionParams``: Dagster's ``create_reexecuted_run`` from the parent's record."""
    parent = ctx.state.get_run(params.parent_run_id)
    if parent is None:
        return python_error(
            f"Could not find parent run with id: {params.parent_run_id}", "CheckError"
        )
    try:
        loc, job = ctx.state.find_job(parent.location, parent.repository, parent.job_name)
    except UnknownTarget:
        return job_not_found(parent.location, parent.repository, parent.job_name)
    steps = None
    if params.strategy != ReexecutionStrategy.ALL_STEPS:
        found = _steps_to_retry(ctx, parent)
        if isinstance(found, PythonError):
            return found
        steps = found
    inherited = {}
    if params.use_parent_run_tags is not False:
        inherited = {k: v for k, v in parent.tags.items() if k not in _OMIT_ON_RETRY}
    root = parent.root_run_id or parent.run_id
    tags = {
        **inherited,
        **{t.key: t.value for t in params.extra_tags or []},
        "dagster/parent_run_id": parent.run_id,
        "dagster/root_run_id": root,
    }
    if steps is not None:
        tags[RESUME_RETRY_TAG] = "true"
    run = ctx.state.launch(
        loc,
        job,
        run_config=parent.run_config,
        tags=tags,
        asset_selection=parent.asset_selection,
        step_seconds=ctx.config.run_step_seconds,
        queued=ctx.config.run_queue,
        parent_run_id=parent.run_id,
        root_run_id=root,
        step_keys=steps,
    )
    return LaunchRunSuccess(run=Run(rec=run, now=ctx.state.now()))


def _backfill_partitions(
    ctx: MockContext, params: LaunchBackfillParams, keys: list[str]
) -> list[str]:
    """The partitions a backfill names: all, a list, or ranges per asset (in key order)."""
    if params.all_partitions:
        return list(keys)
    if params.partitions_by_assets:
        chosen: list[str] = []
        for by_asset in params.partitions_by_assets:
            ranges = []
            if by_asset is not None and by_asset.partitions is not None:
                ranges = list(by_asset.partitions.ranges or [])
                if by_asset.partitions.range is not None:
                    ranges.append(by_asset.partitions.range)
            for r in ranges:
                if r.start not in keys or r.end not in keys:
                    raise KeyError([k for k in (r.start, r.end) if k not in keys])
                chosen += keys[keys.index(r.start) : keys.index(r.end) + 1]
        return list(dict.fromkeys(chosen))
    return list(params.partition_names or [])


def _launch_backfill(info: Info, backfill_params: LaunchBackfillParams) -> LaunchBackfillResult:
    if (err := forced(info)) is not None:
        return err  # type: ignore[no-any-return]
    ctx = mock_context(info)
    params = backfill_params
    if params.selector is not None:  # the mock's jobs have no partition sets
        name = params.selector.partition_set_name
        return PartitionSetNotFoundError(
            message=f"Partition set {name} could not be found.", partition_set_name=name
        )
    paths = asset_paths(params.asset_selection)
    if not paths:
        return python_error(
            "Backfill requested without specifying either a selector or an asset selection",
            "DagsterError",
        )
    found = [ctx.state.location_of_asset(p) for p in paths]
    if None in found:
        unknown = paths[found.index(None)]
        return python_error(
            f"Asset {'/'.join(unknown)} not found.", "DagsterInvariantViolationError"
        )
    names = {loc.name for loc in found if loc is not None}
    if len(names) > 1:
        return python_error(
            "All assets of a backfill must be in one code location.",
            "DagsterInvariantViolationError",
        )
    loc = found[0]
    assert loc is not None
    defs = [loc.assets[p].partitions for p in paths if loc.assets[p].partitions is not None]
    keys = list(defs[0].keys) if defs and defs[0] is not None else []
    try:
        partitions = _backfill_partitions(ctx, params, keys)
    except KeyError as exc:
        unknown_keys = list(exc.args[0])
        return PartitionKeysNotFoundError(
            message=f"Partition keys `{unknown_keys}` could not be found.",
            partition_keys=unknown_keys,
        )
    unknown_keys = [k for k in partitions if k not in keys]
    if unknown_keys or not partitions:
        return PartitionKeysNotFoundError(
            message=f"Partition keys `{unknown_keys}` could not be found.",
            partition_keys=unknown_keys,
        )
    backfill = ctx.state.launch_backfill(
        loc,
        paths,
        partitions,
        tags={t.key: t.value for t in params.tags or []},
        tick_seconds=ctx.config.run_step_seconds,
    )
    return LaunchBackfillSuccess(backfill_id=backfill.backfill_id, launched_run_ids=[])


def _no_backfill(backfill_id: str) -> PythonError:
    return python_error(f"Failure condition: No backfill found for id: {backfill_id}", "CheckError")


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
    launch_run_reexecution = strawberry.mutation(resolver=_reexecute)
    launch_pipeline_reexecution = strawberry.mutation(resolver=_reexecute)
    launch_partition_backfill = strawberry.mutation(resolver=_launch_backfill)

    @strawberry.mutation
    def cancel_partition_backfill(self, info: Info, backfill_id: str) -> CancelBackfillResult:
        if (err := forced(info, backfill_id=backfill_id)) is not None:
            return err  # type: ignore[no-any-return]
        state = mock_context(info).state
        backfill = state.get_backfill(backfill_id)
        if backfill is None:
            return _no_backfill(backfill_id)
        state.cancel_backfill(backfill)
        return CancelBackfillSuccess(backfill_id=backfill_id)

    @strawberry.mutation
    def resume_partition_backfill(self, info: Info, backfill_id: str) -> ResumeBackfillResult:
        if (err := forced(info, backfill_id=backfill_id)) is not None:
            return err  # type: ignore[no-any-return]
        state = mock_context(info).state
        backfill = state.get_backfill(backfill_id)
        if backfill is None:
            return _no_backfill(backfill_id)
        state.resume_backfill(backfill)
        return ResumeBackfillSuccess(backfill_id=backfill_id)

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
