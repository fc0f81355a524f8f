"""Run history: the runs a server has, filtered and newest first, paged in constant memory;
and the one way a run is named (full id, unique prefix of 8+ characters, or an alias).

Dagster filters by status, job, tags and creation time itself; the code location and
"launched by daglab" (the ``daglab/request_id`` tag, whatever its value) are checked here,
page by page, since ``RunsFilter`` has no field for either on every version.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import format_key
from daglab.helpers.errors import setting
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import RunSummary
from daglab.helpers.queries import RUN_IDS_PAGE, RUNS_PAGE
from daglab.helpers.runs.read import PARTITION_TAG, _tag_map, get_run_url
from daglab.helpers.text import plural

# A run named by an alias: the newest run (of the filters), the newest failed one.
ALIASES = ("latest", "last-failure", "last-success")
MIN_PREFIX = 8
PAGE_SIZE = 100
ID_PAGE_SIZE = 1000

_FULL_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_PREFIX = re.compile(r"^[0-9a-f-]+$")
_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days|w|week|weeks)\s*$")
_UNIT = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}


def parse_time(text: str, *, name: str = "since", now: float | None = None) -> float:
    """Epoch seconds for ``2h``/``30m``/``7d`` (that long ago) or an ISO 8601 date or time
    (``2024-01-31``, ``2024-01-31T12:00``, ``...Z``/``+02:00``; no offset means local time)."""
    match = _AGO.match(text.lower())
    if match:
        return (now if now is not None else time.time()) - float(match[1]) * _UNIT[match[2]]
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise errors.BadInputError(
            f"{setting(name, text)}: not a time. Give a duration ago (30m, 2h, 7d) or an ISO "
            "date or time (2024-01-31, 2024-01-31T12:00Z)."
        ) from None
    return value.timestamp()


@dataclass(frozen=True)
class RunFilter:
    """Which runs: any of ``statuses``, of ``job``, carrying all ``tags``, created after
    ``created_after`` and before ``created_before`` (epoch seconds), in ``location``, launched
    by daglab (``launched_by_daglab`` True) or not (False)."""

    statuses: Sequence[str] = ()
    job: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    created_after: float | None = None
    created_before: float | None = None
    location: str | None = None
    launched_by_daglab: bool | None = None

    def server_filter(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.statuses:
            out["statuses"] = [s.upper() for s in self.statuses]
        if self.job:
            out["pipelineName"] = self.job
        if self.tags:
            out["tags"] = [{"key": k, "value": v} for k, v in self.tags.items()]
        if self.created_after is not None:
            out["createdAfter"] = self.created_after
        if self.created_before is not None:
            out["createdBefore"] = self.created_before
        return out

    def matches(self, run: RunSummary) -> bool:
        if self.location is not None and run.location != self.location:
            return False
        return self.launched_by_daglab is None or run.launched_by_daglab == self.launched_by_daglab


def run_filter(
    status: Iterable[str] | str | None = None,
    job: str | None = None,
    tags: Mapping[str, str] | None = None,
    since: str | float | None = None,
    before: str | float | None = None,
    location: str | None = None,
    launched_by_daglab: bool | None = None,
) -> RunFilter:
    """A ``RunFilter`` from what a user gives: one status or several, times as ``"2h"``,
    ``"7d"``, an ISO date or epoch seconds."""

    def when(value: str | float | None, name: str) -> float | None:
        if value is None or isinstance(value, (int, float)):
            return value
        return parse_time(value, name=name)

    statuses = [status] if isinstance(status, str) else list(status or [])
    return RunFilter(
        statuses=tuple(s.upper() for s in statuses),
        job=job,
        tags=dict(tags or {}),
        created_after=when(since, "since"),
        created_before=when(before, "before"),
        location=location,
        launched_by_daglab=launched_by_daglab,
    )


def summary_of(client: DagsterClient | str, run: Mapping[str, Any]) -> RunSummary:
    """A run record of ``RUN_FIELDS`` (queries/runs.py) as a ``RunSummary``."""
    origin = run.get("repositoryOrigin") or {}
    tags = _tag_map(run)
    return RunSummary(
        run_id=run["runId"],
        status=str(run["status"]),
        url=get_run_url(client, run["runId"]),
        job=run.get("jobName"),
        location=origin.get("repositoryLocationName"),
        repository=origin.get("repositoryName"),
        asset_selection=[format_key(k["path"]) for k in run.get("assetSelection") or []],
        partition=tags.get(PARTITION_TAG),
        tags=tags,
        created_at=run.get("creationTime"),
        started_at=run.get("startTime"),
        ended_at=run.get("endTime"),
    )


def _runs(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    payload = data.get("runsOrError")
    if payload is not None and payload.get("__typename") == "InvalidPipelineRunsFilterError":
        raise errors.BadInputError(f"The server refused the run filter: {payload.get('message')}")
    return list(check_union(payload, "Runs", "listing runs").get("results") or [])


async def iter_runs(
    client: DagsterClient,
    filters: RunFilter | None = None,
    *,
    limit: int | None = None,
    page_size: int = PAGE_SIZE,
    after: str | None = None,
) -> AsyncIterator[RunSummary]:
    """The runs matching ``filters``, newest first, at most ``limit`` (None: all), fetched
    ``page_size`` at a time: memory stays flat whatever the number of runs. ``after`` (a run
    id) starts after that run, to go on from the last run of an earlier page."""
    filters = filters or RunFilter()
    server = filters.server_filter()
    cursor: str | None = after
    found = 0
    if limit is not None and limit <= 0:
        return
    while True:
        size = page_size
        if limit is not None and filters.location is None and filters.launched_by_daglab is None:
            size = min(page_size, limit - found)  # every run on the page counts
        data = await client.execute(RUNS_PAGE, {"filter": server, "cursor": cursor, "limit": size})
        page = _runs(data)
        for run in page:
            summary = summary_of(client, run)
            if not filters.matches(summary):
                continue
            yield summary
            found += 1
            if limit is not None and found >= limit:
                return
        if len(page) < size:
            return
        cursor = str(page[-1]["runId"])


async def list_runs(
    client: DagsterClient, filters: RunFilter | None = None, limit: int | None = 20
) -> list[RunSummary]:
    """The first ``limit`` runs matching ``filters``, newest first."""
    return [run async for run in iter_runs(client, filters, limit=limit)]


def _alias_filter(alias: str, filters: RunFilter) -> RunFilter:
    if alias == "last-failure":
        return replace(filters, statuses=("FAILURE",))
    if alias == "last-success":
        return replace(filters, statuses=("SUCCESS",))
    return filters


async def _ids_with_prefix(client: DagsterClient, prefix: str, most: int) -> list[str]:
    found: list[str] = []
    cursor: str | None = None
    while True:
        data = await client.execute(
            RUN_IDS_PAGE, {"filter": {}, "cursor": cursor, "limit": ID_PAGE_SIZE}
        )
        payload = check_union(data.get("runIdsOrError"), "RunIds", "looking up run ids")
        ids = [str(i) for i in payload.get("results") or []]
        found += [i for i in ids if i.startswith(prefix)]
        if len(found) >= most or len(ids) < ID_PAGE_SIZE:
            return found
        cursor = ids[-1]


async def resolve_run_ref(client: DagsterClient, ref: str, filters: RunFilter | None = None) -> str:
    """The full id of the run ``ref`` names: a full id, a unique prefix of at least 8
    characters (what the UI shows), or an alias (``latest``, ``last-failure``,
    ``last-success``: the newest such run among ``filters``). No such run, or a prefix that
    is too short, is ``TargetNotFoundError``/``BadInputError``; an ambiguous one
    ``AmbiguousTargetError`` listing the candidates."""
    text = ref.strip()
    lowered = text.lower()
    if lowered in ALIASES:
        scoped = _alias_filter(lowered, filters or RunFilter())
        async for run in iter_runs(client, scoped, limit=1):
            return run.run_id
        raise errors.TargetNotFoundError(f"No run matches {text!r} (with the filters given).")
    if _FULL_ID.match(lowered):
        return lowered
    if not _PREFIX.match(lowered):
        raise errors.BadInputError(
            f"{text!r} is not a run id: give the full id, a prefix of at least {MIN_PREFIX} "
            f"characters, or one of {', '.join(ALIASES)}."
        )
    if len(lowered) < MIN_PREFIX:
        raise errors.BadInputError(
            f"The run id prefix {text!r} is too short: give at least {MIN_PREFIX} characters."
        )
    matches = await _ids_with_prefix(client, lowered, most=10)
    if not matches:
        raise errors.TargetNotFoundError(f"No run {text!r} on this server.", [])
    if len(matches) > 1:
        shown = "\n".join(f"  {m}" for m in matches)
        raise errors.AmbiguousTargetError(
            f"The run id prefix {text!r} matches {plural(len(matches), 'run')}"
            f"{' (or more)' if len(matches) >= 10 else ''}:\n{shown}",
            matches,
            hint="Give more characters of the id.",
        )
    return matches[0]


def tag_filter(pairs: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` as the tags a run must carry (any tag, daglab's and Dagster's too)."""
    tags: dict[str, str] = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise errors.BadInputError(
                f"Malformed tag {item!r}: expected key=value.",
                hint=f"e.g. {setting('tags', 'team=data')}",
            )
        tags[key.strip()] = value
    return tags
