"""Automation: schedules and sensors (list, show with their recent ticks, start, stop), code
location reloads that wait until the location is loaded or failed, and the daemons' health.

Schedules and sensors are "instigators" in Dagster's schema; both kinds share one code path
here (``kind`` is ``"schedule"`` or ``"sensor"``). The schema these use is the same on 1.7
through 1.13 (docs/dagster-versions.md). A stop is recorded by Dagster as the instigator's
stored state, which overrides the status declared in code until it is started again or reset
(``resetSchedule``/``resetSensor``, back to the code default); ``stop`` says so.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Mapping, Sequence
from typing import Any

from daglab.helpers import errors
from daglab.helpers.discovery import location_records
from daglab.helpers.errors import setting
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import (
    DaemonInfo,
    InstigatorChange,
    InstigatorInfo,
    LocationInfo,
    ReloadResult,
    TickInfo,
)
from daglab.helpers.queries import (
    AUTOMATION,
    DAEMON_HEALTH,
    LOCATION_LOAD,
    RELOAD_LOCATION,
    RELOAD_WORKSPACE,
    SCHEDULE_DETAIL,
    SENSOR_DETAIL,
    START_SCHEDULE,
    START_SENSOR,
    STOP_SCHEDULE,
    STOP_SENSOR,
)
from daglab.helpers.text import clean

KINDS = ("schedule", "sensor")
STATUSES = ("RUNNING", "STOPPED")
ERROR_CHARS = 2000  # a tick's error or a load error, as shown: cleaned and cut to this
DEFAULT_TICKS = 10


def bounded(text: str | None, limit: int = ERROR_CHARS) -> str | None:
    """Server text made safe to show: control characters and escapes gone, at most ``limit``."""
    if text is None:
        return None
    value = clean(text).strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def error_text(error: Mapping[str, Any] | None) -> str | None:
    """A ``PythonError`` as one line for its message, then one ``Caused by CLASS: ...`` line
    per cause (the root cause last: it is what says what is wrong), cleaned and bounded."""
    if not error or not error.get("message"):
        return None
    lines = [clean(error["message"], one_line=True).strip()]
    for cause in error.get("causes") or []:
        if cause.get("message"):
            name = cause.get("className") or "error"
            text = clean(cause["message"], one_line=True).strip().removeprefix(f"{name}: ")
            lines.append(f"Caused by {name}: {text}")
    return bounded("\n".join(lines))


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise errors.BadInputError(f"{kind!r} is neither a schedule nor a sensor.")
    return kind


def _status_filter(status: str | None) -> str | None:
    if status is None:
        return None
    value = status.strip().upper()
    if value not in STATUSES:
        raise errors.BadInputError(
            f"{setting('status', status)}: expected running or stopped.",
        )
    return value


def _tick(raw: Mapping[str, Any]) -> TickInfo:
    return TickInfo(
        tick_id=str(raw.get("tickId")),
        status=str(raw.get("status")),
        timestamp=raw.get("timestamp"),
        end_timestamp=raw.get("endTimestamp"),
        skip_reason=bounded(raw.get("skipReason")),
        error=error_text(raw.get("error")),
        run_ids=[str(r) for r in raw.get("runIds") or []],
    )


def instigator_of(
    kind: str, raw: Mapping[str, Any], location: str, repository: str
) -> InstigatorInfo:
    """An ``InstigatorInfo`` from a ``Schedule`` or ``Sensor`` object of the schema."""
    state = raw.get("scheduleState" if kind == "schedule" else "sensorState") or {}
    ticks = state.get("ticks")
    status = str(state.get("status") or "STOPPED")
    if kind == "schedule":
        future = (raw.get("futureTicks") or {}).get("results") or []
        next_tick = future[0].get("timestamp") if future and status == "RUNNING" else None
        jobs = [str(raw["pipelineName"])] if raw.get("pipelineName") else []
    else:
        next_tick = (state.get("nextTick") or {}).get("timestamp")
        jobs = [str(t["pipelineName"]) for t in raw.get("targets") or [] if t.get("pipelineName")]
    return InstigatorInfo(
        kind=kind,
        name=str(raw["name"]),
        location=location,
        repository=repository,
        status=status,
        default_status=str(raw.get("defaultStatus") or "STOPPED"),
        description=raw.get("description"),
        cron_schedule=raw.get("cronSchedule"),
        timezone=raw.get("executionTimezone"),
        min_interval_seconds=raw.get("minIntervalSeconds"),
        sensor_type=raw.get("sensorType"),
        jobs=jobs,
        next_tick=next_tick,
        can_reset=bool(raw.get("canReset")),
        state_id=state.get("id"),
        ticks=[_tick(t) for t in ticks] if ticks is not None else None,
    )


async def list_instigators(
    client: DagsterClient,
    kind: str,
    *,
    location: str | None = None,
    repository: str | None = None,
    status: str | None = None,
    pattern: str | None = None,
) -> list[InstigatorInfo]:
    """The schedules (or sensors) of every loaded location, in workspace order, filtered by
    ``location``, ``repository``, ``status`` (running/stopped) and a name ``pattern`` (a shell
    glob such as ``nightly_*``, or a substring)."""
    _kind(kind)
    wanted = _status_filter(status)
    data = await client.execute(AUTOMATION)
    connection = check_union(
        data.get("repositoriesOrError"), "RepositoryConnection", f"listing {kind}s"
    )
    found: list[InstigatorInfo] = []
    for node in connection.get("nodes") or []:
        loc = str((node.get("location") or {}).get("name"))
        repo = str(node.get("name"))
        if location is not None and loc != location:
            continue
        if repository is not None and repo != repository:
            continue
        for raw in node.get(f"{kind}s") or []:
            info = instigator_of(kind, raw, loc, repo)
            if wanted is not None and info.status != wanted:
                continue
            if pattern and not _matches(info.name, pattern):
                continue
            found.append(info)
    return found


def _matches(name: str, pattern: str) -> bool:
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


async def find_instigator(
    client: DagsterClient,
    kind: str,
    name: str,
    *,
    location: str | None = None,
    repository: str | None = None,
) -> InstigatorInfo:
    """The one schedule (or sensor) called ``name``; none or several is ``BadInputError``."""
    every = await list_instigators(client, kind, location=location, repository=repository)
    matches = [i for i in every if i.name == name]
    if not matches:
        raise errors.TargetNotFoundError(
            f"No {kind} {name!r}" + (f" in location {location!r}." if location else "."),
            [i.name for i in every][:20],
            hint=f"`{kind}s list` shows them." if every else None,
        )
    if len(matches) > 1:
        raise errors.AmbiguousTargetError(
            f"{len(matches)} {kind}s are called {name!r}; name the location with "
            f"{setting('location')}.",
            [f"{i.location}/{i.repository}/{i.name}" for i in matches],
        )
    return matches[0]


def _selector(info: InstigatorInfo) -> dict[str, str]:
    return {
        "repositoryLocationName": info.location,
        "repositoryName": info.repository,
        f"{info.kind}Name": info.name,
    }


async def get_instigator(
    client: DagsterClient,
    kind: str,
    name: str,
    *,
    location: str | None = None,
    repository: str | None = None,
    ticks: int = DEFAULT_TICKS,
) -> InstigatorInfo:
    """One schedule (or sensor) with its newest ``ticks`` ticks (outcome, skip reason, error,
    the runs each requested)."""
    info = await find_instigator(client, kind, name, location=location, repository=repository)
    document = SCHEDULE_DETAIL if kind == "schedule" else SENSOR_DETAIL
    data = await client.execute(document, {"selector": _selector(info), "limit": max(ticks, 0)})
    raw = data.get(f"{kind}OrError") or {}
    if raw.get("__typename") in ("ScheduleNotFoundError", "SensorNotFoundError"):
        raise errors.TargetNotFoundError(bounded(raw.get("message")) or f"No {kind} {name!r}.")
    check_union(raw, kind.capitalize(), f"reading {kind} {name}")
    return instigator_of(kind, raw, info.location, info.repository)


def stop_note(info: InstigatorInfo) -> str | None:
    """What Dagster does with a stop of one declared RUNNING in code."""
    if info.default_status != "RUNNING":
        return None
    reset = "resetSchedule" if info.kind == "schedule" else "resetSensor"
    return (
        f"This {info.kind} is declared RUNNING in code: Dagster records the stop as its stored "
        f"state, which overrides the code's default until it is started again; a reload or "
        f"restart does not undo it. To go back to the code's default, reset it (GraphQL "
        f"{reset}, 'Reset to default status' in the UI)."
    )


async def set_instigator_running(
    client: DagsterClient,
    kind: str,
    name: str,
    running: bool,
    *,
    location: str | None = None,
    repository: str | None = None,
) -> InstigatorChange:
    """Start (``running``) or stop a schedule or sensor. One already in that state is
    ``BadInputError`` (exit 2) and nothing is changed."""
    info = await find_instigator(client, kind, name, location=location, repository=repository)
    action = "start" if running else "stop"
    wanted = "RUNNING" if running else "STOPPED"
    if info.status == wanted:
        raise errors.BadInputError(
            f"The {kind} {name!r} is already {wanted}: there is nothing to {action}.",
            hint=stop_note(info) if not running else None,
        )
    if running:
        document = START_SCHEDULE if kind == "schedule" else START_SENSOR
        variables: dict[str, Any] = {"selector": _selector(info)}
    else:
        document = STOP_SCHEDULE if kind == "schedule" else STOP_SENSOR
        variables = {"id": info.state_id}
    data = await client.execute(document, variables)
    field = {
        (True, "schedule"): ("startSchedule", "ScheduleStateResult", "scheduleState"),
        (False, "schedule"): ("stopRunningSchedule", "ScheduleStateResult", "scheduleState"),
        (True, "sensor"): ("startSensor", "Sensor", "sensorState"),
        (False, "sensor"): ("stopSensor", "StopSensorMutationResult", "instigationState"),
    }[(running, kind)]
    result = data.get(field[0]) or {}
    if result.get("__typename") == "SensorNotFoundError":
        raise errors.TargetNotFoundError(bounded(result.get("message")) or f"No {kind} {name!r}.")
    result = check_union(result, field[1], f"{action}ing {kind} {name}")
    after = str((result.get(field[2]) or {}).get("status") or wanted)
    updated = info.model_copy(update={"status": after})
    return InstigatorChange(
        instigator=updated,
        action=action,
        before=info.status,
        after=after,
        note=None if running else stop_note(info),
    )


# -- code locations -------------------------------------------------------------------------


class LocationLoadError(errors.ServerError):
    """A code location failed to load (exit 3); ``locations`` are as the server has them."""

    def __init__(self, message: str, locations: Sequence[LocationInfo], *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.locations = list(locations)


def _load_error(entry: Mapping[str, Any]) -> str | None:
    error = entry.get("locationOrLoadError") or {}
    return error_text(error) if error.get("__typename") == "PythonError" else None


async def workspace_locations(client: DagsterClient) -> list[LocationInfo]:
    """Every code location with its load status and bounded, cleaned load error."""
    data = await client.execute(LOCATION_LOAD)
    entries = check_union(data.get("workspaceOrError"), "Workspace", "listing code locations")
    out = []
    for record, entry in zip(
        location_records(data), entries.get("locationEntries") or [], strict=True
    ):
        record["error"] = _load_error(entry)
        out.append(LocationInfo(**record))
    return out


async def reload_locations(
    client: DagsterClient,
    location: str | None = None,
    *,
    timeout: float = 120.0,
    poll_interval: float = 0.5,
) -> ReloadResult:
    """Reload one code location (or, with ``location`` None, the whole workspace) and wait
    until each is LOADED or failed. Unknown location: ``TargetNotFoundError``; one that
    failed: the result says so (``failed``, and ``check_reload`` raises for it); still
    loading after ``timeout``: ``ServerError``."""
    started = time.monotonic()
    if location is not None:
        data = await client.execute(RELOAD_LOCATION, {"name": location})
        raw = data.get("reloadRepositoryLocation") or {}
        typename = raw.get("__typename")
        if typename == "RepositoryLocationNotFound":
            known = [loc.name for loc in await workspace_locations(client)]
            raise errors.TargetNotFoundError(
                f"No code location {location!r}.", known, hint=f"The locations: {', '.join(known)}."
            )
        if typename == "ReloadNotSupported":
            raise errors.BadInputError(
                bounded(raw.get("message")) or f"Location {location!r} cannot be reloaded."
            )
        check_union(raw, "WorkspaceLocationEntry", f"reloading location {location}")
        names = [location]
    else:
        data = await client.execute(RELOAD_WORKSPACE)
        raw = check_union(data.get("reloadWorkspace"), "Workspace", "reloading the workspace")
        names = [str(e["name"]) for e in raw.get("locationEntries") or []]
    deadline = started + timeout
    while True:
        current = {loc.name: loc for loc in await workspace_locations(client)}
        chosen = [current[n] for n in names if n in current]
        if all(loc.load_status != "LOADING" for loc in chosen):
            return ReloadResult(locations=chosen, waited_s=round(time.monotonic() - started, 2))
        if time.monotonic() >= deadline:
            raise errors.ServerError(
                f"Still loading after {timeout:.0f}s: "
                + ", ".join(loc.name for loc in chosen if loc.load_status == "LOADING")
                + ".",
                hint=f"Raise {setting('timeout')}, or check the code server's logs.",
            )
        await asyncio.sleep(poll_interval)


def check_reload(result: ReloadResult) -> None:
    """Raise ``LocationLoadError`` (exit 3) with the load error if a location failed."""
    failed = result.failed
    if not failed:
        return
    first = failed[0]
    lines = [line.strip() for line in (first.error or "").splitlines() if line.strip()]
    causes = [line for line in lines if line.startswith("Caused by ")]
    message = f"Code location {first.name!r} failed to load" + (f": {lines[0]}" if lines else ".")
    raise LocationLoadError(
        message,
        result.locations,
        hint=" ".join(
            ([causes[-1]] if causes else [])
            + ([f"{len(failed) - 1} more failed."] if len(failed) > 1 else [])
        )
        or None,
    )


# -- daemons --------------------------------------------------------------------------------


async def daemon_health(client: DagsterClient) -> list[DaemonInfo]:
    """Every daemon of the instance: required, healthy, last heartbeat, its last errors."""
    data = await client.execute(DAEMON_HEALTH)
    health = ((data.get("instance") or {}).get("daemonHealth") or {}).get("allDaemonStatuses")
    if health is None:
        raise errors.BadResponseError("The server returned no daemon health.")
    out = []
    for d in health:
        messages = [
            bounded(e.get("message"), 500) or "" for e in d.get("lastHeartbeatErrors") or []
        ]
        out.append(
            DaemonInfo(
                daemon_type=str(d.get("daemonType")),
                required=bool(d.get("required")),
                healthy=d.get("healthy"),
                last_heartbeat=d.get("lastHeartbeatTime"),
                errors=[m for m in messages if m][:5],
            )
        )
    return out


def health_problems(
    locations: Sequence[LocationInfo], daemons: Sequence[DaemonInfo] | None
) -> list[str]:
    """What makes a deployment unfit: a location not loaded, a required daemon not healthy."""
    problems = [
        f"code location {loc.name} is {loc.load_status}" for loc in locations if not loc.loaded
    ]
    problems += [
        f"required daemon {d.daemon_type} is not healthy"
        for d in daemons or []
        if d.required and d.healthy is not True
    ]
    return problems
