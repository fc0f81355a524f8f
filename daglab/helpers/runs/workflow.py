"""The run workflow, once: resolve the target, check its partition, validate or launch, watch,
and say how it ended.

``daglab run``, ``run_job`` and ``run_assets`` are this workflow with different faces: each
passes what the user asked for as a ``RunRequest``, hears of the launch and the progress
through callbacks, and shows the outcome its own way. What a run ended as is a
``RunResult``; a timeout is the one ``RunTimeoutError`` of ``timeout_error``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from daglab.helpers import errors
from daglab.helpers.errors import operation, setting
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.models import RunResult, RunSubmitResult, ValidationResult
from daglab.helpers.runs.events import ProgressCallback
from daglab.helpers.runs.launch import launch_run
from daglab.helpers.runs.reexecute import ALL_STEPS, reexecute_run
from daglab.helpers.runs.targets import (
    PartitionPlan,
    RunTarget,
    check_partition,
    merge_run_config,
    resolve_assets,
    resolve_job,
)
from daglab.helpers.runs.watch import RunWatcher
from daglab.helpers.validation import validate_run_config


def require_one_target(given: Mapping[str, object]) -> str:
    """The name of the one target given among the settings a face offers (``{"job": ...,
    "pattern": ...}``); none or several is exit 2, naming the settings."""
    named = [name for name, value in given.items() if value is not None]
    if len(named) == 1:
        return named[0]
    options = [setting(name) for name in given]
    listed = ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else options[0]
    got = f" (got {' and '.join(setting(n) for n in named)})." if named else "."
    raise errors.BadInputError(f"Give exactly one target: {listed}{got}")


@dataclass(frozen=True)
class RunRequest:
    """What to run: exactly one of ``job``, ``asset_selection`` (keys), ``pattern`` or
    ``select``; where (found automatically when unambiguous); config, tags, partition."""

    job: str | None = None
    asset_selection: str | Sequence[str] | None = None
    pattern: str | None = None
    select: str | None = None
    location: str | None = None
    repository: str | None = None
    run_config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    partition: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def submitted_result(submitted: RunSubmitResult) -> RunResult:
    """A just-launched run as a ``RunResult`` (not watched: ``stop_reason`` is not_waiting)."""
    return RunResult(
        run_id=submitted.run_id,
        status=submitted.status,
        url=submitted.url,
        job=submitted.job,
        location=submitted.location,
        repository=submitted.repository,
        asset_selection=list(submitted.asset_selection),
        partition=submitted.partition,
    )


def _waited(result: RunResult) -> str:
    seconds = result.waited_s or 0.0
    return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"


def timeout_error(result: RunResult) -> errors.RunTimeoutError:
    """The error for a watch that timed out: how long it waited, where the run stands, and
    whether it goes on (then: how to watch it again or cancel it)."""
    if result.canceled_by_daglab:
        return errors.RunTimeoutError(
            f"Timed out after {_waited(result)} waiting for run {result.run_id}; it was "
            f"canceled (now {result.status}).",
            result=result,
            hint=result.url,
        )
    return errors.RunTimeoutError(
        f"Timed out after {_waited(result)} waiting for run {result.run_id} (still "
        f"{result.status}). The run goes on: {result.url}",
        result=result,
        hint=f"Watch it again with {operation('wait_for_run', result.run_id)}, or cancel it "
        f"with {operation('cancel_run', result.run_id)}.",
    )


def check_outcome(result: RunResult) -> RunResult:
    """``result`` if daglab saw the run end (or did not wait); a timeout raises."""
    if result.timed_out:
        raise timeout_error(result)
    return result


class RunWorkflow:
    """One run from request to outcome. Each step can be taken alone (the CLI validates
    without launching); ``snapshot`` says at any moment what is known, so an interrupted
    caller can still report the run."""

    def __init__(
        self,
        client: DagsterClient,
        request: RunRequest,
        *,
        on_launched: Callable[[RunSubmitResult], None] | None = None,
        on_progress: ProgressCallback | None = None,
        follow_events: bool = True,
    ) -> None:
        self.client = client
        self.request = request
        self.on_launched = on_launched
        self.on_progress = on_progress
        self.follow_events = follow_events
        self.target: RunTarget | None = None
        self.partition_plan: PartitionPlan | None = None
        self.submitted: RunSubmitResult | None = None
        self.watcher: RunWatcher | None = None

    async def resolve(self) -> RunTarget:
        """The job or the assets to run, found on the server; partition checked."""
        r = self.request
        if r.job is not None:
            target = await resolve_job(self.client, r.job, r.location, r.repository)
        else:
            target = await resolve_assets(
                self.client,
                keys=r.asset_selection,
                pattern=r.pattern,
                select=r.select,
                location=r.location,
                repository=r.repository,
            )
        self.partition_plan = await check_partition(self.client, target, r.partition)
        self.target = target
        return target

    @property
    def run_config(self) -> dict[str, Any]:
        """The config the run is launched with: the user's deep-merged over the partition's
        (see ``merge_run_config``; the user's value wins wherever both set one)."""
        user = dict(self.request.run_config)
        if self.partition_plan is None:
            return user
        return merge_run_config(self.partition_plan.run_config, user)

    @property
    def run_tags(self) -> dict[str, str]:
        """The partition's tags (``dagster/partition``, ``dagster/partition_set``, the job's
        own per-partition tags), then the user's over them."""
        base = dict(self.partition_plan.tags) if self.partition_plan is not None else {}
        return {**base, **dict(self.request.tags)}

    async def validate(self) -> ValidationResult:
        """Ask the server whether the run config is valid for the target; launch nothing."""
        target = self.target or await self.resolve()
        return await validate_run_config(
            self.client,
            target.job,
            target.location,
            target.repository,
            self.run_config,
            list(target.asset_selection),
        )

    async def launch(self) -> RunSubmitResult:
        """Launch the run once (see ``launch_run``); ``on_launched`` hears of it first."""
        target = self.target or await self.resolve()
        r = self.request
        submitted = await launch_run(
            self.client,
            target,
            run_config=self.run_config,
            tags=self.run_tags,
            partition=r.partition,
            request_id=r.request_id,
        )
        self.submitted = submitted
        if self.on_launched is not None:
            self.on_launched(submitted)
        return submitted

    async def reexecute(
        self, parent_run_id: str, strategy: str = ALL_STEPS, steps: Sequence[str] | None = None
    ) -> RunSubmitResult:
        """Launch a re-execution of ``parent_run_id`` once (see ``reexecute_run``), with the
        request's tags and request id; ``watch()`` follows it like a launched run."""
        submitted = await reexecute_run(
            self.client,
            parent_run_id,
            strategy=strategy,
            steps=steps,
            tags=dict(self.request.tags),
            request_id=self.request.request_id,
        )
        self.submitted = submitted
        if self.on_launched is not None:
            self.on_launched(submitted)
        return submitted

    async def watch(self, timeout: float | None, cancel_on_timeout: bool = False) -> RunResult:
        """Follow the launched run until it ends or ``timeout`` passes; returns where it
        stands (``timed_out`` set on a timeout: see ``check_outcome``)."""
        assert self.submitted is not None, "launch() first"
        return await self.watch_run(self.submitted.run_id, timeout, cancel_on_timeout)

    async def watch_run(
        self, run_id: str, timeout: float | None, cancel_on_timeout: bool = False
    ) -> RunResult:
        """Follow any run (``daglab watch``, ``wait_for_run``) the same way."""
        self.watcher = RunWatcher(
            self.client, run_id, on_progress=self.on_progress, follow_events=self.follow_events
        )
        return await self.watcher.watch(timeout, cancel_on_timeout)

    async def run(
        self, *, wait: bool = True, timeout: float | None = None, cancel_on_timeout: bool = False
    ) -> RunResult:
        """Resolve, launch and (with ``wait``) watch; a timeout raises ``RunTimeoutError``."""
        submitted = await self.launch()
        if not wait:
            return submitted_result(submitted)
        return check_outcome(await self.watch(timeout, cancel_on_timeout))

    def snapshot(self) -> RunResult | None:
        """The run as last seen, or as launched; None before a launch."""
        if self.watcher is not None:
            return self.watcher.result()
        if self.submitted is not None:
            return submitted_result(self.submitted)
        return None
