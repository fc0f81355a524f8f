"""The notebook helpers for automation: schedules and sensors (list, show, start, stop),
code-location reloads and the daemons' health. Async, on the session's target and pooled
client (``daglab.helpers.session``); ``daglab.helpers.sync`` has their blocking twins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from daglab.helpers import automation
from daglab.helpers.session import _client

if TYPE_CHECKING:
    from daglab.helpers.models import DaemonInfo, InstigatorChange, InstigatorInfo, ReloadResult


async def list_schedules(
    pattern: str | None = None,
    *,
    location: str | None = None,
    repository: str | None = None,
    status: str | None = None,
) -> list[InstigatorInfo]:
    """The schedules of every loaded location, by name ``pattern`` (a glob or a substring),
    ``location``, ``repository`` and ``status`` (``"running"``/``"stopped"``)."""
    return await automation.list_instigators(
        _client(),
        "schedule",
        location=location,
        repository=repository,
        status=status,
        pattern=pattern,
    )


async def list_sensors(
    pattern: str | None = None,
    *,
    location: str | None = None,
    repository: str | None = None,
    status: str | None = None,
) -> list[InstigatorInfo]:
    """The sensors of every loaded location, filtered as ``list_schedules``."""
    return await automation.list_instigators(
        _client(),
        "sensor",
        location=location,
        repository=repository,
        status=status,
        pattern=pattern,
    )


async def get_schedule(
    name: str, *, location: str | None = None, repository: str | None = None, ticks: int = 10
) -> InstigatorInfo:
    """One schedule: cron, timezone, next tick and its newest ``ticks`` ticks."""
    return await automation.get_instigator(
        _client(), "schedule", name, location=location, repository=repository, ticks=ticks
    )


async def get_sensor(
    name: str, *, location: str | None = None, repository: str | None = None, ticks: int = 10
) -> InstigatorInfo:
    """One sensor: interval, next tick and its newest ``ticks`` ticks."""
    return await automation.get_instigator(
        _client(), "sensor", name, location=location, repository=repository, ticks=ticks
    )


async def start_schedule(
    name: str, *, location: str | None = None, repository: str | None = None
) -> InstigatorChange:
    """Start a schedule; one already running is ``BadInputError``."""
    return await automation.set_instigator_running(
        _client(), "schedule", name, True, location=location, repository=repository
    )


async def stop_schedule(
    name: str, *, location: str | None = None, repository: str | None = None
) -> InstigatorChange:
    """Stop a schedule; one already stopped is ``BadInputError``. ``note`` says what Dagster
    does with a stop of one declared RUNNING in code."""
    return await automation.set_instigator_running(
        _client(), "schedule", name, False, location=location, repository=repository
    )


async def start_sensor(
    name: str, *, location: str | None = None, repository: str | None = None
) -> InstigatorChange:
    """Start a sensor; one already running is ``BadInputError``."""
    return await automation.set_instigator_running(
        _client(), "sensor", name, True, location=location, repository=repository
    )


async def stop_sensor(
    name: str, *, location: str | None = None, repository: str | None = None
) -> InstigatorChange:
    """Stop a sensor; one already stopped is ``BadInputError``."""
    return await automation.set_instigator_running(
        _client(), "sensor", name, False, location=location, repository=repository
    )


async def reload_location(
    location: str | None = None, *, timeout: float = 120.0, check: bool = True
) -> ReloadResult:
    """Reload a code location (None: the whole workspace) and wait until it is loaded or
    failed; with ``check``, a failed one raises ``LocationLoadError`` with its load error."""
    result = await automation.reload_locations(_client(), location, timeout=timeout)
    if check:
        automation.check_reload(result)
    return result


async def get_daemon_health() -> list[DaemonInfo]:
    """Every daemon of the instance: required, healthy, last heartbeat, last errors."""
    return await automation.daemon_health(_client())
