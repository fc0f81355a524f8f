"""Find code locations, repositories, jobs and assets."""

from __future__ import annotations

from typing import Any

from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import LocationInfo
from daglab.helpers.queries import WORKSPACE


def parse_locations(data: dict[str, Any]) -> list[LocationInfo]:
    workspace = check_union(data.get("workspaceOrError"), "Workspace", "listing code locations")
    out = []
    for entry in workspace.get("locationEntries", []):
        loaded = entry.get("locationOrLoadError") or {}
        failed = loaded.get("__typename") == "PythonError"
        out.append(
            LocationInfo(
                name=entry["name"],
                load_status="FAILED" if failed else entry["loadStatus"],
                loaded=entry["loadStatus"] == "LOADED" and not failed,
                repositories=[r["name"] for r in loaded.get("repositories", [])],
                error=loaded.get("message") if failed else None,
                error_class=loaded.get("className") if failed else None,
                updated_at=entry.get("updatedTimestamp"),
            )
        )
    return out


async def discover_locations(
    client: DagsterClient, location: str | None = None
) -> list[LocationInfo]:
    """Every code location with its load status; one that failed carries its error."""
    locations = parse_locations(await client.execute(WORKSPACE))
    if location is not None:
        locations = [loc for loc in locations if loc.name == location]
    return locations
