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
from daglab.helpers.models import DaemonInfo, ServerStatus
from daglab.helpers.queries import WORKSPACE
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
        daemons, daemons_error = await _daemons(client)
    return ServerStatus(
        url=settings.url,
        url_source=settings.url_source,
        auth_source=settings.auth_source,
        version=version,
        round_trip_ms=round(round_trip, 1),
        locations=locations,
        daemons=daemons,
        daemons_error=daemons_error,
        problems=health_problems(locations, daemons),
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
