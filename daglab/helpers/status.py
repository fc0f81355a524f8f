"""What daglab finds at its target: the server check behind ``daglab status`` and the
credentials check behind ``daglab auth status``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from daglab.helpers import errors
from daglab.helpers.auth import TokenManager, mask_secret
from daglab.helpers.automation import daemon_health, health_problems
from daglab.helpers.config import ConnectionSettings
from daglab.helpers.discovery import parse_locations
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.models import CodeServerInfo, DaemonInfo, DeploymentInfo, ServerStatus
from daglab.helpers.queries import DEPLOYMENT, WORKSPACE
from daglab.helpers.text import clean

if TYPE_CHECKING:
    import httpx


async def server_status(
    settings: ConnectionSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> ServerStatus:
    """Version, code locations and round-trip time of the server ``settings`` point at."""
    async with DagsterClient.from_settings(settings, transport=transport) as client:
        started = time.perf_counter()
        version = await client.server_version()
        round_trip = (time.perf_counter() - started) * 1000
        locations = parse_locations(await client.execute(WORKSPACE))
        try:
            deployment: DeploymentInfo | None = parse_deployment(await client.execute(DEPLOYMENT))
        except errors.DaglabError:  # an older or stricter server: the rest still stands
            deployment = None
        daemons, daemons_error = await _daemons(client)
    return ServerStatus(
        url=settings.url,
        url_source=settings.url_source,
        auth_source=settings.auth_source,
        version=version,
        round_trip_ms=round(round_trip, 1),
        locations=locations,
        deployment=deployment,
        daemons=daemons,
        daemons_error=daemons_error,
        problems=health_problems(locations, daemons),
    )


_STORAGE_KINDS = (("Postgres", "postgres"), ("Sqlite", "sqlite"), ("MySQL", "mysql"))


def _info_class(info: str, key: str) -> str | None:
    """``run_storage: PostgresRunStorage`` → ``PostgresRunStorage``; a block's ``class:``."""
    lines = info.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith(f"{key}:"):
            continue
        value = line.split(":", 1)[1].strip()
        if value:
            return clean(value, one_line=True)[:100]
        for sub in lines[i + 1 : i + 6]:
            if sub.strip().startswith("class:"):
                return clean(sub.split(":", 1)[1].strip(), one_line=True)[:100]
            if sub and not sub.startswith(" "):
                break
    return None


def parse_deployment(data: dict[str, Any]) -> DeploymentInfo:
    """Storage, launcher, queue and code servers from a DaglabDeployment answer."""
    from daglab.helpers.statuses import parse_tag_limits

    instance = data.get("instance") or {}
    raw_info = instance.get("info")
    info: str = raw_info if isinstance(raw_info, str) else ""
    storages = {
        k: _info_class(info, k) for k in ("run_storage", "event_log_storage", "schedule_storage")
    }
    kinds = {
        kind
        for name in storages.values()
        if name
        for prefix, kind in _STORAGE_KINDS
        if name.startswith(prefix)
    }
    launcher = (instance.get("runLauncher") or {}).get("name")
    queue = instance.get("runQueueConfig") or {}
    coordinator = _info_class(info, "run_coordinator")
    if coordinator is None and instance.get("runQueuingSupported") is not None:
        coordinator = "queued" if instance.get("runQueuingSupported") else None
    servers = []
    workspace = data.get("workspaceOrError") or {}
    for entry in workspace.get("locationEntries") or []:
        meta = {
            str(m.get("key")): clean(m.get("value"), one_line=True)[:200]
            for m in entry.get("displayMetadata") or []
            if isinstance(m, dict)
        }
        grpc = "port" in meta or "socket" in meta
        target = meta.get("python_file") or meta.get("module_name") or meta.get("package_name")
        servers.append(
            CodeServerInfo(
                location=clean(entry.get("name"), one_line=True)[:200],
                kind="grpc" if grpc else "managed",
                host=meta.get("host"),
                port=meta.get("port"),
                socket=meta.get("socket"),
                target=target,
                state=clean(entry.get("loadStatus"), one_line=True)[:40],
            )
        )
    max_runs = queue.get("maxConcurrentRuns")
    return DeploymentInfo(
        storage="/".join(sorted(kinds)) or None,
        run_storage=storages["run_storage"],
        event_log_storage=storages["event_log_storage"],
        schedule_storage=storages["schedule_storage"],
        run_launcher=clean(launcher, one_line=True)[:100] if launcher else None,
        run_coordinator=coordinator,
        max_concurrent_runs=max_runs if isinstance(max_runs, int) else None,
        tag_concurrency_limits=parse_tag_limits(queue.get("tagConcurrencyLimitsYaml")),
        code_servers=servers,
    )


