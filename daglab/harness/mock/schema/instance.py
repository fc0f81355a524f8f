"""The Dagster instance: run queuing and daemon health."""

from __future__ import annotations

import strawberry

from daglab.harness.mock.schema.errors import PythonError


@strawberry.type
class DaemonStatus:
    daemon_type: str
    id: strawberry.ID
    required: bool
    healthy: bool | None
    last_heartbeat_time: float | None
    last_heartbeat_errors: list[PythonError]


@strawberry.type
class DaemonHealth:
    id: str
    required: strawberry.Private[bool]
    healthy: strawberry.Private[bool]
    now: strawberry.Private[float]

    @strawberry.field
    def daemon_status(self, daemon_type: str | None = None) -> DaemonStatus:
        return _daemon_status(self, daemon_type or "SENSOR")

    @strawberry.field
    def all_daemon_statuses(self) -> list[DaemonStatus]:
        names = ("SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR")
        return [_daemon_status(self, n) for n in names]


def _daemon_status(health: DaemonHealth, name: str) -> DaemonStatus:
    required = health.required if name == "QUEUED_RUN_COORDINATOR" else True
    return DaemonStatus(
        daemon_type=name,
        id=strawberry.ID(name),
        required=required,
        healthy=health.healthy if required else None,
        last_heartbeat_time=health.now if health.healthy else None,
        last_heartbeat_errors=[],
    )


@strawberry.type
class Instance:
    id: str
    info: str | None
    run_queuing_supported: bool
    daemon_health: DaemonHealth
    has_info: bool
    executable_path: str
