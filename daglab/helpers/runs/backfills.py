"""Backfills: launching a partition backfill of assets or of a partitioned job, never twice;
reading, listing, canceling and resuming them; waiting until every partition is done.

Partitions are chosen here (a list, or a range ``START...END`` of the target's own partition
keys, both checked against them: 1.7 accepts unknown keys silently). A backfill needs the
``dagster-daemon`` in every version. Statuses are Dagster's ``BulkActionStatus``, open
strings (``COMPLETED_SUCCESS``/``COMPLETED_FAILED`` from 1.8, ``FAILING`` from 1.11).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import format_key, parse_key
from daglab.helpers.errors import setting
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import BackfillInfo
from daglab.helpers.queries import (
    ASSET_PARTITION_KEYS,
    BACKFILL,
    BACKFILLS,
    CANCEL_BACKFILL,
    JOB_PARTITION_KEYS,
    LAUNCH_BACKFILL,
    RESUME_BACKFILL,
    RUNS_PAGE,
)
from daglab.helpers.runs.launch import _launch_error, _may_have_arrived
from daglab.helpers.runs.read import PARTITION_TAG, REQUEST_ID_TAG
from daglab.helpers.runs.targets import RunTarget

BACKFILL_TAG = "dagster/backfill"
RANGE_SEPARATOR = "..."
_DONE = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"})

BackfillCallback = Callable[[BackfillInfo], None]


def backfill_url(client: DagsterClient | str, backfill_id: str) -> str:
    base = client if isinstance(client, str) else client.url
    return f"{base.rstrip('/')}/overview/backfills/{backfill_id}"


def parse_range(text: str) -> tuple[str, str]:
    """``"2024-01-01...2024-01-07"`` -> the two ends (inclusive)."""
    start, sep, end = text.partition(RANGE_SEPARATOR)
    if not sep or not start.strip() or not end.strip():
        raise errors.BadInputError(
            f"{setting('partition_range', text)}: expected START{RANGE_SEPARATOR}END, e.g. "
            f"2024-01-01{RANGE_SEPARATOR}2024-01-07."
        )
    return start.strip(), end.strip()


async def partition_keys(client: DagsterClient, target: RunTarget) -> list[str]:
    """Every partition key of the target (an asset selection's partitioned assets must
    share theirs); not partitioned is ``BadInputError``."""
    if target.is_asset_run:
        if not target.partitioned_assets:
            raise errors.BadInputError(
                "None of the selected assets is partitioned: there is nothing to backfill."
            )
        data = await client.execute(
            ASSET_PARTITION_KEYS,
            {"assetKeys": [{"path": parse_key(k)} for k in target.partitioned_assets]},
        )
        sets = [list(n.get("partitionKeys") or []) for n in data.get("assetNodes") or []]
        if any(s != sets[0] for s in sets[1:]):
            raise errors.SelectionError(
                "The selected assets have different partitions: backfill them separately."
            )
        return sets[0] if sets else []
    data = await client.execute(
        JOB_PARTITION_KEYS,
        {
            "repositorySelector": {
                "repositoryLocationName": target.location,
                "repositoryName": target.repository,
            },
            "partitionSetName": f"{target.job}_partition_set",
        },
    )
    payload = data.get("partitionSetOrError") or {}
    if payload.get("__typename") != "PartitionSet":
        raise errors.BadInputError(f"Job {target.job!r} is not partitioned.")
    partitions = payload.get("partitionsOrError") or {}
    check_union(partitions, "Partitions", f"reading the partitions of job {target.job}")
    return [str(p["name"]) for p in partitions.get("results") or []]


async def choose_partitions(
    client: DagsterClient,
    target: RunTarget,
    partitions: Sequence[str] | None = None,
    partition_range: str | None = None,
) -> list[str]:
    """The partition keys to backfill: ``partitions`` as given, or the keys from ``START`` to
    ``END`` of ``partition_range``, in the target's order; unknown keys are exit 2."""
    if (partitions is None) == (partition_range is None):
        raise errors.BadInputError(
            f"Give {setting('partitions')} or {setting('partition_range')}, one of them."
        )
    keys = await partition_keys(client, target)
    known = set(keys)
    shown = f"{keys[0]} … {keys[-1]} ({len(keys)})" if keys else "none"
    if partitions is not None:
        chosen = list(dict.fromkeys(p.strip() for p in partitions if p.strip()))
        unknown = [p for p in chosen if p not in known]
        if unknown or not chosen:
            raise errors.TargetNotFoundError(
                f"No partition {unknown[0]!r}." if unknown else "No partitions given.",
                keys[:20],
                hint=f"The partitions: {shown}.",
            )
        return chosen
    start, end = parse_range(partition_range or "")
    for key in (start, end):
        if key not in known:
            raise errors.TargetNotFoundError(
                f"No partition {key!r}.", keys[:20], hint=f"The partitions: {shown}."
            )
    i, j = keys.index(start), keys.index(end)
    if i > j:
        raise errors.BadInputError(f"The range {start}{RANGE_SEPARATOR}{end} is backwards.")
    return keys[i : j + 1]


