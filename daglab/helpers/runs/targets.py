"""What a run executes: a job, or a selection of assets through an asset job.

Targets are resolved against discovery, so a job or asset can be named without its code
location when that is unambiguous; unknown or ambiguous names are exit 2 with candidates.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from daglab.helpers import errors
from daglab.helpers.discovery import (
    check_scope,
    discover_assets,
    discover_jobs,
    discover_locations,
    match_pattern,
)
from daglab.helpers.errors import operation, setting
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.models import AssetInfo, JobInfo
from daglab.helpers.queries import ASSET_PARTITION_KEYS
from daglab.helpers.runs.read import DEFAULT_REPOSITORY, PARTITION_TAG, REQUEST_ID_TAG
from daglab.helpers.selection import parse_selection, resolve_selection


@dataclass(frozen=True)
class RunTarget:
    """What one run executes: a job, or a selection of assets through an asset job."""

    job: str
    location: str
    repository: str
    asset_selection: tuple[str, ...] = ()
    partitioned_assets: tuple[str, ...] = ()

    @property
    def is_asset_run(self) -> bool:
        return bool(self.asset_selection)


def _where(item: JobInfo | AssetInfo) -> str:
    if item.repository == DEFAULT_REPOSITORY:
        return f"location {item.location}"
    return f"location {item.location}, repository {item.repository}"


def _scope_text(location: str | None, repository: str | None) -> str:
    parts = []
    if location:
        parts.append(f"location {location!r}")
    if repository:
        parts.append(f"repository {repository!r}")
    return f" in {' and '.join(parts)}" if parts else ""


def _in_scope(item: JobInfo | AssetInfo, location: str | None, repository: str | None) -> bool:
    return location in (None, item.location) and repository in (None, item.repository)


async def _check_scope(client: DagsterClient, location: str | None, repository: str | None) -> None:
    if location is None and repository is None:
        return
    check_scope(await discover_locations(client), location, repository)


async def resolve_job(
    client: DagsterClient, job: str, location: str | None = None, repository: str | None = None
) -> RunTarget:
    """Find ``job``; unknown or ambiguous (same name in two locations) is exit 2."""
    jobs = await discover_jobs(client)
    matches = [j for j in jobs if j.name == job and _in_scope(j, location, repository)]
    if len(matches) == 1:
        m = matches[0]
        return RunTarget(job=m.name, location=m.location, repository=m.repository)
    if len(matches) > 1:
        listed = "; ".join(f"{m.name} ({_where(m)})" for m in matches)
        raise errors.AmbiguousTargetError(
            f"Job {job!r} exists in {len(matches)} places: {listed}.",
            [f"{m.location}/{m.repository}/{m.name}" for m in matches],
            hint=f"Pick one with {setting('location')} (and {setting('repository')} if needed).",
        )
    await _check_scope(client, location, repository)
    elsewhere = [j for j in jobs if j.name == job]
    if elsewhere:
        listed = "; ".join(_where(j) for j in elsewhere)
        raise errors.TargetNotFoundError(
            f"No job {job!r}{_scope_text(location, repository)}; it exists in {listed}.",
            [f"{j.location}/{j.repository}/{j.name}" for j in elsewhere],
        )
    names = sorted({j.name for j in jobs if _in_scope(j, location, repository)})
    close = difflib.get_close_matches(job, names, n=5, cutoff=0.5)
    shown = close or names[:20]
    raise errors.TargetNotFoundError(
        f"No job {job!r}{_scope_text(location, repository)}.",
        shown,
        hint=(f"Did you mean: {', '.join(close)}?" if close else f"Jobs: {', '.join(shown)}.")
        if shown
        else f"The server has no jobs there (see {operation('discover_jobs')}).",
    )


def split_asset_keys(text: str | Iterable[str]) -> list[str]:
    """``"a/b, c/d"`` (or a list) → ``["a/b", "c/d"]``; duplicates dropped, order kept."""
    if isinstance(text, str):
        from daglab.helpers.selection import validate_asset_selection

        return list(validate_asset_selection(text, "keys"))
    items = list(text)
    keys: list[str] = []
    for item in items:
        key = item.strip().strip("/")
        if key and key not in keys:
            keys.append(key)
    if not keys:
        raise errors.SelectionError("No asset keys given (expected e.g. 'orders/raw_orders').")
    return keys


async def resolve_assets(
    client: DagsterClient,
    *,
    keys: str | Iterable[str] | None = None,
    pattern: str | None = None,
    select: str | None = None,
    location: str | None = None,
    repository: str | None = None,
) -> RunTarget:
    """Resolve exact keys, a wildcard pattern or a selection expression (exactly one) to the
    assets of one run, and the implicit asset job that can run all of them."""
    given = [x for x in (keys, pattern, select) if x is not None]
    if len(given) != 1:
        raise errors.BadInputError("Give exactly one of asset keys, a pattern or a selection.")
    node = parse_selection(select) if select is not None else None  # syntax errors first
    wanted = split_asset_keys(keys) if keys is not None else None

    every = await discover_assets(client)
    scope = [a for a in every if _in_scope(a, location, repository)]
    if not scope:
        await _check_scope(client, location, repository)

    chosen: list[AssetInfo]
    if wanted is not None:
        chosen = []
        for key in wanted:
            found = [a for a in scope if a.key == key]
            if not found:
                elsewhere = [a for a in every if a.key == key]
                if elsewhere:
                    raise errors.TargetNotFoundError(
                        f"No asset {key!r}{_scope_text(location, repository)}; it is in "
                        f"{'; '.join(_where(a) for a in elsewhere)}.",
                        [key],
                    )
                close = difflib.get_close_matches(key, [a.key for a in scope], n=5, cutoff=0.5)
                raise errors.TargetNotFoundError(
                    f"No asset {key!r}{_scope_text(location, repository)}.",
                    close,
                    hint=f"Did you mean: {', '.join(close)}?"
                    if close
                    else f"List assets with {operation('discover_assets')}.",
                )
            if len(found) > 1:
                raise errors.AmbiguousTargetError(
                    f"Asset {key!r} exists in {len(found)} places: "
                    f"{'; '.join(_where(a) for a in found)}.",
                    [f"{a.location}/{a.repository}/{a.key}" for a in found],
                    hint=f"Pick one with {setting('location')} (and {setting('repository')} if needed).",
                )
            if not found[0].materializable:
                raise errors.SelectionError(
                    f"Asset {key!r} cannot be materialized (it is a source or external asset)."
                )
            chosen.append(found[0])
        what = ", ".join(wanted)
    else:
        if pattern is not None:
            matched = [a for a in scope if match_pattern(pattern, a.key)]
            what = f"pattern {pattern!r}"
        else:
            assert node is not None and select is not None
            selected = set(resolve_selection(node, scope))
            matched = [a for a in scope if a.key in selected]
            what = f"selection {select!r}"
        chosen = [a for a in matched if a.materializable]
        if not chosen:
            extra = " (only source or external assets)" if matched else ""
            raise errors.TargetNotFoundError(
                f"The {what} matches no materializable asset{_scope_text(location, repository)}"
                f"{extra}.",
                [],
                hint=f"List assets with {operation('discover_assets')}.",
            )
    return _asset_target(chosen, what)


def _asset_target(chosen: Sequence[AssetInfo], what: str) -> RunTarget:
    places = sorted({(a.location, a.repository) for a in chosen})
    if len(places) > 1:
        listed = "; ".join(
            f"{loc}/{repo}: "
            + ", ".join(a.key for a in chosen if (a.location, a.repository) == (loc, repo))
            for loc, repo in places
        )
        raise errors.SelectionError(
            f"The {what} spans {len(places)} code locations ({listed}); one run runs in one.",
            hint=f"Narrow the selection or add {setting('location')}.",
        )
    location, repository = places[0]
    missing = [a.key for a in chosen if not a.implicit_jobs]
    if missing:
        raise errors.SelectionError(
            f"No asset job on the server contains {', '.join(missing)}, so it cannot be launched."
        )
    common = set(chosen[0].implicit_jobs)
    for asset in chosen[1:]:
        common &= set(asset.implicit_jobs)
    if not common:
        groups: dict[str, list[str]] = {}
        for asset in chosen:
            groups.setdefault(sorted(asset.implicit_jobs)[0], []).append(asset.key)
        listed = "; ".join(f"{job}: {', '.join(keys)}" for job, keys in sorted(groups.items()))
        raise errors.SelectionError(
            f"No single asset job can run the {what}: this Dagster splits assets with different "
            f"partitions definitions into separate jobs ({listed}).",
            hint="Launch each group as its own run.",
        )
    job = "__ASSET_JOB" if "__ASSET_JOB" in common else sorted(common)[0]
    return RunTarget(
        job=job,
        location=location,
        repository=repository,
        asset_selection=tuple(a.key for a in chosen),
        partitioned_assets=tuple(a.key for a in chosen if a.partitioned),
    )


async def check_partition(client: DagsterClient, target: RunTarget, partition: str | None) -> None:
    """For asset runs: a partitioned selection needs a known ``partition``; an unpartitioned one
    must not get one. (A job's partitions are not checked here; the server decides.)"""
    if not target.is_asset_run:
        return
    if not target.partitioned_assets:
        if partition is not None:
            raise errors.SelectionError(
                f"{setting('partition', repr(partition))} was given, but none of the selected "
                "assets is partitioned."
            )
        return
    data = await client.execute(
        ASSET_PARTITION_KEYS,
        {"assetKeys": [{"path": k.split("/")} for k in target.partitioned_assets]},
    )
    keys_by_asset = {
        "/".join(n["assetKey"]["path"]): list(n.get("partitionKeys") or [])
        for n in data.get("assetNodes") or []
    }
    sample = next(iter(keys_by_asset.values()), [])
    if partition is None:
        example = f" (e.g. {sample[0]})" if sample else ""
        raise errors.SelectionError(
            f"{', '.join(target.partitioned_assets)} "
            f"{'is' if len(target.partitioned_assets) == 1 else 'are'} partitioned: "
            f"pass {setting('partition', 'KEY')}{example}."
        )
    for key, partition_keys in keys_by_asset.items():
        if partition_keys and partition not in partition_keys:
            shown = ", ".join(partition_keys[:3])
            more = (
                f" … {partition_keys[-1]} ({len(partition_keys)} in all)"
                if len(partition_keys) > 3
                else ""
            )
            raise errors.TargetNotFoundError(
                f"Asset {key!r} has no partition {partition!r}.",
                partition_keys[:20],
                hint=f"Its partitions: {shown}{more}.",
            )


def parse_run_tags(items: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` (from repeated ``--tag``) → a dict; malformed is exit 2."""
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise errors.BadInputError(
                f"Malformed tag {item!r}: expected key=value.",
                hint=f"e.g. {setting('tags', 'team=data')}",
            )
        if key in (REQUEST_ID_TAG, PARTITION_TAG):
            raise errors.BadInputError(
                f"Tag {key!r} is set by daglab itself"
                + (f" (use {setting('partition', 'KEY')})." if key == PARTITION_TAG else ".")
            )
        tags[key] = value.strip()
    return tags
