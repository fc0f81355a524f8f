"""The automation tools: list schedules and sensors (read), and (write tools) start and stop
them and reload code locations.

Each maps onto one operation of ``helpers/automation.py``; lists are bounded by ``limit``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from daglab.helpers import automation
from daglab.mcp import schemas
from daglab.mcp.toolkit import Limit, Location, Profile, Repository, ToolContext, ToolSpec, guarded

Status = Annotated[str | None, Field(description="Only those 'running' or 'stopped'.")]
NamePattern = Annotated[
    str | None,
    Field(description="Names matching this shell-style wildcard ('nightly_*'), or containing it."),
]
Name = Annotated[str, Field(description="The schedule's or sensor's name.")]

AUTOMATION_WRITE_TOOLS = frozenset(
    {"start_schedule", "stop_schedule", "start_sensor", "stop_sensor", "reload_code_location"}
)


def automation_read_tools(ctx: ToolContext) -> list[ToolSpec]:
    limits, deployments = ctx.limits, ctx.deployments

    async def _list(
        kind: str,
        pattern: str | None,
        location: str | None,
        repository: str | None,
        status: str | None,
        limit: int | None,
        profile: str | None,
    ) -> dict[str, Any]:
        client = await deployments.client(profile)
        found = await automation.list_instigators(
            client, kind, location=location, repository=repository, status=status, pattern=pattern
        )
        n = limits.limit(limit)
        return {
            f"{kind}s": [i.to_json() for i in found[:n]],
            "count": len(found[:n]),
            "total": len(found),
            "limit": n,
            "truncated": len(found) > n,
        }

    async def list_schedules(
        pattern: NamePattern = None,
        location: Location = None,
        repository: Repository = None,
        status: Status = None,
        limit: Limit = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """The schedules of every loaded code location: cron, timezone, status (and the one
        declared in code), next tick. Like `daglab schedules list --json`."""
        return await _list("schedule", pattern, location, repository, status, limit, profile)

    async def list_sensors(
        pattern: NamePattern = None,
        location: Location = None,
        repository: Repository = None,
        status: Status = None,
        limit: Limit = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """The sensors of every loaded code location: interval, status (and the one declared
        in code), next tick. Like `daglab sensors list --json`."""
        return await _list("sensor", pattern, location, repository, status, limit, profile)

    return [
        ToolSpec(
            "list_schedules",
            guarded(ctx, list_schedules, schemas.SchedulesOut),
            schemas.SchedulesOut,
            False,
            "List schedules",
        ),
        ToolSpec(
            "list_sensors",
            guarded(ctx, list_sensors, schemas.SensorsOut),
            schemas.SensorsOut,
            False,
            "List sensors",
        ),
    ]


def automation_write_tools(ctx: ToolContext) -> list[ToolSpec]:
    limits, deployments = ctx.limits, ctx.deployments

    async def _set(
        kind: str,
        name: str,
        running: bool,
        location: str | None,
        repository: str | None,
        profile: str | None,
    ) -> dict[str, Any]:
        client = await deployments.client(profile)
        change = await automation.set_instigator_running(
            client, kind, name, running, location=location, repository=repository
        )
        return change.to_json()

    async def start_schedule(
        name: Name,
        location: Location = None,
        repository: Repository = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Start a schedule. One already running is an error; nothing is changed. Like
        `daglab schedules start NAME --json`."""
        return await _set("schedule", name, True, location, repository, profile)

    async def stop_schedule(
        name: Name,
        location: Location = None,
        repository: Repository = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Stop a schedule. One declared RUNNING in code stays stopped (Dagster stores the stop,
        overriding the code) until started or reset: `note` says so. Like `daglab schedules
        stop NAME --json`."""
        return await _set("schedule", name, False, location, repository, profile)

    async def start_sensor(
        name: Name,
        location: Location = None,
        repository: Repository = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Start a sensor. One already running is an error. Like `daglab sensors start NAME
        --json`."""
        return await _set("sensor", name, True, location, repository, profile)

    async def stop_sensor(
        name: Name,
        location: Location = None,
        repository: Repository = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Stop a sensor (see stop_schedule for one declared RUNNING in code). Like `daglab
        sensors stop NAME --json`."""
        return await _set("sensor", name, False, location, repository, profile)

    async def reload_code_location(
        location: Annotated[
            str | None, Field(description="The code location to reload; default: every one.")
        ] = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """Reload a code location (or the whole workspace) and wait until it is LOADED or
        failed; `ok` false and each location's `error` when one failed. Like `daglab reload
        LOCATION --json`."""
        client = await deployments.client(profile)
        result = await automation.reload_locations(client, location, timeout=limits.tool_timeout)
        return result.to_json()

    def spec(name: str, fn: Any, out: type, title: str) -> ToolSpec:
        return ToolSpec(name, guarded(ctx, fn, out), out, True, title)

    return [
        spec("start_schedule", start_schedule, schemas.InstigatorChangeOut, "Start a schedule"),
        spec("stop_schedule", stop_schedule, schemas.InstigatorChangeOut, "Stop a schedule"),
        spec("start_sensor", start_sensor, schemas.InstigatorChangeOut, "Start a sensor"),
        spec("stop_sensor", stop_sensor, schemas.InstigatorChangeOut, "Stop a sensor"),
        spec("reload_code_location", reload_code_location, schemas.ReloadOut, "Reload code"),
    ]