def _tags(raw: Mapping[str, Any]) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value") or "") for t in raw.get("tags") or []}


def backfill_of(client: DagsterClient, raw: Mapping[str, Any]) -> BackfillInfo:
    names = list(raw.get("partitionNames") or [])
    requested = int(raw.get("numPartitions") or len(names) or 0)
    in_progress = succeeded = failed = 0
    failed_partitions: list[str] = []
    data = raw.get("assetBackfillData") or {}
    counts = [
        s
        for s in data.get("assetBackfillStatuses") or []
        if s.get("__typename") == "AssetPartitionsStatusCounts"
    ]
    statuses = (raw.get("partitionStatuses") or {}).get("results")
    if counts:
        requested = sum(int(c["numPartitionsTargeted"]) for c in counts)
        in_progress = sum(int(c["numPartitionsInProgress"]) for c in counts)
        succeeded = sum(int(c["numPartitionsMaterialized"]) for c in counts)
        failed = sum(int(c["numPartitionsFailed"]) for c in counts)
    elif statuses is not None:
        for s in statuses:
            status = s.get("runStatus")
            if status == "SUCCESS":
                succeeded += 1
            elif status in ("FAILURE", "CANCELED"):
                failed += 1
                failed_partitions.append(str(s.get("partitionName")))
            elif status is not None:
                in_progress += 1
    error = (raw.get("error") or {}).get("message")
    return BackfillInfo(
        backfill_id=str(raw["id"]),
        status=str(raw.get("status")),
        url=backfill_url(client, str(raw["id"])),
        partitions=names,
        requested=requested,
        in_progress=in_progress,
        succeeded=succeeded,
        failed=failed,
        is_asset_backfill=bool(raw.get("isAssetBackfill")),
        job=str(raw["partitionSetName"]).removesuffix("_partition_set")
        if raw.get("partitionSetName")
        else None,
        asset_selection=[format_key(k["path"]) for k in raw.get("assetSelection") or []],
        tags=_tags(raw),
        created_at=raw.get("timestamp"),
        ended_at=raw.get("endTimestamp"),
        error=error,
        failed_partitions=failed_partitions,
    )


async def _partitions_whose_runs(
    client: DagsterClient, backfill_id: str, statuses: Sequence[str]
) -> list[str]:
    """The partitions whose runs of the backfill ended in one of ``statuses`` (from the
    runs' tags)."""
    data = await client.execute(
        RUNS_PAGE,
        {
            "filter": {
                "tags": [{"key": BACKFILL_TAG, "value": backfill_id}],
                "statuses": list(statuses),
            },
            "cursor": None,
            "limit": 1000,
        },
    )
    runs = check_union(data.get("runsOrError"), "Runs", "listing a backfill's runs")
    found = {
        t["value"]
        for run in runs.get("results") or []
        for t in run.get("tags") or []
        if t["key"] == PARTITION_TAG
    }
    return sorted(found)


async def get_backfill(client: DagsterClient, backfill_id: str) -> BackfillInfo:
    """The backfill as the server has it, with its partition counts."""
    data = await client.execute(BACKFILL, {"backfillId": backfill_id})
    payload = data.get("partitionBackfillOrError")
    if payload is not None and payload.get("__typename") == "BackfillNotFoundError":
        raise errors.TargetNotFoundError(f"No backfill {backfill_id!r} on this server.", [])
    info = backfill_of(client, check_union(payload, "PartitionBackfill", "reading the backfill"))
    if info.is_asset_backfill and info.failed:
        info = info.model_copy(
            update={
                "failed_partitions": await _partitions_whose_runs(
                    client, info.backfill_id, ("FAILURE", "CANCELED")
                )
            }
        )
    return info


