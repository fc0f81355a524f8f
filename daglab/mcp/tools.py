"""The tools: one per library operation, each bounded, each answer the ``--json`` document.

A tool is an async function whose parameters (with their descriptions) are its input schema
and whose ``Out`` model (``schemas.py``) is its output schema. ``guarded`` wraps each one:
the deadline, and the one way an answer or an error leaves the server (sanitized, secrets
masked, clipped; an error is a tool error carrying daglab's message and hint).

Read tools are always served; write tools (``WRITE_TOOLS``) only with ``allow_writes``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field

from daglab.helpers import errors, runs
from daglab.helpers.discovery import EntityFilters, discover, filter_entities
from daglab.helpers.models import RunResult
from daglab.mcp import schemas
from daglab.mcp.bounds import Limits, ToolDeadlineError, capped, safe_json, safe_text, within
from daglab.mcp.deployments import Deployments

# -- the context every tool shares --------------------------------------------------------------


@dataclass
class ToolContext:
    deployments: Deployments
    limits: Limits = field(default_factory=Limits)
    secrets: list[str] = field(default_factory=list)


# How an error's message spells the settings and operations it names: as tool arguments
# and tools, which is what an agent can act on.
_TOOL_OF = {
    "discover_locations": "list_locations",
    "connect": "list_locations",
    "discover_jobs": "discover_jobs",
    "discover_assets": "discover_assets",
    "validate_config": "validate_run_config",
    "wait_for_run": "get_run",
    "get_run": "get_run",
    "cancel_run": "cancel_run",
}
_ARGUMENT_OF = {"pattern": "asset_pattern", "http_timeout": "--http-timeout of daglab mcp"}


def mcp_spelling(kind: str, name: str, argument: str = "") -> str:
    """``location`` -> the argument ``location``; ``wait_for_run`` of ID -> ``get_run(run_id='ID')``."""
    if kind == "setting":
        arg = _ARGUMENT_OF.get(name, name)
        return f"`{arg}={argument}`" if argument else f"`{arg}`"
    tool = _TOOL_OF.get(name, name)
    return f"the tool {tool}(run_id={argument!r})" if argument else f"the tool {tool}"


_KIND = {
    errors.EXIT_BAD_INPUT: "bad input",
    errors.EXIT_SERVER: "server",
    errors.EXIT_AUTH: "auth",
    errors.EXIT_TIMEOUT: "timeout",
    errors.EXIT_RUN_FAILED: "run failed",
}


def error_text(exc: BaseException, ctx: ToolContext) -> str:
    """What an agent reads when a tool fails: the kind, daglab's message and hint, and for an
    invalid config each problem with its path. Sanitized, secrets masked, clipped."""
    if isinstance(exc, errors.DaglabError):
        message, hint = exc.render(mcp_spelling)
        text = f"[{_KIND.get(exc.exit_code, 'error')}] {message}"
        if isinstance(exc, errors.ConfigValidationError):
            text += "".join(f"\n  {p.where}: {p.message}" for p in exc.problems)
        if hint:
            text += f"\n{hint}"
    else:
        text = f"[error] unexpected {type(exc).__name__}: {exc}"
    return safe_text(text, ctx.limits.max_text, ctx.secrets)


ToolFn = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    fn: Callable[..., Awaitable[Any]]
    out: type
    write: bool
    title: str
    destructive: bool = False


def guarded(
    ctx: ToolContext,
    fn: ToolFn,
    out: type,
    deadline: Callable[[dict[str, Any]], float] | None = None,
) -> Callable[..., Awaitable[Any]]:
    """``fn`` as a tool: its parameters, ``out`` as its output schema, run under a deadline
    (``ctx.limits.tool_timeout``, or ``deadline(arguments)``), its answer made safe, and any
    failure turned into a tool error with daglab's (safe) message."""
    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    async def tool(**arguments: Any) -> Any:
        seconds = deadline(arguments) if deadline else ctx.limits.tool_timeout
        try:
            result = await within(seconds, fn(**arguments), f"{fn.__name__}")
        except Exception as exc:
            raise ToolError(error_text(exc, ctx)) from None
        return safe_json(result, ctx.limits.max_text, ctx.secrets)

    signature = inspect.signature(fn, eval_str=True)
    tool.__signature__ = signature.replace(return_annotation=out)  # type: ignore[attr-defined]
    return tool


# -- argument types (their descriptions are the input schema) -----------------------------------