async def _daemons(client: DagsterClient) -> tuple[list[DaemonInfo] | None, str | None]:
    """The daemons' health, or why the server does not report it (never raises for that)."""
    try:
        return await daemon_health(client), None
    except (errors.GraphQLError, errors.DagsterPythonError, errors.BadResponseError) as exc:
        return None, clean(exc.render()[0], one_line=True)[:300]


def check_status(status: ServerStatus) -> None:
    """Raise ``DeploymentUnhealthyError`` (exit 3) if a code location failed to load or a
    required daemon is not healthy: what a deploy gate needs."""
    if status.problems:
        raise DeploymentUnhealthyError(
            "Not healthy: " + "; ".join(status.problems) + ".",
            hint="See the Locations and Daemons above.",
        )


class DeploymentUnhealthyError(errors.ServerError):
    """``daglab status`` found a location that failed or a required daemon down (exit 3)."""


async def credentials_status(
    settings: ConnectionSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any]:
    """Where the credentials for ``settings`` come from, how they are sent, the token
    (masked to its last 4 characters) and whether the server accepts them.

    Never raises for a token that cannot be had or a server that refuses or cannot be
    reached: ``report["server"]`` says so (``accepted`` False, ``reachable`` False, ``error``).
    """
    auth = settings.auth
    report: dict[str, Any] = {
        "url": settings.url,
        "url_source": settings.url_source,
        "profile": settings.profile,
        "source": settings.auth_source,
        "type": auth.type if auth is not None else None,
        "header": None,
        "sends": auth.describe() if auth is not None else "no credentials",
        "username": auth.username if auth is not None else None,
        "token": None,
        "token_expires_in": None,
        "custom_headers": sorted(auth.custom_headers) if auth is not None else [],
        "server": {"reachable": False, "accepted": None, "version": None, "error": None},
    }
    token_error: str | None = None
    if auth is not None:
        if auth.type == "basic":
            report["header"] = "Authorization"
            if auth.password is not None:
                report["token"] = mask_secret(auth.password.get_secret_value())
        elif auth.token_source != "none":
            report["header"] = "Authorization" if auth.type == "bearer" else auth.header_name
            manager = TokenManager.for_config(auth)
            try:
                token = await manager.get_token(transport=transport, timeout=settings.http_timeout)
            except errors.DaglabError as exc:
                token_error = exc.render()[0]
            else:
                report["token"] = mask_secret(token)
                cached = manager.cached
                if cached is not None and cached.expires_at is not None:
                    report["token_expires_in"] = round(cached.expires_at - manager.clock())
    server = report["server"]
    if token_error is not None:
        server["error"] = f"no token: {token_error}"
        server["accepted"] = False
        return report
    try:
        async with DagsterClient.from_settings(
            settings, transport=transport, max_retries=0
        ) as client:
            version = await client.server_version()
    except errors.AuthError as exc:
        server.update(reachable=True, accepted=False, error=exc.render()[0])
    except errors.DaglabError as exc:
        server["error"] = exc.render()[0]
    else:
        server.update(reachable=True, accepted=True, version=version)
    return report