async def list_backfills(
    client: DagsterClient, status: str | None = None, limit: int = 20
) -> list[BackfillInfo]:
    """The newest backfills (of ``status``), at most ``limit``."""
    data = await client.execute(
        BACKFILLS, {"status": status.upper() if status else None, "cursor": None, "limit": limit}
    )
    payload = check_union(
        data.get("partitionBackfillsOrError"), "PartitionBackfills", "listing backfills"
    )
    return [backfill_of(client, raw) for raw in payload.get("results") or []]


async def _find_by_request_id(client: DagsterClient, request_id: str) -> str | None:
    for backfill in await list_backfills(client, limit=20):
        if backfill.tags.get(REQUEST_ID_TAG) == request_id:
            return backfill.backfill_id
    return None


async def launch_backfill(
    client: DagsterClient,
    target: RunTarget,
    partitions: Sequence[str],
    *,
    tags: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> BackfillInfo:
    """Launch one backfill of ``partitions`` of ``target`` (assets, or a partitioned job).
    A lost response is looked up by the backfill's ``daglab/request_id`` tag, not re-sent."""
    request_id = request_id or uuid.uuid4().hex
    backfill_tags = {**dict(tags or {}), REQUEST_ID_TAG: request_id}
    params: dict[str, Any] = {
        "partitionNames": list(partitions),
        "tags": [{"key": k, "value": v} for k, v in backfill_tags.items()],
    }
    if target.is_asset_run:
        params["assetSelection"] = [{"path": parse_key(k)} for k in target.asset_selection]
    else:
        params["selector"] = {
            "partitionSetName": f"{target.job}_partition_set",
            "repositorySelector": {
                "repositoryLocationName": target.location,
                "repositoryName": target.repository,
            },
        }
    try:
        data = await client.execute(LAUNCH_BACKFILL, {"backfillParams": params}, retry=False)
    except errors.DaglabError as exc:
        if not _may_have_arrived(exc):
            raise
        for delay in (0.5, 1.0, 2.0):
            await asyncio.sleep(delay)
            found = await _find_by_request_id(client, request_id)
            if found is not None:
                return await get_backfill(client, found)
        raise errors.ServerError(
            f"{exc.message} The backfill may or may not have been created; it would carry the "
            f"tag {REQUEST_ID_TAG}={request_id}.",
            hint="Check the Dagster UI's backfills before launching again.",
        ) from None
    payload = data.get("launchPartitionBackfill") or {}
    if payload.get("__typename") != "LaunchBackfillSuccess":
        if payload.get("__typename") == "PartitionSetNotFoundError":
            raise errors.BadInputError(f"Job {target.job!r} is not partitioned.")
        if payload.get("__typename") == "PartitionKeysNotFoundError":
            raise errors.TargetNotFoundError(f"Unknown partitions: {payload.get('message')}", [])
        raise _launch_error(payload, target)
    return await get_backfill(client, str(payload["backfillId"]))


# Dagster's resume sets any backfill back to REQUESTED, whatever it was; only these two have
# partitions left that the daemon would then request.
RESUMABLE = frozenset({"FAILED", "CANCELED"})


async def cancel_backfill(client: DagsterClient, backfill_id: str) -> BackfillInfo:
    """Cancel a backfill that has not ended (Dagster marks it CANCELING; the daemon cancels
    its runs in flight, then marks it CANCELED). One that already ended is ``BadInputError``:
    Dagster itself would mark even a finished backfill CANCELING."""
    info = await get_backfill(client, backfill_id)
    if info.status in _DONE:
        raise errors.BadInputError(
            f"Backfill {backfill_id} already ended {info.status}: there is nothing to cancel."
        )
    data = await client.execute(CANCEL_BACKFILL, {"backfillId": backfill_id}, retry=True)
    check_union(
        data.get("cancelPartitionBackfill"), "CancelBackfillSuccess", "canceling the backfill"
    )
    return await get_backfill(client, backfill_id)


def _backfill_call(info: BackfillInfo, partitions: list[str]) -> str:
    """The backfill of ``partitions`` of the same job or assets as ``info``, named in a hint."""
    if info.job:
        return errors.call("backfill", job=info.job, partitions=partitions)
    return errors.call("backfill", asset_selection=info.asset_selection, partitions=partitions)


async def resume_backfill(client: DagsterClient, backfill_id: str) -> BackfillInfo:
    """Resume a FAILED or CANCELED backfill: the daemon requests its remaining partitions.
    Any other status is ``BadInputError`` (Dagster would set even a running or completed one
    back to REQUESTED)."""
    info = await get_backfill(client, backfill_id)
    if info.status not in RESUMABLE:
        hint = None
        if info.status in _DONE and info.failed_partitions:
            hint = (
                f"Run its failed partitions again: {_backfill_call(info, info.failed_partitions)}."
            )
        raise errors.BadInputError(
            f"Backfill {backfill_id} is {info.status}: only a FAILED or CANCELED backfill "
            "can be resumed.",
            hint=hint,
        )
    if info.is_asset_backfill and await client.version_tuple() < (1, 11):
        # Its resolver reads the backfill's partition set, which an asset backfill has none
        # of: "CheckError: Expected non-None value" (measured on 1.7; in the source to 1.10).
        succeeded = set(await _partitions_whose_runs(client, backfill_id, ("SUCCESS",)))
        left = [p for p in info.partitions if p not in succeeded]
        raise errors.BadInputError(
            f"Dagster {await client.server_version()} cannot resume an asset backfill (1.11 "
            "and newer can).",
            hint=f"Launch the partitions it did not finish as a new backfill: "
            f"{_backfill_call(info, left)}."
            if left
            else "Every partition of it succeeded: nothing is left to launch.",
        )
    data = await client.execute(RESUME_BACKFILL, {"backfillId": backfill_id}, retry=True)
    check_union(
        data.get("resumePartitionBackfill"), "ResumeBackfillSuccess", "resuming the backfill"
    )
    return await get_backfill(client, backfill_id)


async def watch_backfill(
    client: DagsterClient,
    backfill_id: str,
    timeout: float | None = None,
    *,
    on_progress: BackfillCallback | None = None,
    poll_min: float = 1.0,
    poll_max: float = 5.0,
) -> BackfillInfo:
    """Poll the backfill until it ends or ``timeout`` passes (``timed_out`` set then; the
    backfill goes on). ``on_progress`` hears of every change of its counts or status."""
    started = time.monotonic()
    interval = poll_min
    last: tuple[object, ...] | None = None
    failures = 0
    while True:
        try:
            info = await get_backfill(client, backfill_id)
            failures = 0
        except (errors.AuthError, errors.TargetNotFoundError):
            raise
        except errors.DaglabError as exc:
            failures += 1
            if failures >= 5:
                raise errors.LostContactError(
                    f"Lost contact with the Dagster server while watching backfill "
                    f"{backfill_id}: {exc.message}",
                    backfill_id,
                    backfill_url(client, backfill_id),
                ) from None
            await asyncio.sleep(poll_max)
            continue
        waited = round(time.monotonic() - started, 3)
        info = info.model_copy(update={"waited_s": waited})
        state = (info.status, info.in_progress, info.succeeded, info.failed)
        if state != last:
            last = state
            interval = poll_min
            if on_progress is not None:
                on_progress(info)
        else:
            interval = min(interval * 1.5, poll_max)
        if info.status in _DONE:
            return info
        if timeout is not None and waited >= timeout:
            return info.model_copy(update={"timed_out": True})
        pause = interval if timeout is None else min(interval, max(0.0, timeout - waited))
        await asyncio.sleep(pause)


async def resolve_backfill_target(
    client: DagsterClient,
    *,
    job: str | None = None,
    asset_selection: str | Sequence[str] | None = None,
    pattern: str | None = None,
    select: str | None = None,
    location: str | None = None,
    repository: str | None = None,
) -> RunTarget:
    """The job or assets to backfill, found on the server (no single partition checked)."""
    from daglab.helpers.runs.targets import resolve_assets, resolve_job

    if job is not None:
        return await resolve_job(client, job, location, repository)
    return await resolve_assets(
        client,
        keys=asset_selection,
        pattern=pattern,
        select=select,
        location=location,
        repository=repository,
    )


def backfill_error(info: BackfillInfo) -> errors.DaglabError | None:
    """The error a waited-for backfill ends with: None when every partition succeeded,
    ``RunTimeoutError`` (exit 4) on a timeout, ``RunFailedError`` (exit 1) otherwise."""
    counts = f"{info.succeeded} of {info.requested} partitions succeeded, {info.failed} failed" + (
        f" ({', '.join(info.failed_partitions)})" if info.failed_partitions else ""
    )
    if info.timed_out:
        return errors.RunTimeoutError(
            f"Timed out after {info.waited_s or 0:.0f}s waiting for backfill {info.backfill_id} "
            f"(still {info.status}; {counts}). The backfill goes on: {info.url}",
            run_id=info.backfill_id,
        )
    if info.succeeded_all:
        return None
    return errors.RunFailedError(
        f"Backfill {info.backfill_id} ended {info.status}: {counts}.", hint=info.url
    )
