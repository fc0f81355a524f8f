"""Reading a run as the server has it: its record, its URL, the tags daglab sets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import format_key
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import RunResult
from daglab.helpers.queries import RUN, Document

REQUEST_ID_TAG = "daglab/request_id"
PARTITION_TAG = "dagster/partition"
DEFAULT_REPOSITORY = "__repository__"


async def execute_page(
    client: DagsterClient, document: Document, variables: dict[str, Any], size: int
) -> tuple[dict[str, Any], int]:
    """Execute a paged document with ``limit=size``; return its data and the size it took.

    A webserver caps event pages at ``DAGSTER_UI_EVENT_LOAD_CHUNK_SIZE`` (1000 unless its
    operator set it): 1.13 clamps, 1.11 and 1.12 raise "Limit of N is too large. Max is M". Take M
    and ask again, once; the caller keeps the smaller size for its next pages.
    """
    try:
        return await client.execute(document, {**variables, "limit": size}), size
    except errors.PageLimitError as exc:
        if not 0 < exc.maximum < size:
            raise
        return await client.execute(document, {**variables, "limit": exc.maximum}), exc.maximum


def get_run_url(client: DagsterClient | str, run_id: str) -> str:
    """The run's page in the Dagster UI: ``<url>/runs/<run_id>``."""
    base = client if isinstance(client, str) else client.url
    return f"{base.rstrip('/')}/runs/{run_id}"


def _tag_map(run: Mapping[str, Any]) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value") or "") for t in run.get("tags") or []}


def _run_result(client: DagsterClient, run: Mapping[str, Any], **extra: Any) -> RunResult:
    origin = run.get("repositoryOrigin") or {}
    selection = run.get("assetSelection") or []
    return RunResult(
        run_id=run["runId"],
        status=str(run["status"]),
        url=get_run_url(client, run["runId"]),
        job=run.get("jobName"),
        location=origin.get("repositoryLocationName"),
        repository=origin.get("repositoryName"),
        asset_selection=[format_key(k["path"]) for k in selection],
        partition=_tag_map(run).get(PARTITION_TAG),
        created_at=run.get("creationTime"),
        started_at=run.get("startTime"),
        ended_at=run.get("endTime"),
        **extra,
    )


def _check_run(payload: Mapping[str, Any] | None, run_id: str) -> Mapping[str, Any]:
    if payload is not None and payload.get("__typename") == "RunNotFoundError":
        raise errors.TargetNotFoundError(f"No run {run_id!r} on this server.", [])
    return check_union(payload, "Run", f"reading run {run_id}")


async def get_run(client: DagsterClient, run_id: str) -> RunResult:
    """The run as the server has it now (no event log)."""
    data = await client.execute(RUN, {"runId": run_id})
    return _run_result(client, _check_run(data.get("runOrError"), run_id))
