"""What a run executes: a job, or a selection of assets through an asset job.

Targets are resolved against discovery, so a job or asset can be named without its code
location when that is unambiguous; unknown or ambiguous names are exit 2 with candidates.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import format_key, parse_key
from daglab.helpers.discovery import (
    check_scope,
    discover_assets,
    discover_jobs,
    discover_locations,
    instigated_if_named,
    match_pattern,
)
from daglab.helpers.errors import operation, setting
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import AssetInfo, JobInfo
from daglab.helpers.queries import ASSET_PARTITION_KEYS, JOB_PARTITION
from daglab.helpers.runs.read import DEFAULT_REPOSITORY, PARTITION_TAG, REQUEST_ID_TAG
from daglab.helpers.selection import parse_selection, resolve_selection_nodes
from daglab.helpers.text import close_matches, plural


@dataclass(frozen=True)
class RunTarget:
    """What one run executes: a job, or a selection of assets through an asset job."""

    job: str
    location: str
    repository: str
    asset_selection: tuple[str, ...] = ()
    partitioned_assets: tuple[str, ...] = ()
    # (asset key, check name) pairs: exactly these checks (None: the checks of the assets)
    asset_check_selection: tuple[tuple[str, str], ...] | None = None

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
        locations = sorted({m.location for m in matches})
        if len(locations) == 1:  # two repositories of one location: only the repository helps
            repos = ", ".join(sorted(m.repository for m in matches))
            hint = f"Pick one with {setting('repository')} ({repos})."
        elif len({(m.location, m.repository) for m in matches}) == len(locations):
            hint = f"Pick one with {setting('location')} ({', '.join(locations)})."
        else:
            hint = f"Pick one with {setting('location')} and {setting('repository')}."
        raise errors.AmbiguousTargetError(
            f"Job {job!r} exists in {plural(len(matches), 'place')}: {listed}.",
            [f"{m.location}/{m.repository}/{m.name}" for m in matches],
            hint=hint,
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
    close = close_matches(job, names)
    raise errors.TargetNotFoundError(
        f"No job {job!r}{_scope_text(location, repository)}.",
        close,
        hint=f"Did you mean: {', '.join(close)}?"
        if close
        else f"List the jobs with {operation('discover_jobs')}."
        if names
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
        key = format_key(parse_key(item.strip()))
        if key and key not in keys:
            keys.append(key)
    if not keys:
        raise errors.SelectionError("No asset keys given (expected e.g. 'sales/orders').")
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
    scope = await instigated_if_named(client, node, scope)

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
                close = close_matches(key, [a.key for a in scope])
                raise errors.TargetNotFoundError(
                    f"No asset {key!r}{_scope_text(location, repository)}.",
                    close,
                    hint=f"Did you mean: {', '.join(close)}?"
                    if close
                    else f"List assets with {operation('discover_assets')}.",
                )
            if len(found) > 1:
                raise errors.AmbiguousTargetError(
                    f"Asset {key!r} exists in {plural(len(found), 'place')}: "
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
            matched = resolve_selection_nodes(node, scope)
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
            f"The {what} spans {plural(len(places), 'code location')} ({listed}); one run runs in one.",
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


@dataclass(frozen=True)
class PartitionPlan:
    """What Dagster computes for one partition of a job: the run config and the tags a run of
    that partition gets (``partitionSetOrError { partition { runConfigOrError tagsOrError } }``),
    as the UI's launchpad and ``dagster job launch --partition`` use them."""

    key: str
    run_config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    partition_set: str | None = None


