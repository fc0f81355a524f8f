"""The tools: one per library operation, each bounded, each answer the ``--json`` document.

A tool is an async function whose parameters (with their descriptions) are its input schema
and whose ``Out`` model (``schemas.py``) is its output schema. ``guarded`` wraps each one:
the deadline, and the one way an answer or an error leaves the server (sanitized, secrets
masked, clipped; an error is a tool error carrying daglab's message and hint).

Read tools are always served; write tools (``WRITE_TOOLS``) only with ``allow_writes``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field

from daglab.helpers import errors, runs
from daglab.helpers.discovery import EntityFilters, discover, filter_entities
from daglab.helpers.models import RunResult
from daglab.helpers.runs.history import resolve_run_ref
from daglab.mcp import assets as asset_tools
from daglab.mcp import automation, operate, schemas
from daglab.mcp.bounds import ToolDeadlineError, capped, within
from daglab.mcp.toolkit import (
    AssetKeys,
    CancelOnTimeout,
    Limit,
    Location,
    Partition,
    Pattern,
    Profile,
    Repository,
    RunConfig,
    RunId,
    RunTags,
    Select,
    Tags,
    Timeout,
    ToolContext,
    ToolSpec,
    Wait,
    clean_tags,
    error_text,
    guarded,
    mcp_spelling,
    wait_deadline,
)

__all__ = ["WRITE_TOOLS", "ToolContext", "error_text", "mcp_spelling", "read_tools", "write_tools"]


def read_tools(ctx: ToolContext) -> list[ToolSpec]:
    limits, deployments = ctx.limits, ctx.deployments

    async def list_locations(
        location: Location = None, limit: Limit = None, profile: Profile = None
    ) -> dict[str, Any]:
        """List the deployment's code locations with their load status (LOADED, LOADING,
        FAILED) and repositories; a location that failed to load carries its error. The same
        as `daglab discover --filter locations --json`."""
        client = await deployments.client(profile)
        found = await discover(client, [], location)
        n = limits.limit(limit)
        shown, truncated = capped(found.locations, n)
        return {
            "locations": [loc.to_json() for loc in shown],
            "total": len(found.locations),
            "limit": n,
            "truncated": truncated,
        }

    async def discover_jobs(
        pattern: Pattern = None,
        tags: Tags = None,
        location: Location = None,
        repository: Repository = None,
        limit: Limit = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Find the user-defined jobs (never the implicit __ASSET_JOB ones), sorted by
        location, repository and name, optionally by name pattern and tags. The same as
        `daglab discover --filter jobs --json`. Use a job's name with launch_job or
        validate_run_config."""
        client = await deployments.client(profile)
        found = await discover(client, ["jobs"], location, repository)
        jobs = sorted(found.jobs or [], key=lambda j: (j.location, j.repository, j.name))
        jobs = filter_entities(jobs, EntityFilters(pattern=pattern, tags=clean_tags(tags)))
        n = limits.limit(limit)
        shown, truncated = capped(jobs, n)
        return {
            "jobs": [j.to_json() for j in shown],
            "total": len(jobs),
            "limit": n,
            "truncated": truncated,
            "failed_locations": [loc.name for loc in found.failed_locations],
        }

    async def discover_assets(
        pattern: Pattern = None,
        tags: Tags = None,
        groups: Annotated[
            list[str] | None, Field(description="Keep assets of these groups.")
        ] = None,
        select: Select = None,
        location: Location = None,
        repository: Repository = None,
        limit: Limit = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Find asset definitions, sorted by key: each with its group, tags, kinds,
        partitions, dependencies and the jobs that contain it. Filters combine (all must
        match): a key pattern, tags, groups, and a Dagster asset selection. The same as
        `daglab discover --filter assets --json`. Use the keys with launch_assets."""
        client = await deployments.client(profile)
        found = await discover(client, ["assets"], location, repository)
        assets = sorted(found.assets or [], key=lambda a: (a.key, a.location, a.repository))
        if select:
            from daglab.helpers.discovery import select_among

            assets = await select_among(client, select, assets)
        filters = EntityFilters(pattern=pattern, tags=clean_tags(tags), groups=groups or None)
        assets = filter_entities(assets, filters)
        n = limits.limit(limit)
        shown, truncated = capped(assets, n)
        return {
            "assets": [a.to_json() for a in shown],
            "total": len(assets),
            "limit": n,
            "truncated": truncated,
            "failed_locations": [loc.name for loc in found.failed_locations],
        }

    async def validate_run_config(
        job: Annotated[str | None, Field(description="Validate for this job.")] = None,
        asset_keys: AssetKeys = None,
        asset_pattern: Pattern = None,
        select: Select = None,
        run_config: RunConfig = None,
        partition: Partition = None,
        location: Location = None,
        repository: Repository = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Ask the server whether a run config is valid for a job (or for a selection of
        assets: give exactly one of job, asset_keys, asset_pattern, select), without
        launching anything. An invalid config is not an error: the answer has valid=false and
        each problem with its path in the config. The same as `daglab run --validate-only
        --json`."""
        request = _request(
            job,
            asset_keys,
            asset_pattern,
            select,
            location,
            repository,
            run_config,
            None,
            partition,
        )
        workflow = runs.RunWorkflow(await deployments.client(profile), request)
        return (await workflow.validate()).to_json()

    async def get_run(run_id: RunId, profile: Profile = None) -> dict[str, Any]:
        """Where a run stands now (any run on the server): status, job, location, asset
        selection, partition, start and end times. Read once, not watched. The same as the
        document `daglab watch --json` ends with."""
        client = await deployments.client(profile)
        return (await runs.get_run(client, await resolve_run_ref(client, run_id))).to_json()

    async def list_deployments() -> dict[str, Any]:
        """The deployments this server can talk to: its own connection (used when a call
        names no profile) and the profiles of the daglab config that a call's `profile`
        argument may name. Never shows a credential."""
        settings = await _to_thread(deployments.settings)
        rows, default_profile = deployments.profiles()
        return {
            "default_url": _without_userinfo(settings.url),
            "default_source": settings.url_source,
            "default_profile": settings.profile,
            "profiles": [
                {
                    "name": name,
                    "url": _without_userinfo(url) if url else None,
                    "default": name == (settings.profile or default_profile),
                }
                for name, url in rows
            ],
        }

    return [
        ToolSpec(
            "list_locations",
            guarded(ctx, list_locations, schemas.LocationsOut),
            schemas.LocationsOut,
            False,
            "List code locations",
        ),
        ToolSpec(
            "discover_jobs",
            guarded(ctx, discover_jobs, schemas.JobsOut),
            schemas.JobsOut,
            False,
            "Discover jobs",
        ),
        ToolSpec(
            "discover_assets",
            guarded(ctx, discover_assets, schemas.AssetsOut),
            schemas.AssetsOut,
            False,
            "Discover assets",
        ),
        ToolSpec(
            "validate_run_config",
            guarded(ctx, validate_run_config, schemas.ValidationOut),
            schemas.ValidationOut,
            False,
            "Validate a run config",
        ),
        ToolSpec(
            "get_run", guarded(ctx, get_run, schemas.RunOut), schemas.RunOut, False, "Get a run"
        ),
        ToolSpec(
            "list_deployments",
            guarded(ctx, list_deployments, schemas.DeploymentsOut),
            schemas.DeploymentsOut,
            False,
            "List deployments",
        ),
        # -- run history, logs, failures: mcp/operate.py --------------------------------------
        *operate.operate_read_tools(ctx),
        # -- schedules and sensors: mcp/automation.py -----------------------------------------
        *automation.automation_read_tools(ctx),
        # -- asset status, history and checks: mcp/assets.py ---------------------------------
        *asset_tools.assets_read_tools(ctx),
    ]


def write_tools(ctx: ToolContext) -> list[ToolSpec]:
    limits, deployments = ctx.limits, ctx.deployments

    async def launch(
        request: runs.RunRequest,
        profile: str | None,
        wait: bool,
        timeout: float | None,
        cancel_on_timeout: bool,
    ) -> dict[str, Any]:
        workflow = runs.RunWorkflow(await deployments.client(profile), request)
        seconds = limits.wait(timeout)
        try:
            submitted = await within(limits.tool_timeout, workflow.launch(), "The launch")
        except ToolDeadlineError as exc:
            exc.hint = (
                f"The run may have been launched: look for the tag "
                f"{runs.REQUEST_ID_TAG}={request.request_id} before launching again."
            )
            raise
        if wait:
            result = await workflow.watch(seconds, cancel_on_timeout)
        else:
            result = runs.submitted_result(submitted)
        return _launched(result, request.request_id)

    async def launch_job(
        job: Annotated[str, Field(description="The job to run (see discover_jobs).")],
        run_config: RunConfig = None,
        tags: RunTags = None,
        partition: Partition = None,
        location: Location = None,
        repository: Repository = None,
        wait: Wait = False,
        timeout: Timeout = None,
        cancel_on_timeout: CancelOnTimeout = False,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Launch a run of a job, once (a lost response is recovered by the run's
        daglab/request_id tag, never launched twice). The config is validated by the server
        first: an invalid one is an error listing each problem with its path, and nothing is
        launched. With wait=true, wait up to `timeout` seconds for the run to end; a run that
        ends FAILURE or CANCELED is an answer (status, failing step, error), not an error.
        Like `daglab run --job JOB --json`."""
        request = _request(job, None, None, None, location, repository, run_config, tags, partition)
        return await launch(request, profile, wait, timeout, cancel_on_timeout)

    async def launch_assets(
        asset_keys: AssetKeys = None,
        asset_pattern: Pattern = None,
        select: Select = None,
        run_config: RunConfig = None,
        tags: RunTags = None,
        partition: Partition = None,
        location: Location = None,
        repository: Repository = None,
        wait: Wait = False,
        timeout: Timeout = None,
        cancel_on_timeout: CancelOnTimeout = False,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Materialize a selection of assets in one run: give exactly one of asset_keys,
        asset_pattern or select (resolved by daglab against the discovered assets, the same
        on every Dagster version). Launched once, config validated first, waiting as for
        launch_job. Like `daglab run --asset-selection/--asset-pattern/--select ... --json`."""
        request = _request(
            None,
            asset_keys,
            asset_pattern,
            select,
            location,
            repository,
            run_config,
            tags,
            partition,
            offered=("asset_keys", "asset_pattern", "select"),
        )
        return await launch(request, profile, wait, timeout, cancel_on_timeout)

    async def cancel_run(
        run_id: RunId,
        force: Annotated[
            bool,
            Field(
                description="Mark the run canceled at once instead of asking its process "
                "to stop (for a run whose process is gone)."
            ),
        ] = False,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Cancel (terminate) a QUEUED, STARTING or STARTED run with Dagster's safe
        termination, and wait up to 10 s for it to end; returns the run as it then stands. A
        run that already ended is an error. The same as `daglab cancel RUN_ID --json`."""
        client = await deployments.client(profile)
        run_id = await resolve_run_ref(client, run_id)
        data = (await runs.cancel_run(client, run_id, force=force, wait=10.0)).to_json()
        data["force"] = force
        return data

    return [
        ToolSpec(
            "launch_job",
            guarded(ctx, launch_job, schemas.LaunchOut, deadline=wait_deadline(limits)),
            schemas.LaunchOut,
            True,
            "Launch a job",
        ),
        ToolSpec(
            "launch_assets",
            guarded(ctx, launch_assets, schemas.LaunchOut, deadline=wait_deadline(limits)),
            schemas.LaunchOut,
            True,
            "Materialize assets",
        ),
        ToolSpec(
            "cancel_run",
            guarded(
                ctx, cancel_run, schemas.CancelOut, deadline=lambda _: 10.0 + limits.tool_timeout
            ),
            schemas.CancelOut,
            True,
            "Cancel a run",
            destructive=True,
        ),
        *operate.operate_write_tools(ctx),  # re-execution
        *automation.automation_write_tools(ctx),  # start/stop schedules and sensors, reload
    ]


WRITE_TOOLS = (
    frozenset({"launch_job", "launch_assets", "cancel_run"})
    | operate.OPERATE_WRITE_TOOLS
    | automation.AUTOMATION_WRITE_TOOLS
)


# -- helpers ----------------------------------------------------------------------------------


def _request(
    job: str | None,
    asset_keys: list[str] | None,
    asset_pattern: str | None,
    select: str | None,
    location: str | None,
    repository: str | None,
    run_config: dict[str, Any] | None,
    tags: dict[str, str] | None,
    partition: str | None,
    offered: tuple[str, ...] = ("job", "asset_keys", "asset_pattern", "select"),
) -> runs.RunRequest:
    """The run request of a tool's arguments; exactly one of the targets it ``offered``."""
    given = {"job": job, "asset_keys": asset_keys, "asset_pattern": asset_pattern, "select": select}
    runs.require_one_target({k: v for k, v in given.items() if k in offered})
    if run_config is not None and not isinstance(run_config, dict):
        raise errors.BadInputError("run_config must be a JSON object.")
    return runs.RunRequest(
        job=job,
        asset_selection=asset_keys,
        pattern=asset_pattern,
        select=select,
        location=location,
        repository=repository,
        run_config=dict(run_config or {}),
        tags=clean_tags(tags) or {},
        partition=partition,
    )


def _launched(result: RunResult, request_id: str) -> dict[str, Any]:
    data = result.to_json()
    data.update(request_id=request_id, stop_reason=result.stop_reason, waited_s=result.waited_s)
    return data


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


async def _to_thread(fn: Callable[[], Any]) -> Any:
    import asyncio

    return await asyncio.to_thread(fn)
