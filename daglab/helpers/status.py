"""The server check behind ``daglab status``."""

from __future__ import annotations

import time

from daglab.helpers.config import ConnectionSettings
from daglab.helpers.discovery import parse_locations
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.models import ServerStatus
from daglab.helpers.queries import VERSION, WORKSPACE


async def server_status(settings: ConnectionSettings) -> ServerStatus:
    """Version, code locations and round-trip time of the server ``settings`` point at."""
    async with DagsterClient.from_settings(settings) as client:
        started = time.perf_counter()
        data = await client.execute(VERSION)
        round_trip = (time.perf_counter() - started) * 1000
        locations = parse_locations(await client.execute(WORKSPACE))
    return ServerStatus(
        url=settings.url,
        url_source=settings.url_source,
        auth_source=settings.auth_source,
        version=str(data.get("version", "")),
        round_trip_ms=round(round_trip, 1),
        locations=locations,
    )
