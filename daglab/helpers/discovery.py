"""Find code locations, repositories, jobs and assets, and narrow them down with filters.

Each ``discover_*`` function sends one request for the whole workspace (plus, for assets,
the version check that picks the document) and parses it in linear time; narrowing by
location or repository happens on the client. Code locations that failed to load have no
repositories, so their jobs and assets are simply absent; ``discover_locations`` reports them
with their error.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from daglab.helpers.assetkeys import format_key, parse_key
from daglab.helpers.errors import BadInputError, GraphQLError, TargetNotFoundError
from daglab.helpers.graphql import check_union
from daglab.helpers.queries import ASSET_INSTIGATORS, ASSETS, ASSETS_1_7, JOBS, WORKSPACE, pick

if TYPE_CHECKING:
    from daglab.helpers.graphql import DagsterClient
    from daglab.helpers.models import AssetInfo, JobInfo, LocationInfo, RepositoryInfo
    from daglab.helpers.selection import SelectionNode

# The parsers build records: plain dicts with the fields (in order) of the matching model in
# daglab.helpers.models, which is what the models' to_json() gives. The public functions wrap
# them in models; `daglab discover` prints them as they are, so it never imports pydantic.
Record = dict[str, Any]

IMPLICIT_ASSET_JOB_PREFIX = "__ASSET_JOB"

ENTITY_TYPES = ("locations", "repositories", "jobs", "assets")


ANONYMOUS_ASSET_JOB_PREFIX = "__anonymous_asset_job"


def is_internal_job(name: str) -> bool:
    """Jobs Dagster makes itself, which its UI hides: the implicit asset jobs and the
    ``__anonymous_asset_job_…`` of schedules and sensors that target assets."""
    return name.startswith((IMPLICIT_ASSET_JOB_PREFIX, ANONYMOUS_ASSET_JOB_PREFIX))


def is_implicit_asset_job(name: str) -> bool:
    """``__ASSET_JOB`` (1.8+) and ``__ASSET_JOB_0 … _N`` (1.7): jobs Dagster makes for assets."""
    return name.startswith(IMPLICIT_ASSET_JOB_PREFIX)


# -- parsing ------------------------------------------------------------------------------------


def location_records(data: Mapping[str, Any]) -> list[Record]:
    """``LocationInfo`` records from a ``WORKSPACE`` response."""
    workspace = check_union(data.get("workspaceOrError"), "Workspace", "listing code locations")
    out = []
    for entry in workspace.get("locationEntries", []):
        loaded = entry.get("locationOrLoadError") or {}
        failed = loaded.get("__typename") == "PythonError"
        updated = entry.get("updatedTimestamp")
        out.append(
            {
                "name": entry["name"],
                "load_status": "FAILED" if failed else entry["loadStatus"],
                "loaded": entry["loadStatus"] == "LOADED" and not failed,
                "repositories": [r["name"] for r in loaded.get("repositories", [])],
                "error": loaded.get("message") if failed else None,
                "error_class": loaded.get("className") if failed else None,
                "updated_at": float(updated) if updated is not None else None,
            }
        )
    return out


def parse_locations(data: Mapping[str, Any]) -> list[LocationInfo]:
    from daglab.helpers.models import LocationInfo

    return [LocationInfo(**r) for r in location_records(data)]


def repository_records(locations: Iterable[Any]) -> list[Record]:
    """``RepositoryInfo`` records for the repositories of ``locations`` (models or records)."""
    return [
        {"name": repo, "location": _get(loc, "name")}
        for loc in locations
        for repo in _get(loc, "repositories")
    ]


def repositories_of(locations: Iterable[LocationInfo]) -> list[RepositoryInfo]:
    """The repositories of loaded ``locations``, in workspace order."""
    from daglab.helpers.models import RepositoryInfo

    return [RepositoryInfo(**r) for r in repository_records(locations)]


def _repository_nodes(data: Mapping[str, Any], what: str) -> list[Mapping[str, Any]]:
    connection = check_union(data.get("repositoriesOrError"), "RepositoryConnection", what)
    return list(connection.get("nodes") or [])


def _tags(pairs: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value") or "") for t in pairs or []}


def job_records(data: Mapping[str, Any]) -> list[Record]:
    """``JobInfo`` records from a ``JOBS`` response, without the implicit asset jobs."""
    out = []
    for repo in _repository_nodes(data, "listing jobs"):
        location = repo["location"]["name"]
        for job in repo.get("pipelines") or []:
            if is_internal_job(job["name"]):
                continue
            out.append(
                {
                    "name": job["name"],
                    "repository": repo["name"],
                    "location": location,
                    "description": job.get("description"),
                    "tags": _tags(job.get("tags")),
                    "is_asset_job": bool(job.get("isAssetJob")),
                }
            )
    return out


def parse_jobs(data: Mapping[str, Any]) -> list[JobInfo]:
    """Jobs from a ``JOBS`` response, without the implicit asset jobs."""
    from daglab.helpers.models import JobInfo

    return [JobInfo(**r) for r in job_records(data)]


def parse_asset(node: Mapping[str, Any], repository: str, location: str) -> AssetInfo:
    """One ``AssetNode`` from either document as an ``AssetInfo``."""
    from daglab.helpers.models import AssetInfo

    return AssetInfo(**asset_record(node, repository, location))


def asset_record(node: Mapping[str, Any], repository: str, location: str) -> Record:
    """An ``AssetInfo`` record from one ``AssetNode`` of either document (1.7:
    ``isSource``/``computeKind``; 1.8+: ``isMaterializable``/``kinds``), told apart by the
    fields present. Called once per asset: 10,000 of them take about 50 ms."""
    path = node["assetKey"]["path"]
    kinds = node.get("kinds")
    if kinds is None:
        kinds = [node["computeKind"]] if node.get("computeKind") else []
    materializable = node.get("isMaterializable")
    if materializable is None:
        materializable = not node.get("isSource", False) and node.get("isExecutable", True)
    partition_def = node.get("partitionDefinition")
    jobs: list[str] = []
    implicit: list[str] = []
    for job in node.get("jobNames") or ():
        if job.startswith(IMPLICIT_ASSET_JOB_PREFIX):
            implicit.append(job)
        elif not job.startswith(ANONYMOUS_ASSET_JOB_PREFIX):
            jobs.append(job)
    tags = node.get("tags")
    return {
        "key": format_key(path),
        "path": list(path),
        "group": node.get("groupName") or "default",
        "repository": repository,
        "location": location,
        "description": node.get("description"),
        "tags": {t["key"]: t["value"] or "" for t in tags} if tags else {},
        "kinds": list(kinds),
        "partitioned": bool(node.get("isPartitioned")),
        "partitions": (
            (partition_def.get("description") or partition_def.get("type") or None)
            if partition_def
            else None
        ),
        "materializable": bool(materializable),
        "deps": [format_key(d["path"]) for d in node.get("dependencyKeys") or ()],
        "jobs": jobs,
        "implicit_jobs": implicit,
        "owners": [
            f"team:{o['team']}" if "team" in o else str(o.get("email") or "")
            for o in node.get("owners") or ()
        ],
        "partition_type": (partition_def.get("type") or None) if partition_def else None,
    }


def asset_records(data: Mapping[str, Any]) -> list[Record]:
    """``AssetInfo`` records from an ``ASSETS``/``ASSETS_1_7`` response, in server order."""
    out: list[Record] = []
    for repo in _repository_nodes(data, "listing assets"):
        location = repo["location"]["name"]
        name = repo["name"]
        out.extend(asset_record(node, name, location) for node in repo.get("assetNodes") or [])
    return out


def parse_assets(data: Mapping[str, Any]) -> list[AssetInfo]:
    """Assets from an ``ASSETS``/``ASSETS_1_7`` response, in server order."""
    from daglab.helpers.models import AssetInfo

    return [AssetInfo(**r) for r in asset_records(data)]


# -- discovery ----------------------------------------------------------------------------------

E = TypeVar("E")


def _in_scope(items: list[E], location: str | None, repository: str | None) -> list[E]:
    if location is None and repository is None:
        return items
    return [
        item
        for item in items
        if (location is None or _get(item, "location") == location)
        and (repository is None or _get(item, "repository") == repository)
    ]


async def discover_locations(
    client: DagsterClient, location: str | None = None
) -> list[LocationInfo]:
    """Every code location with its load status; one that failed carries its error."""
    locations = parse_locations(await client.execute(WORKSPACE))
    if location is not None:
        locations = [loc for loc in locations if loc.name == location]
    return locations


async def _location_records(client: DagsterClient) -> list[Record]:
    return location_records(await client.execute(WORKSPACE))


async def _job_records(
    client: DagsterClient, location: str | None, repository: str | None
) -> list[Record]:
    return _in_scope(job_records(await client.execute(JOBS)), location, repository)


async def _asset_records(
    client: DagsterClient, location: str | None, repository: str | None
) -> list[Record]:
    return _in_scope(asset_records(await _assets_data(client)), location, repository)


async def _assets_data(client: DagsterClient) -> dict[str, Any]:
    """The ``ASSETS`` response, the largest of a discover (seconds for 10,000 assets).

    While the server's version is still unknown it does not wait for it: the newest
    document goes out at once, the version query beside it. A server too old for that
    document rejects it while validating it (HTTP 400, ``Cannot query field ...``), before
    any work, and is then sent the document of its version."""
    if client.known_version is not None:
        document = pick(client.known_version, ASSETS_1_7, ASSETS)
        return await client.execute(document)
    version = asyncio.ensure_future(client.version_tuple())
    try:
        return await client.execute(ASSETS)
    except GraphQLError as exc:
        if not exc.unknown_field:
            raise
        document = pick(await version, ASSETS_1_7, ASSETS)
        return await client.execute(document)
    finally:
        # The side request ends with this one, whatever happened (its error, if any, is
        # not this call's: nothing is left pending or unretrieved).
        await asyncio.gather(version, return_exceptions=True)


async def with_instigators(client: DagsterClient, assets: Sequence[AssetInfo]) -> list[AssetInfo]:
    """``assets`` with the sensors and schedules that target each (per code location and
    repository, as Dagster's ``sensor:``/``schedule:`` selections read them)."""
    data = await client.execute(ASSET_INSTIGATORS)
    targeting: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for repo in _repository_nodes(data, "reading the sensors and schedules of assets"):
        location = str((repo.get("location") or {}).get("name"))
        for node in repo.get("assetNodes") or []:
            instigators = node.get("targetingInstigators") or []
            key = format_key((node.get("assetKey") or {}).get("path") or [])
            targeting[(location, str(repo.get("name")), key)] = (
                sorted({str(i["name"]) for i in instigators if i.get("__typename") == "Sensor"}),
                sorted({str(i["name"]) for i in instigators if i.get("__typename") == "Schedule"}),
            )
    out = []
    for asset in assets:
        sensors, schedules = targeting.get((asset.location, asset.repository, asset.key), ([], []))
        out.append(asset.model_copy(update={"sensors": sensors, "schedules": schedules}))
    return out


async def instigated_if_named(
    client: DagsterClient, node: SelectionNode | None, assets: Sequence[AssetInfo]
) -> list[AssetInfo]:
    """``assets``, with the sensors and schedules that target each read from the server first
    when the parsed selection ``node`` names any (``sensor:``, ``schedule:``)."""
    from daglab.helpers.selection import names_instigators

    if node is not None and names_instigators(node):
        return await with_instigators(client, assets)
    return list(assets)


async def select_among(
    client: DagsterClient, select: str, assets: Sequence[AssetInfo]
) -> list[AssetInfo]:
    """The assets that the Dagster selection ``select`` picks among ``assets``."""
    from daglab.helpers.selection import parse_selection, resolve_selection_nodes

    node = parse_selection(select)
    return resolve_selection_nodes(node, await instigated_if_named(client, node, assets))


async def discover_repositories(
    client: DagsterClient, location: str | None = None, repository: str | None = None
) -> list[RepositoryInfo]:
    """The repositories of every loaded code location."""
    repos = repositories_of(await discover_locations(client, location))
    if repository is not None:
        repos = [r for r in repos if r.name == repository]
    return repos


async def discover_jobs(
    client: DagsterClient, location: str | None = None, repository: str | None = None
) -> list[JobInfo]:
    """The user-defined jobs of every loaded code location (no ``__ASSET_JOB…``)."""
    from daglab.helpers.models import JobInfo

    return [JobInfo(**r) for r in await _job_records(client, location, repository)]


async def discover_assets(
    client: DagsterClient, location: str | None = None, repository: str | None = None
) -> list[AssetInfo]:
    """Every asset definition of every loaded code location, in one request."""
    from daglab.helpers.models import AssetInfo

    return [AssetInfo(**r) for r in await _asset_records(client, location, repository)]


@dataclass(repr=False)
class Discovery:
    """What ``discover`` found; a type that was not asked for is ``None``. The entities are
    models, or records (plain dicts of the same fields) when asked for with ``records=True``."""

    locations: list[Any]
    repositories: list[Any] | None = None
    jobs: list[Any] | None = None
    assets: list[Any] | None = None

    @property
    def failed_locations(self) -> list[Any]:
        return [loc for loc in self.locations if _get(loc, "load_status") == "FAILED"]

    def __repr__(self) -> str:
        counts = {
            kind: len(found) for kind in ENTITY_TYPES if (found := getattr(self, kind)) is not None
        }
        return f"Discovery({', '.join(f'{k}={n}' for k, n in counts.items())})"


async def discover(
    client: DagsterClient,
    types: Iterable[str] = ENTITY_TYPES,
    location: str | None = None,
    repository: str | None = None,
    *,
    records: bool = False,
) -> Discovery:
    """Locations (always, for their load errors) and the other ``types`` asked for, fetched
    concurrently. An unknown ``location`` or ``repository`` raises ``TargetNotFoundError``.

    ``records=True`` leaves the entities as plain dicts (what their models' ``to_json()``
    gives) instead of building models: what ``daglab discover`` prints."""
    wanted = set(types)
    unknown = wanted - set(ENTITY_TYPES)
    if unknown:
        raise ValueError(f"unknown entity types: {sorted(unknown)}")
    jobs_task = _job_records(client, location, repository) if "jobs" in wanted else None
    assets_task = _asset_records(client, location, repository) if "assets" in wanted else None
    # The slowest request first: the server starts on it while the others go out.
    assets, jobs, all_locations = await asyncio.gather(
        assets_task if assets_task is not None else _none(),
        jobs_task if jobs_task is not None else _none(),
        _location_records(client),
    )
    check_scope(all_locations, location, repository)
    locations = [loc for loc in all_locations if location is None or loc["name"] == location]
    repos = None
    if "repositories" in wanted:
        repos = [r for r in repository_records(locations) if repository in (None, r["name"])]
    found = Discovery(locations=locations, repositories=repos, jobs=jobs, assets=assets)
    if records:
        return found
    from daglab.helpers import models

    def build(model: Any, items: list[Record] | None) -> list[Any] | None:
        return None if items is None else [model(**item) for item in items]

    return Discovery(
        locations=[models.LocationInfo(**loc) for loc in locations],
        repositories=build(models.RepositoryInfo, repos),
        jobs=build(models.JobInfo, jobs),
        assets=build(models.AssetInfo, assets),
    )


async def _none() -> None:
    return None


def check_scope(
    locations: Sequence[LocationInfo | Record], location: str | None, repository: str | None
) -> None:
    """Raise ``TargetNotFoundError`` (exit 2) for a location or repository that does not exist.

    A repository is only called unknown when every location it could be in has loaded.
    """
    if location is not None and all(_get(loc, "name") != location for loc in locations):
        names = [_get(loc, "name") for loc in locations]
        raise TargetNotFoundError(
            f"No code location named {location!r}.",
            names,
            hint=f"Known locations: {', '.join(names) or 'none'}.",
        )
    if repository is None:
        return
    scope = [loc for loc in locations if location is None or _get(loc, "name") == location]
    if any(repository in _get(loc, "repositories") for loc in scope):
        return
    if any(not _get(loc, "loaded") for loc in scope):
        return
    names = sorted({r for loc in scope for r in _get(loc, "repositories")})
    raise TargetNotFoundError(
        f"No repository named {repository!r}"
        + (f" in code location {location!r}." if location else "."),
        names,
        hint=f"Known repositories: {', '.join(names) or 'none'}.",
    )


# -- filters ------------------------------------------------------------------------------------


def match_pattern(pattern: str, key_or_name: str) -> bool:
    """Whether an asset key (slash-joined) or a name matches a shell-style ``pattern``.

    ``*`` matches any run of characters, ``/`` included, ``?`` one character and ``[seq]``
    one of ``seq``; the match is case-sensitive and covers the whole key. So ``orders/*``
    matches every key under ``orders/`` at any depth (``orders/raw_orders``,
    ``orders/eu/raw``), and ``*/raw_*`` matches ``orders/raw_orders`` and
    ``customers/raw_customers``. A pattern without ``/`` is also tried against the last
    level of a key, so ``raw_*`` finds ``orders/raw_orders`` and ``raw_orders`` finds it
    too.
    """
    if fnmatch.fnmatchcase(key_or_name, pattern):
        return True
    if "/" not in pattern and "/" in key_or_name:
        last = parse_key(key_or_name)
        return bool(last) and fnmatch.fnmatchcase(format_key(last[-1:]), pattern)
    return False


def parse_tags(text: str) -> dict[str, str]:
    """``"k=v,k2=v2"`` → ``{"k": "v", "k2": "v2"}``; raises ``BadInputError`` (exit 2)."""
    hint = "Write tags as key=value pairs separated by commas, e.g. domain=sales,tier=gold."
    tags: dict[str, str] = {}
    if not text.strip():
        raise BadInputError("No tags given.", hint=hint)
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise BadInputError(f"Malformed tag {item.strip()!r}: expected key=value.", hint=hint)
        if key in tags and tags[key] != value:
            raise BadInputError(f"Tag {key!r} is given twice with different values.", hint=hint)
        tags[key] = value
    return tags


@dataclass(frozen=True)
class EntityFilters:
    """What to keep. Every filter that is set must match; a filter on something an entity
    does not have (tags or a group on a location, say) excludes it.

    ``pattern`` is matched against an asset's key and against other entities' names (see
    ``match_pattern``); ``tags`` (a dict, ``"k=v,k2=v2"`` or a list of ``"k=v"``) must all be
    present with equal values; ``groups`` are asset group names; ``location`` and
    ``repository`` are exact names. Empty values (``None``, ``[]``, ``{}``) filter nothing.
    """

    pattern: str | None = None
    tags: Mapping[str, str] | Iterable[str] | None = None
    groups: Iterable[str] | None = None
    location: str | None = None
    repository: str | None = None
    _tags: dict[str, str] = field(init=False, repr=False, compare=False, default_factory=dict)
    _groups: frozenset[str] = field(init=False, repr=False, compare=False, default=frozenset())

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tags", _tag_dict(self.tags))
        object.__setattr__(self, "_groups", frozenset(self.groups or ()))

    def matches(self, entity: object) -> bool:
        if self.location is not None:
            is_location = _get(entity, "load_status") is not None
            where = _get(entity, "name") if is_location else _get(entity, "location")
            if where != self.location:
                return False
        if self.repository is not None:
            if _get(entity, "load_status") is not None:  # a location
                if self.repository not in _get(entity, "repositories"):
                    return False
            elif _get(entity, "repository") != self.repository:
                return False
        if self._groups and _get(entity, "group") not in self._groups:
            return False
        if self._tags:
            tags = _get(entity, "tags")
            if not isinstance(tags, Mapping):
                return False
            if any(tags.get(k) != v for k, v in self._tags.items()):
                return False
        if self.pattern is not None:
            name = _get(entity, "key") or _get(entity, "name")
            if not isinstance(name, str) or not match_pattern(self.pattern, name):
                return False
        return True


def _get(entity: object, name: str) -> Any:
    """An attribute of a model, or a key of a dict (entities may come back from JSON)."""
    if isinstance(entity, Mapping):
        return entity.get(name)
    return getattr(entity, name, None)


def _tag_dict(tags: Mapping[str, str] | Iterable[str] | None) -> dict[str, str]:
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    if isinstance(tags, str):
        return parse_tags(tags)
    items = list(tags)
    return parse_tags(",".join(items)) if items else {}


T = TypeVar("T")


def filter_entities(entities: Iterable[T], filters: EntityFilters) -> list[T]:
    """The entities that match every filter set in ``filters``, in their order."""
    return [e for e in entities if filters.matches(e)]
