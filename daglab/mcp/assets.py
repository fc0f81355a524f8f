"""The asset-health tools (read): an asset's status, its materialization history, and its
checks. Each maps onto one operation of ``helpers/assets.py``; lists are bounded by
``limit``, every metadata value is already bounded there (20 entries, 500 characters)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from daglab.helpers import assets
from daglab.mcp import schemas
from daglab.mcp.bounds import capped
from daglab.mcp.toolkit import (
    AssetKeys,
    Limit,
    Location,
    Pattern,
    Profile,
    Repository,
    Select,
    ToolContext,
    ToolSpec,
    guarded,
)

AssetKey = Annotated[
    str, Field(description="One asset, by slash-joined key ('a\\/b' for a '/' in a part).")
]


def assets_read_tools(ctx: ToolContext) -> list[ToolSpec]:
    limits, deployments = ctx.limits, ctx.deployments

    async def get_asset_status(
        asset_keys: AssetKeys = None,
        asset_pattern: Pattern = None,
        select: Select = None,
        partitions: Annotated[
            bool, Field(description="Also list the missing, failed and in-progress keys.")
        ] = False,
        location: Location = None,
        repository: Repository = None,
        limit: Limit = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """The health of assets (at most one of asset_keys, asset_pattern, select; none:
        every asset): the latest materialization (when, which run, its metadata), the latest
        run and runs in progress or queued, staleness and its causes, partition counts
        (materialized, failed, in progress, missing) and each check's latest execution. Like
        `daglab assets status --json`."""
        client = await deployments.client(profile)
        chosen = await assets.select_assets(
            client,
            keys=asset_keys,
            pattern=asset_pattern,
            select=select,
            location=location,
            repository=repository,
        )
        n = limits.limit(limit)
        shown, truncated = capped(chosen, n)
        health = await assets.asset_health(client, shown, partition_keys=partitions)
        return {
            "assets": [h.to_json() for h in health],
            "total": len(chosen),
            "limit": n,
            "truncated": truncated,
        }

    async def get_asset_history(
        asset_key: AssetKey, limit: Limit = None, profile: Profile = None
    ) -> dict[str, Any]:
        """An asset's materializations, newest first, each with its run, partition and
        metadata: at most `limit`. Like `daglab assets history KEY --json`."""
        client = await deployments.client(profile)
        n = limits.limit(limit)
        found = await assets.asset_history(client, asset_key, n + 1)
        shown, truncated = capped(found, n)
        return {
            "asset": asset_key,
            "materializations": [m.to_json() for m in shown],
            "count": len(shown),
            "limit": n,
            "truncated": truncated,
        }

    async def list_checks(
        asset_keys: AssetKeys = None,
        asset_pattern: Pattern = None,
        select: Select = None,
        location: Location = None,
        repository: Repository = None,
        limit: Limit = None,
        profile: Profile = None,
    ) -> dict[str, Any]:
        """The asset checks of the chosen assets (none chosen: every asset), each with its
        asset, blocking, and its latest execution's status, severity and run. Like `daglab
        checks list --json`."""
        client = await deployments.client(profile)
        chosen = await assets.select_assets(
            client,
            keys=asset_keys,
            pattern=asset_pattern,
            select=select,
            location=location,
            repository=repository,
        )
        found = await assets.list_checks(client, chosen)
        n = limits.limit(limit)
        shown, truncated = capped(found, n)
        return {
            "checks": [c.to_json() for c in shown],
            "total": len(found),
            "limit": n,
            "truncated": truncated,
        }

    return [
        ToolSpec(
            "get_asset_status",
            guarded(ctx, get_asset_status, schemas.AssetStatusOut),
            schemas.AssetStatusOut,
            False,
            "Asset health",
        ),
        ToolSpec(
            "get_asset_history",
            guarded(ctx, get_asset_history, schemas.AssetHistoryOut),
            schemas.AssetHistoryOut,
            False,
            "Asset materializations",
        ),
        ToolSpec(
            "list_checks",
            guarded(ctx, list_checks, schemas.ChecksOut),
            schemas.ChecksOut,
            False,
            "List asset checks",
        ),
    ]
