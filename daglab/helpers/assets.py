"""Asset health and checks: per asset, the latest materialization and its metadata, the runs
in flight, staleness, partition counts (and which keys are missing or failed), its checks and
their latest execution; an asset's materialization history, paged; running checks.

Assets are chosen as ``daglab run`` chooses them (exact keys, a wildcard pattern, or the
selection language of ``daglab.helpers.selection``), but any asset may be looked at: sources
and assets of several code locations too. Every field read exists from Dagster 1.7 on (see
README.md, Supported Dagster versions); where a server leaves one empty, the result says
so in a ``..._note`` instead of failing.
"""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import format_key, parse_key
from daglab.helpers.discovery import discover_assets, instigated_if_named, match_pattern
from daglab.helpers.errors import operation, setting
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import (
    AssetCheckInfo,
    AssetHealth,
    AssetInfo,
    MaterializationRecord,
    MetadataItem,
    PartitionHealth,
)
from daglab.helpers.queries import ASSET_HEALTH, ASSET_MATERIALIZATIONS
from daglab.helpers.selection import parse_selection, resolve_selection_nodes
from daglab.helpers.text import clean, plural

MAX_METADATA_ENTRIES = 20
MAX_METADATA_VALUE = 500
MAX_PARTITION_KEYS = 1000  # per list (missing, failed, in progress) with partition keys asked
HEALTH_BATCH = 50  # assets per request
HISTORY_PAGE = 100
MAX_HISTORY = 10_000


# -- choosing assets ------------------------------------------------------------------------


def _scope_text(location: str | None, repository: str | None) -> str:
    parts = [
        f"{name} {value!r}"
        for name, value in (("location", location), ("repository", repository))
        if value
    ]
    return f" in {' and '.join(parts)}" if parts else ""


async def select_assets(
    client: DagsterClient,
    *,
    keys: str | Iterable[str] | None = None,
    pattern: str | None = None,
    select: str | None = None,
    location: str | None = None,
    repository: str | None = None,
) -> list[AssetInfo]:
    """The asset definitions chosen by exact ``keys``, a wildcard ``pattern`` or a ``select``
    expression (at most one; none: every asset), as ``daglab run`` reads them. A key that is
    not there, or a selection that matches nothing, is exit 2."""
    from daglab.helpers.runs.targets import split_asset_keys

    given = [
        name
        for name, v in (("asset_selection", keys), ("pattern", pattern), ("select", select))
        if v is not None
    ]
    if len(given) > 1:
        raise errors.BadInputError(
            f"Give at most one of {setting('asset_selection')}, {setting('pattern')} or "
            f"{setting('select')} (got {' and '.join(setting(n) for n in given)})."
        )
    node = parse_selection(select) if select is not None else None  # syntax errors first
    if pattern is not None:
        from daglab.helpers.selection import validate_asset_selection

        validate_asset_selection(pattern, "pattern")
    wanted = split_asset_keys(keys) if keys is not None else None
    every = await discover_assets(client)
    scope = [
        a for a in every if location in (None, a.location) and repository in (None, a.repository)
    ]
    scope = await instigated_if_named(client, node, scope)
    where = _scope_text(location, repository)
    if wanted is not None:
        chosen: list[AssetInfo] = []
        for key in wanted:
            found = [a for a in scope if a.key == key]
            if not found:
                close = difflib.get_close_matches(key, [a.key for a in scope], n=5, cutoff=0.5)
                raise errors.TargetNotFoundError(
                    f"No asset {key!r}{where}.",
                    close,
                    hint=f"Did you mean: {', '.join(close)}?"
                    if close
                    else f"List assets with {operation('discover_assets')}.",
                )
            chosen.extend(found)
        return chosen
    if pattern is not None:
        matched = [a for a in scope if match_pattern(pattern, a.key)]
        what = f"pattern {pattern!r}"
    elif node is not None:
        matched = resolve_selection_nodes(node, scope)
        what = f"selection {select!r}"
    else:
        matched, what = scope, "server"
    if not matched:
        raise errors.TargetNotFoundError(
            f"The {what} matches no asset{where}." if what != "server" else f"No assets{where}.",
            [],
            hint=f"List assets with {operation('discover_assets')}.",
        )
    return matched


# -- reading what the server says -------------------------------------------------------------


