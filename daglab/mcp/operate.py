"""The tools that operate runs after launch: history, one run in full, the event log, a
step's captured output, a failure summary, and (a write tool) re-execution.

Each maps onto one library operation (``helpers/runs/history.py``, ``logs.py``,
``reexecute.py``, ``workflow.py``) and is bounded: lists by ``limit`` with a cursor to go on,
captured output by lines and bytes, every call by the tool's deadline.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from daglab.helpers import errors, runs
from daglab.helpers.models import BackfillInfo
from daglab.helpers.runs import backfills
from daglab.helpers.runs.history import iter_runs, resolve_run_ref, run_filter
from daglab.helpers.runs.logs import (
    EventFilter,
    EventLog,
    captured_log_info,
    event_of,
    get_run_details,
    read_captured,
    tail_captured,
)
from daglab.helpers.runs.reexecute import ALL_STEPS, FROM_FAILURE
from daglab.mcp import schemas
from daglab.mcp.toolkit import (
    AssetKeys,
    CancelOnTimeout,
    Limit,
    Location,
    Pattern,
    Profile,
    Repository,
    RunId,
    RunTags,
    Select,
    Timeout,
    ToolContext,
    ToolSpec,
    Wait,
    clean_tags,
    guarded,
    wait_deadline,
)

# The most raw events one get_run_logs call reads while looking for `limit` that pass its
# filters; past it the answer stops early with a cursor to go on from.
MAX_SCANNED_EVENTS = 20_000
# The most bytes of captured output one get_compute_logs call reads.
MAX_LOG_BYTES = 1024 * 1024
STDERR_TAIL_LINES = 10

Statuses = Annotated[
    list[str] | None,
    Field(description="Only runs in any of these statuses: QUEUED, STARTED, SUCCESS, FAILURE, ..."),
]
When = Annotated[
    str | None,
    Field(description="A time: a duration ago ('30m', '2h', '7d') or an ISO date or time."),
]
Cursor = Annotated[
    str | None,
    Field(description="The next_cursor of an earlier answer, to go on where it stopped."),
]
Stream = Annotated[str, Field(description="stdout or stderr.", pattern="^(stdout|stderr)$")]
BackfillId = Annotated[str, Field(description="The backfill's id.", min_length=1)]
Step = Annotated[
    str | None,
    Field(description="The step (op) key; default: the run's only step, or its failed one."),
]


def operate_read_tools(ctx: ToolContext) -> list[ToolSpec]:
    limits, deployments = ctx.limits, ctx.deployments

    async def list_runs(
        statuses: Statuses = None,
        job: Annotated[str | None, Field(description="Only runs of this job.")] = None,
        tags: Annotated[
            dict[str, str] | None, Field(description="Only runs carrying all these tags.")
        ] = None,
        since: When = None,
        before: When = None,
        location: Location = None,
        launched_by_daglab: Annotated[
            bool | None,
            Field(description="Only runs daglab launched (true) or did not (false)."),
        ] = None,
        limit: Limit = None,
        cursor: Cursor = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """The server's runs, newest first, with filters that combine: statuses, job, tags,
        created since/before, code location, launched by daglab. At most `limit` per answer;
        when `truncated`, pass `next_cursor` back as `cursor` for the next page. Each run as
        a line of `daglab runs list --json`."""
        client = await deployments.client(profile)
        filters = run_filter(
            statuses, job, clean_tags(tags), since, before, location, launched_by_daglab
        )
        n = limits.limit(limit)
        found = [run async for run in iter_runs(client, filters, limit=n + 1, after=cursor)]
        shown = found[:n]
        truncated = len(found) > n
        return {
            "runs": [run.to_json() for run in shown],
            "count": len(shown),
            "limit": n,
            "truncated": truncated,
            "next_cursor": shown[-1].run_id if truncated and shown else None,
        }

    async def get_run_details_tool(run: RunId, profile: Profile = None) -> dict[str, Any]:
        """One run in full: status, times, job, location, tags, asset selection, each step
        with its status and duration, the materializations, and for a failed run each failing
        step's error with its chain of causes. The same as `daglab runs show RUN --json`."""
        client = await deployments.client(profile)
        return (await get_run_details(client, await resolve_run_ref(client, run))).to_json()

    async def get_run_logs(
        run: RunId,
        levels: Annotated[
            list[str] | None, Field(description="Only these levels: DEBUG, INFO, WARNING, ERROR.")
        ] = None,
        steps: Annotated[list[str] | None, Field(description="Only these steps.")] = None,
        types: Annotated[
            list[str] | None,
            Field(
                description="Only these Dagster event types, e.g. STEP_FAILURE, ASSET_MATERIALIZATION."
            ),
        ] = None,
        limit: Limit = None,
        cursor: Cursor = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """A run's structured event log, oldest first, filtered by level, step and event
        type: at most `limit` events per answer; when `truncated`, pass `next_cursor` back as
        `cursor` to read on (also to see what a running run logs next). Each event as in
        `daglab logs RUN --json`."""
        client = await deployments.client(profile)
        run_id = await resolve_run_ref(client, run)
        n = limits.limit(limit)
        log = EventLog(client, run_id, EventFilter(levels or (), steps or (), types or ()))
        log.cursor = cursor
        events: list[dict[str, object]] = []
        scanned, more = 0, True
        while more and len(events) < n and scanned < MAX_SCANNED_EVENTS:
            # never more raw events than there is room for: the cursor lands on a page's end
            page, more = await log.next_page(n - len(events))
            scanned += len(page)
            for raw in page:
                event = event_of(raw)
                if log.filters.matches(event):
                    events.append(event.to_json())
            if not page:
                more = False
        return {
            "run_id": run_id,
            "status": log.status,
            "events": events,
            "count": len(events),
            "limit": n,
            "truncated": more,
            "next_cursor": log.cursor if more else None,
            "cursor": log.cursor,
        }

    async def get_compute_logs(
        run: RunId,
        step: Step = None,
        stream: Stream = "stderr",
        lines: Annotated[
            int | None,
            Field(description="How many lines (default 100; capped by the server).", ge=1),
        ] = None,
        from_start: Annotated[
            bool,
            Field(
                description="Read from the start (at byte `offset`) instead of the last lines; "
                "go on with next_offset."
            ),
        ] = False,
        offset: Annotated[int, Field(description="Byte offset to read from.", ge=0)] = 0,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """A step's captured stdout or stderr, as lines: by default the last `lines` lines;
        with from_start, the first `lines` lines from byte `offset` (and next_offset when
        there is more). Says when the instance keeps no compute logs or keeps them elsewhere
        (external_url). Like `daglab logs RUN --stderr --step STEP --json`, bounded."""
        client = await deployments.client(profile)
        run_id = await resolve_run_ref(client, run)
        n = limits.limit(lines)
        if not from_start:
            info, last = await tail_captured(client, run_id, step, stream, n)
            return {**info.to_json(), "lines": last, "truncated": False, "next_offset": None}
        info, log_key = await captured_log_info(client, run_id, step, stream)
        kept: list[str] = []
        partial, read, more = "", 0, False
        async for text in read_captured(client, log_key, stream, offset=offset):
            chunk = partial + text
            parts = chunk.split("\n")
            partial = parts.pop()
            for part in parts:
                if len(kept) == n:
                    more = True
                    break
                kept.append(part)
                read += len(part.encode("utf-8", "replace")) + 1
            if more or read >= MAX_LOG_BYTES:
                more = True
                break
        if not more and partial:
            if len(kept) < n:
                kept.append(partial)
                read += len(partial.encode("utf-8", "replace"))
            else:
                more = True
        info = info.model_copy(update={"bytes": read, "kept": info.kept or read > 0})
        return {
            **info.to_json(),
            "lines": kept,
            "truncated": more,
            "next_offset": offset + read if more else None,
        }

    async def get_failure_summary(run: RunId, profile: Profile = None) -> dict[str, Any]:
        """Why a run failed, in one answer: its status, each failing step with its error
        and chain of causes, the run's own error, and the last lines of the first failing
        step's stderr (what `daglab run` prints when a run fails). A run that did not fail
        answers with empty failures."""
        client = await deployments.client(profile)
        run_id = await resolve_run_ref(client, run)
        details = await get_run_details(client, run_id)
        tail: dict[str, Any] | None = None
        failure = details.failure
        if failure is not None and failure.step:
            try:
                info, last = await tail_captured(
                    client, run_id, failure.step, "stderr", STDERR_TAIL_LINES
                )
            except errors.DaglabError as exc:
                tail = {"step": failure.step, "lines": [], "unavailable": exc.message}
            else:
                tail = {
                    "step": failure.step,
                    "lines": last,
                    "kept": info.kept,
                    "external_url": info.external_url,
                }
        summary = details.run
        return {
            "run_id": summary.run_id,
            "status": summary.status,
            "url": summary.url,
            "job": summary.job,
            "failed": summary.status in ("FAILURE", "CANCELED"),
            "failed_steps": [s.key for s in details.steps if s.status == "FAILURE"],
            "failures": [f.model_dump() for f in details.failures],
            "run_error": details.run_error,
            "stderr_tail": tail,
        }

    async def list_backfills(
        status: Annotated[
            str | None,
            Field(description="Only backfills in this status: REQUESTED, COMPLETED, FAILED, ..."),
        ] = None,
        limit: Limit = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """The newest partition backfills, each with its partition counts (requested, in
        progress, succeeded, failed). Like `daglab backfills list --json`."""
        client = await deployments.client(profile)
        n = limits.limit(limit)
        found = await backfills.list_backfills(client, status, n + 1)
        shown = found[:n]
        return {
            "backfills": [_backfill(b, n) for b in shown],
            "count": len(shown),
            "limit": n,
            "truncated": len(found) > n,
        }

    async def get_backfill(backfill_id: BackfillId, profile: Profile = None) -> dict[str, Any]:
        """One backfill: its status, target, partition counts and failed partitions. Like
        `daglab backfills show ID --json`."""
        client = await deployments.client(profile)
        return _backfill(await backfills.get_backfill(client, backfill_id), limits.max_limit)

    return [
        ToolSpec(
            "list_backfills",
            guarded(ctx, list_backfills, schemas.BackfillsOut),
            schemas.BackfillsOut,
            False,
            "List backfills",
        ),
        ToolSpec(
            "get_backfill",
            guarded(ctx, get_backfill, schemas.BackfillOut),
            schemas.BackfillOut,
            False,
            "Get a backfill",
        ),
        ToolSpec(
            "list_runs",
            guarded(ctx, list_runs, schemas.RunsOut),
            schemas.RunsOut,
            False,
            "List runs",
        ),
        ToolSpec(
            "get_run_details",
            guarded(ctx, get_run_details_tool, schemas.RunDetailsOut),
            schemas.RunDetailsOut,
            False,
            "Get a run in full",
        ),
        ToolSpec(
            "get_run_logs",
            guarded(ctx, get_run_logs, schemas.RunLogsOut),
            schemas.RunLogsOut,
            False,
            "Read a run's event log",
        ),
        ToolSpec(
            "get_compute_logs",
            guarded(ctx, get_compute_logs, schemas.ComputeLogsOut),
            schemas.ComputeLogsOut,
            False,
            "Read a step's stdout/stderr",
        ),
        ToolSpec(
            "get_failure_summary",
            guarded(ctx, get_failure_summary, schemas.FailureSummaryOut),
            schemas.FailureSummaryOut,
            False,
            "Summarize a run's failure",
        ),
    ]


def operate_write_tools(ctx: ToolContext) -> list[ToolSpec]:
    limits, deployments = ctx.limits, ctx.deployments

    async def reexecute_run(
        run: RunId,
        from_failure: Annotated[
            bool,
            Field(
                description="Re-execute only the failed and skipped steps (the run must have "
                "failed or been canceled); default: every step."
            ),
        ] = False,
        steps: Annotated[
            list[str] | None, Field(description="Re-execute exactly these steps.")
        ] = None,
        tags: RunTags = None,
        wait: Wait = False,
        timeout: Timeout = None,
        cancel_on_timeout: CancelOnTimeout = False,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Re-execute a run (Dagster's launchRunReexecution): every step, from the failure,
        or chosen steps, with the parent's config and tags plus `tags`. Launched once (a lost
        answer is recovered by the daglab/request_id tag); with wait=true, waited on as
        launch_job does. Like `daglab rerun RUN [--from-failure|--steps] --json`."""
        if from_failure and steps:
            raise errors.BadInputError("Give from_failure or steps, not both.")
        client = await deployments.client(profile)
        parent = await resolve_run_ref(client, run)
        request = runs.RunRequest(tags=clean_tags(tags) or {})
        workflow = runs.RunWorkflow(client, request)
        submitted = await workflow.reexecute(
            parent, FROM_FAILURE if from_failure else ALL_STEPS, steps or None
        )
        if wait:
            result = await workflow.watch(limits.wait(timeout), cancel_on_timeout)
        else:
            result = runs.submitted_result(submitted)
        data = result.to_json()
        data.update(
            request_id=request.request_id,
            stop_reason=result.stop_reason,
            waited_s=result.waited_s,
            parent_run_id=parent,
        )
        return data

    async def launch_backfill(
        job: Annotated[str | None, Field(description="A partitioned job to backfill.")] = None,
        asset_keys: AssetKeys = None,
        asset_pattern: Pattern = None,
        select: Select = None,
        partitions: Annotated[
            list[str] | None, Field(description="Exactly these partition keys.")
        ] = None,
        partition_range: Annotated[
            str | None,
            Field(
                description="An inclusive range of keys: 'START...END' (e.g. '2024-02-01...2024-02-29')."
            ),
        ] = None,
        location: Location = None,
        repository: Repository = None,
        tags: RunTags = None,
        wait: Annotated[
            bool, Field(description="Wait (at most `timeout` s) for every partition to end.")
        ] = False,
        timeout: Timeout = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Launch one partition backfill of a partitioned job or of assets (one of job,
        asset_keys, asset_pattern, select), for `partitions` or a `partition_range` (one of
        them); every key is checked against the target's partitions first. Launched once (a
        lost answer is found again by its daglab/request_id tag). With wait=true, the answer
        is the backfill at its end, or with timed_out. Like `daglab run --partitions/
        --partition-range --json`."""
        runs.require_one_target(
            {"job": job, "asset_keys": asset_keys, "asset_pattern": asset_pattern, "select": select}
        )
        if (partitions is None) == (partition_range is None):
            raise errors.BadInputError("Give partitions or partition_range (one of them).")
        client = await deployments.client(profile)
        target = await backfills.resolve_backfill_target(
            client,
            job=job,
            asset_selection=asset_keys,
            pattern=asset_pattern,
            select=select,
            location=location,
            repository=repository,
        )
        chosen = await backfills.choose_partitions(client, target, partitions, partition_range)
        info = await backfills.launch_backfill(client, target, chosen, tags=clean_tags(tags))
        if wait:
            info = await backfills.watch_backfill(client, info.backfill_id, limits.wait(timeout))
        return _backfill(info, limits.max_limit)

    async def cancel_backfill(backfill_id: BackfillId, profile: Profile = None) -> dict[str, Any]:
        """Cancel a backfill that has not ended: Dagster marks it CANCELING, and its daemon
        cancels the runs in flight, then marks it CANCELED. One that already ended is an
        error, and nothing changes. Like `daglab backfills cancel ID --json`."""
        client = await deployments.client(profile)
        return _backfill(await backfills.cancel_backfill(client, backfill_id), limits.max_limit)

    async def resume_backfill(backfill_id: BackfillId, profile: Profile = None) -> dict[str, Any]:
        """Resume a FAILED or CANCELED backfill (its daemon requests what is left); any
        other status is an error, and nothing changes. Dagster before 1.11 cannot resume an
        asset backfill: the error says so and how to launch the rest. Like `daglab backfills
        resume ID --json`."""
        client = await deployments.client(profile)
        return _backfill(await backfills.resume_backfill(client, backfill_id), limits.max_limit)

    return [
        ToolSpec(
            "launch_backfill",
            guarded(ctx, launch_backfill, schemas.BackfillOut, deadline=wait_deadline(limits)),
            schemas.BackfillOut,
            True,
            "Launch a backfill",
        ),
        ToolSpec(
            "cancel_backfill",
            guarded(ctx, cancel_backfill, schemas.BackfillOut),
            schemas.BackfillOut,
            True,
            "Cancel a backfill",
            destructive=True,
        ),
        ToolSpec(
            "resume_backfill",
            guarded(ctx, resume_backfill, schemas.BackfillOut),
            schemas.BackfillOut,
            True,
            "Resume a backfill",
        ),
        ToolSpec(
            "reexecute_run",
            guarded(ctx, reexecute_run, schemas.RerunOut, deadline=wait_deadline(limits)),
            schemas.RerunOut,
            True,
            "Re-execute a run",
        ),
    ]


OPERATE_WRITE_TOOLS = frozenset(
    {"reexecute_run", "launch_backfill", "cancel_backfill", "resume_backfill"}
)


def _backfill(info: BackfillInfo, most: int) -> dict[str, Any]:
    """``BackfillInfo.to_json()`` with its partition lists cut to ``most`` keys each (a
    backfill may target thousands); ``partitions_truncated`` says so."""
    data = info.to_json()
    cut = False
    for name, keys in (
        ("partitions", info.partitions),
        ("failed_partitions", info.failed_partitions),
    ):
        if len(keys) > most:
            data[name], cut = keys[:most], True
    data["partitions_truncated"] = cut
    return data