def merge_run_config(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` (the user's config) deep-merged over ``base`` (the partition's): mappings
    merge key by key, any other value of ``override`` (a scalar, a list) replaces ``base``'s."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_run_config(merged[key], value)
        else:
            merged[key] = value
    return merged


def _partition_keys_hint(keys: Sequence[str]) -> str:
    shown = ", ".join(keys[:3])
    more = f" … {keys[-1]} ({len(keys)} in all)" if len(keys) > 3 else ""
    return f"{shown}{more}"


def _load_partition_yaml(text: str) -> dict[str, Any]:
    """The partition's run config as Dagster printed it. Dates stay strings: Dagster's YAML
    writes ``2024-01-15`` unquoted, and a YAML timestamp would not be a config String."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    value = yaml.load(text, Loader=_Loader)
    return dict(value) if isinstance(value, Mapping) else {}


async def job_partition(
    client: DagsterClient, target: RunTarget, partition: str | None
) -> PartitionPlan | None:
    """For job runs: the partition's config and tags, after checking ``partition`` against
    the job's partition set (exit 2 for a key outside it, a set with no keys, a partition on
    a job without partitions, or no partition on a partitioned job)."""

    async def partition_sets(key: str | None) -> list[Mapping[str, Any]]:
        data = await client.execute(
            JOB_PARTITION,
            {
                "repositorySelector": {
                    "repositoryLocationName": target.location,
                    "repositoryName": target.repository,
                },
                "jobName": target.job,
                "partitionName": key or "",
                "withPartition": key is not None,
            },
        )
        sets = check_union(
            data.get("partitionSetsOrError"),
            "PartitionSets",
            f"reading the partitions of {target.job}",
        )
        return list(sets.get("results") or [])

    results = await partition_sets(None)
    if not results:
        if partition is not None:
            raise errors.SelectionError(
                f"{setting('partition', repr(partition))} was given, but job {target.job!r} "
                "has no partitions."
            )
        return None
    part_set = results[0]
    listing = check_union(
        part_set.get("partitionsOrError"), "Partitions", f"listing the partitions of {target.job}"
    )
    keys = [str(p["name"]) for p in listing.get("results") or []]
    if not keys:
        raise errors.SelectionError(
            f"Job {target.job!r} is partitioned, but its partition set has no partition keys "
            "yet (a dynamic partition set nothing was added to, or a dimension with none), so "
            "there is nothing to run.",
            hint="Add partition keys first (e.g. from a sensor, or in the Dagster UI).",
        )
    if partition is None:
        raise errors.SelectionError(
            f"Job {target.job!r} is partitioned: pass {setting('partition', 'KEY')} "
            f"(e.g. {keys[0]})."
        )
    if partition not in keys:
        close = difflib.get_close_matches(partition, keys, n=5, cutoff=0.6)
        raise errors.TargetNotFoundError(
            f"Job {target.job!r} has no partition {partition!r}.",
            close or keys[:20],
            hint=(f"Did you mean: {', '.join(close)}? " if close else "")
            + f"Its partitions: {_partition_keys_hint(keys)}.",
        )
    found = (await partition_sets(partition))[0].get("partition") or {}
    config_payload = check_union(
        found.get("runConfigOrError"),
        "PartitionRunConfig",
        f"computing the run config of partition {partition!r}",
    )
    tags_payload = check_union(
        found.get("tagsOrError"), "PartitionTags", f"computing the tags of partition {partition!r}"
    )
    return PartitionPlan(
        key=partition,
        run_config=_load_partition_yaml(str(config_payload.get("yaml") or "{}")),
        tags={str(t["key"]): str(t.get("value") or "") for t in tags_payload.get("results") or []},
        partition_set=str(part_set.get("name") or "") or None,
    )


async def check_partition(
    client: DagsterClient, target: RunTarget, partition: str | None
) -> PartitionPlan | None:
    """Check ``partition`` against the target: the partition keys of its assets, or its
    job's partition set. A job's partition comes back with its config and tags."""
    if not target.is_asset_run:
        return await job_partition(client, target, partition)
    if not target.partitioned_assets:
        if partition is not None:
            raise errors.SelectionError(
                f"{setting('partition', repr(partition))} was given, but none of the selected "
                "assets is partitioned."
            )
        return None
    data = await client.execute(
        ASSET_PARTITION_KEYS,
        {"assetKeys": [{"path": parse_key(k)} for k in target.partitioned_assets]},
    )
    keys_by_asset = {
        format_key(n["assetKey"]["path"]): list(n.get("partitionKeys") or [])
        for n in data.get("assetNodes") or []
    }
    empty = [key for key, keys in keys_by_asset.items() if not keys]
    if empty:
        raise errors.SelectionError(
            f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} partitioned, but "
            f"{'has' if len(empty) == 1 else 'have'} no partition keys yet (a dynamic "
            "partition set nothing was added to, or a multi-partition with an empty "
            "dimension), so there is nothing to run.",
            hint="Add partition keys first (e.g. from a sensor, or in the Dagster UI).",
        )
    sample = next(iter(keys_by_asset.values()), [])
    if partition is None:
        example = f" (e.g. {sample[0]})" if sample else ""
        raise errors.SelectionError(
            f"{', '.join(target.partitioned_assets)} "
            f"{'is' if len(target.partitioned_assets) == 1 else 'are'} partitioned: "
            f"pass {setting('partition', 'KEY')}{example}."
        )
    for key, partition_keys in keys_by_asset.items():
        if partition not in partition_keys:
            raise errors.TargetNotFoundError(
                f"Asset {key!r} has no partition {partition!r}.",
                partition_keys[:20],
                hint=f"Its partitions: {_partition_keys_hint(partition_keys)}.",
            )
    return None


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