def _text(value: object, limit: int = MAX_METADATA_VALUE) -> str:
    text = clean(value, one_line=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def metadata_items(entries: object) -> list[MetadataItem]:
    """Metadata entries as label, type and value text; at most ``MAX_METADATA_ENTRIES``."""
    items: list[MetadataItem] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or len(items) >= MAX_METADATA_ENTRIES:
            continue
        value: object = None
        for field in (
            "text", "intRepr", "floatValue", "boolValue", "jsonString", "mdStr", "path", "url",
            "timestamp", "runId",
        ):  # fmt: skip
            if entry.get(field) is not None:
                value = entry[field]
                break
        if value is None and isinstance(entry.get("assetKey"), Mapping):
            value = format_key(entry["assetKey"].get("path") or [])
        if isinstance(value, bool):
            value = "true" if value else "false"
        items.append(
            MetadataItem(
                label=_text(entry.get("label"), 200),
                type=_text(entry.get("__typename"), 60),
                value=None if value is None else _text(value),
            )
        )
    return items


def _ms(value: object) -> float:
    try:
        return float(str(value)) / 1000.0
    except ValueError:
        raise errors.BadResponseError(
            f"The server sent a timestamp that is not one: {_text(value, 40)!r}."
        ) from None


def materialization_record(asset: str, event: Mapping[str, Any]) -> MaterializationRecord:
    return MaterializationRecord(
        asset=asset,
        run_id=_text(event.get("runId"), 64),
        timestamp=_ms(event.get("timestamp")),
        partition=None if event.get("partition") is None else _text(event.get("partition"), 300),
        step=None if event.get("stepKey") is None else _text(event.get("stepKey"), 300),
        metadata=metadata_items(event.get("metadataEntries")),
    )


def _expand(ranges: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, set[str]]:
    """Time-partition ranges (``startKey`` … ``endKey``, inclusive) as key sets per status."""
    index = {k: i for i, k in enumerate(keys)}
    out: dict[str, set[str]] = {}
    for r in ranges:
        start, end = index.get(str(r.get("startKey"))), index.get(str(r.get("endKey")))
        if start is None or end is None:
            continue
        out.setdefault(str(r.get("status")), set()).update(keys[start : end + 1])
    return out


def partition_health(node: Mapping[str, Any], with_keys: bool) -> PartitionHealth | None:
    stats = node.get("partitionStats")
    if not node.get("isPartitioned") or not isinstance(stats, Mapping):
        return None
    total, done = int(stats.get("numPartitions") or 0), int(stats.get("numMaterialized") or 0)
    failed, running = int(stats.get("numFailed") or 0), int(stats.get("numMaterializing") or 0)
    counts = PartitionHealth(
        total=total,
        materialized=done,
        failed=failed,
        in_progress=running,
        missing=max(0, total - done - failed - running),
    )
    if not with_keys:
        return counts
    statuses = node.get("assetPartitionStatuses") or {}
    keys = [str(k) for k in node.get("partitionKeys") or []]
    kind = statuses.get("__typename")
    if kind == "DefaultPartitionStatuses":
        sets = {
            "MATERIALIZED": set(statuses.get("materializedPartitions") or []),
            "FAILED": set(statuses.get("failedPartitions") or []),
            "MATERIALIZING": set(statuses.get("materializingPartitions") or []),
        }
    elif kind == "TimePartitionStatuses":
        sets = _expand(statuses.get("ranges") or [], keys)
    else:
        return counts.model_copy(
            update={"keys_note": "keys are not listed for multi-partitioned assets (counts only)"}
        )
    running_keys = sets.get("MATERIALIZING", set())
    failed_keys = sets.get("FAILED", set()) - running_keys
    done_keys = sets.get("MATERIALIZED", set()) - failed_keys - running_keys
    truncated = False

    def bounded(chosen: list[str]) -> list[str]:
        nonlocal truncated
        if len(chosen) > MAX_PARTITION_KEYS:
            truncated = True
        return [_text(k, 300) for k in chosen[:MAX_PARTITION_KEYS]]

    return counts.model_copy(
        update=dict(
            failed_keys=bounded([k for k in keys if k in failed_keys]),
            in_progress_keys=bounded([k for k in keys if k in running_keys]),
            missing_keys=bounded(
                [
                    k
                    for k in keys
                    if k not in done_keys and k not in failed_keys and k not in running_keys
                ]
            ),
            keys_truncated=truncated,
        )
    )


def check_infos(asset: AssetInfo, payload: object) -> tuple[list[AssetCheckInfo], str | None]:
    """The checks of ``asset`` from ``assetChecksOrError``; a note when the server cannot say."""
    if not isinstance(payload, Mapping):
        return [], None
    if payload.get("__typename") != "AssetChecks":
        return [], f"checks: not available ({_text(payload.get('__typename'), 80)})"
    infos = []
    for check in payload.get("checks") or []:
        execution = check.get("executionForLatestMaterialization") or {}
        evaluation = execution.get("evaluation") or {}
        infos.append(
            AssetCheckInfo(
                asset=asset.key,
                path=list(asset.path),
                name=_text(check.get("name"), 300),
                description=None if not check.get("description") else _text(check["description"]),
                blocking=bool(check.get("blocking")),
                jobs=[_text(j, 300) for j in check.get("jobNames") or []][:50],
                location=asset.location,
                repository=asset.repository,
                status=_text(execution["status"], 40) if execution.get("status") else None,
                severity=_text(evaluation["severity"], 20) if evaluation.get("severity") else None,
                passed=evaluation.get("success")
                if isinstance(evaluation.get("success"), bool)
                else None,
                run_id=_text(execution["runId"], 64) if execution.get("runId") else None,
                timestamp=float(execution["timestamp"]) if execution.get("timestamp") else None,
            )
        )
    return infos, None


def _stale(
    node: Mapping[str, Any], version: tuple[int, int]
) -> tuple[str | None, list[str], str | None]:
    status = node.get("staleStatus")
    causes = []
    for cause in node.get("staleCauses") or []:  # "DATA: a/b has a new data version"
        subject = (cause.get("dependency") or cause.get("key") or {}).get("path") or []
        causes.append(
            f"{_text(cause.get('category'), 20)}: {_text(format_key(subject), 300)} "
            f"{_text(cause.get('reason'), 300)}"
        )
    note = None
    if status is None:
        note = f"staleness: not reported by Dagster {version[0]}.{version[1]} for this asset"
    return (_text(status, 20) if status else None), causes[:20], note


async def asset_health(
    client: DagsterClient, assets: Sequence[AssetInfo], *, partition_keys: bool = False
) -> list[AssetHealth]:
    """The health of ``assets`` (from ``select_assets``), in their order; with
    ``partition_keys`` the missing, failed and in-progress keys of partitioned assets."""
    version = await client.version_tuple()
    result: list[AssetHealth] = []
    for start in range(0, len(assets), HEALTH_BATCH):
        batch = assets[start : start + HEALTH_BATCH]
        unique = list(dict.fromkeys(tuple(a.path) for a in batch))
        data = await client.execute(
            ASSET_HEALTH,
            {"assetKeys": [{"path": list(p)} for p in unique], "withKeys": partition_keys},
        )
        latest = {tuple(i["assetKey"]["path"]): i for i in data.get("assetsLatestInfo") or []}
        nodes: dict[tuple[str, ...], Mapping[str, Any]] = {}
        for node in data.get("assetNodes") or []:
            nodes.setdefault(tuple(node["assetKey"]["path"]), node)
        for asset in batch:
            info = latest.get(tuple(asset.path)) or {}
            node = nodes.get(tuple(asset.path)) or {}
            event = info.get("latestMaterialization")
            run = info.get("latestRun") or {}
            stale, causes, note = _stale(node, version)
            checks, checks_note = check_infos(asset, node.get("assetChecksOrError"))
            result.append(
                AssetHealth(
                    key=asset.key,
                    path=list(asset.path),
                    location=asset.location,
                    repository=asset.repository,
                    latest_materialization=materialization_record(asset.key, event)
                    if isinstance(event, Mapping)
                    else None,
                    latest_run_id=_text(run["runId"], 64) if run.get("runId") else None,
                    latest_run_status=_text(run["status"], 40) if run.get("status") else None,
                    in_progress_run_ids=[_text(r, 64) for r in info.get("inProgressRunIds") or []][
                        :100
                    ],
                    queued_run_ids=[_text(r, 64) for r in info.get("unstartedRunIds") or []][:100],
                    stale_status=stale,
                    stale_causes=causes,
                    staleness_note=note,
                    partitioned=bool(node.get("isPartitioned")),
                    partitions=partition_health(node, partition_keys),
                    checks=checks,
                    checks_note=checks_note,
                )
            )
    return result


async def list_checks(client: DagsterClient, assets: Sequence[AssetInfo]) -> list[AssetCheckInfo]:
    """The checks of ``assets`` with their latest execution."""
    return [c for h in await asset_health(client, assets) for c in h.checks]


# -- history -----------------------------------------------------------------------------------


async def iter_materializations(
    client: DagsterClient, key: str, *, before: float | None = None, page_size: int = HISTORY_PAGE
) -> AsyncIterator[MaterializationRecord]:
    """The materializations of asset ``key`` (slash-joined), newest first, page by page
    (``beforeTimestampMillis`` of the last one seen). An unknown asset is exit 2."""
    path = parse_key(key)
    if not path:
        raise errors.SelectionError("No asset key given (expected e.g. 'sales/orders').")
    cursor = start = None if before is None else str(int(before * 1000))
    seen = 0
    while seen < MAX_HISTORY:
        data = await client.execute(
            ASSET_MATERIALIZATIONS,
            {"assetKey": {"path": path}, "limit": page_size, "beforeTimestampMillis": cursor},
        )
        payload = data.get("assetOrError")
        if isinstance(payload, Mapping) and payload.get("__typename") == "AssetNotFoundError":
            raise errors.TargetNotFoundError(
                f"No asset {format_key(path)!r} on the server.",
                [],
                hint=f"List assets with {operation('discover_assets')}.",
            )
        asset = check_union(payload, "Asset", "reading the asset's materializations")
        events = asset.get("assetMaterializations") or []
        if not events and seen == 0 and cursor == start and not asset.get("definition"):
            raise errors.TargetNotFoundError(
                f"No asset {format_key(path)!r} on the server (no definition, no materialization).",
                [],
                hint=f"List assets with {operation('discover_assets')}.",
            )
        for event in events:
            seen += 1
            yield materialization_record(format_key(path), event)
        if len(events) < page_size:
            return
        last = str(events[-1].get("timestamp"))
        if last == cursor:
            return
        cursor = last


async def asset_history(
    client: DagsterClient, key: str, limit: int | None = 20, *, before: float | None = None
) -> list[MaterializationRecord]:
    """At most ``limit`` materializations of ``key``, newest first (None: all, to 10,000)."""
    page = HISTORY_PAGE if limit is None else max(1, min(limit, HISTORY_PAGE))
    records: list[MaterializationRecord] = []
    async for record in iter_materializations(client, key, before=before, page_size=page):
        records.append(record)
        if limit is not None and len(records) >= limit:
            break
    return records


# -- running checks -----------------------------------------------------------------------------


def checks_target(checks: Sequence[AssetCheckInfo]) -> Any:
    """The one run that executes ``checks`` (and no materialization): their code location,
    and the job that holds them all."""
    from daglab.helpers.runs.targets import RunTarget

    if not checks:
        raise errors.TargetNotFoundError(
            "The selection has no asset checks.",
            [],
            hint=f"List checks with {operation('list_checks')}.",
        )
    places = sorted({(c.location or "", c.repository or "") for c in checks})
    if len(places) > 1:
        raise errors.SelectionError(
            f"The checks span {plural(len(places), 'code location')} "
            f"({', '.join(p[0] for p in places)}); one run runs in one.",
            hint=f"Narrow the selection or add {setting('location')}.",
        )
    common = set(checks[0].jobs)
    for check in checks[1:]:
        common &= set(check.jobs)
    if not common:
        listed = "; ".join(f"{c.name}: {', '.join(c.jobs) or 'no job'}" for c in checks[:10])
        raise errors.SelectionError(
            f"No single job can run these checks together ({listed}).",
            hint="Run them one asset at a time.",
        )
    implicit = sorted(j for j in common if j.startswith("__ASSET_JOB"))
    job = "__ASSET_JOB" if "__ASSET_JOB" in common else (implicit or sorted(common))[0]
    location, repository = places[0]
    return RunTarget(
        job=job,
        location=location,
        repository=repository,
        asset_check_selection=tuple((c.asset, c.name) for c in checks),
    )


def choose_checks(
    checks: Sequence[AssetCheckInfo], names: Iterable[str] | None
) -> list[AssetCheckInfo]:
    """``checks`` narrowed to ``names`` (check names, or ``asset:name``); an unknown name is
    exit 2."""
    wanted = [n.strip() for n in names or [] if n.strip()]
    if not wanted:
        return list(checks)
    chosen: list[AssetCheckInfo] = []
    for name in wanted:
        found = [c for c in checks if name in (c.name, f"{c.asset}:{c.name}")]
        if not found:
            close = difflib.get_close_matches(name, [c.name for c in checks], n=5, cutoff=0.5)
            raise errors.TargetNotFoundError(
                f"No check {name!r} on the selected assets.",
                close,
                hint=f"Did you mean: {', '.join(close)}?" if close else None,
            )
        chosen.extend(c for c in found if c not in chosen)
    return chosen