Profile = Annotated[
    str | None,
    Field(
        description="A profile of the daglab config (see list_deployments) to talk to instead "
        "of this server's own connection: one server can serve dev and prod."
    ),
]
Limit = Annotated[
    int | None,
    Field(description="The most items to return (default 100; capped by the server).", ge=1),
]
Location = Annotated[
    str | None, Field(description="Only this code location (exact name); default: all.")
]
Repository = Annotated[
    str | None,
    Field(description="Only this repository (a Definitions object is '__repository__')."),
]
Pattern = Annotated[
    str | None,
    Field(
        description="Shell-style wildcard on asset keys (slash-joined) or names: 'orders/*' "
        "(any depth), '*/raw_*', 'raw_*' (also matched against the key's last part)."
    ),
]
Tags = Annotated[
    dict[str, str] | None,
    Field(description="Keep only what carries all these tags with these values."),
]
RunConfig = Annotated[
    dict[str, Any] | None,
    Field(description="The run config as a JSON object (what a YAML run config holds)."),
]
RunTags = Annotated[dict[str, str] | None, Field(description="Tags to set on the run.")]
Partition = Annotated[
    str | None, Field(description="Partition key to run (sets the dagster/partition tag).")
]
AssetKeys = Annotated[
    list[str] | None,
    Field(description="Exactly these assets, by slash-joined key: ['sales/orders']."),
]
Select = Annotated[
    str | None,
    Field(
        description="A Dagster asset selection, resolved by daglab the same on every Dagster "
        "version: 'group:sales', '+key:\"sales/report\"', 'tag:tier=gold and not "
        "kind:pandas', 'sinks(*)'."
    ),
]
RunId = Annotated[str, Field(description="The run's full id.", min_length=1)]
Wait = Annotated[
    bool,
    Field(
        description="Wait for the run to end (at most `timeout` seconds); otherwise return "
        "as soon as it is launched and follow it with get_run."
    ),
]
Timeout = Annotated[
    float | None,
    Field(
        description="Seconds to wait when wait=true (default 120; capped by the server). On "
        "a timeout the run goes on and the answer says timed_out.",
        ge=0,
    ),
]
CancelOnTimeout = Annotated[bool, Field(description="Cancel the run if the timeout passes.")]


# -- the tools ------------------------------------------------------------------------------------


def _tags(tags: dict[str, str] | None) -> dict[str, str] | None:
    return {str(k): str(v) for k, v in tags.items()} if tags else None


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
        jobs = filter_entities(jobs, EntityFilters(pattern=pattern, tags=_tags(tags)))
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
            from daglab.helpers.selection import select_assets

            chosen = set(select_assets(select, assets))
            assets = [a for a in assets if a.key in chosen]
        filters = EntityFilters(pattern=pattern, tags=_tags(tags), groups=groups or None)
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
        return (await runs.get_run(client, run_id)).to_json()

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
        # -- run history, event and compute logs, re-execution, failure summary -------------
        # (issue 19, branch `ops`: helpers/runs/history.py, logs.py, reexecute.py). Their
        # read tools go here, each onto one of those operations, bounded like the rest
        # (list_runs: limit/cursor; get_run_logs, get_compute_logs: limit/cursor and
        # max_text; get_failure_summary); re-execute_run goes in write_tools.
        # -- schedules, sensors, asset status and checks (a later issue) go here too. --------
    ]


def write_tools(ctx: ToolContext) -> list[ToolSpec]:
    limits, deployments = ctx.limits, ctx.deployments

    def launch_deadline(arguments: dict[str, Any]) -> float:
        wait = limits.wait(arguments.get("timeout")) if arguments.get("wait") else 0.0
        return wait + limits.tool_timeout

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
        data = (await runs.cancel_run(client, run_id, force=force, wait=10.0)).to_json()
        data["force"] = force
        return data

    return [
        ToolSpec(
            "launch_job",
            guarded(ctx, launch_job, schemas.LaunchOut, deadline=launch_deadline),
            schemas.LaunchOut,
            True,
            "Launch a job",
        ),
        ToolSpec(
            "launch_assets",
            guarded(ctx, launch_assets, schemas.LaunchOut, deadline=launch_deadline),
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
        # -- re-execute a run (issue 19), start/stop schedules and sensors (later) go here. --
    ]


WRITE_TOOLS = frozenset({"launch_job", "launch_assets", "cancel_run"})


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
        tags=_tags(tags) or {},
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
