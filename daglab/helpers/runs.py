"""Launch runs (jobs and asset selections), watch them to the end, cancel them.

Targets are resolved against discovery, so a job or asset can be named without its code
location when that is unambiguous. Every launch carries a unique ``daglab/request_id`` tag:
when a launch response is lost after the request may have reached the server, the run is
looked up by that tag before anything is re-sent, so a flaky network never makes two runs.

Watching polls the run's status and its new events in one request, fast at first and
backing off to ``poll_max`` while nothing happens, so a run's end is noticed well under a
second after it happens. A watcher without a live view (``follow_events=False``) polls the
status alone, batched with every other such watcher on the same client into one query a
round, and reads the event log once, at the end: twenty runs watched at once cost the
webserver one cheap query a round instead of twenty event-log reads. Statuses and event
types are open strings: newer servers add some.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from daglab.helpers import errors
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import AssetInfo, JobInfo, RunError, RunResult, RunSubmitResult
from daglab.helpers.queries import (
    ASSET_PARTITION_KEYS,
    INSTANCE,
    LAUNCH_RUN,
    RUN,
    RUN_EVENTS,
    RUN_PROGRESS,
    RUNS_BY_TAG,
    RUNS_STATUS,
    TERMINATE_RUN,
)
from daglab.helpers.validation import config_problems

REQUEST_ID_TAG = "daglab/request_id"
PARTITION_TAG = "dagster/partition"
TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
TERMINAL_EVENTS = frozenset({"RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED"})
DEFAULT_REPOSITORY = "__repository__"

# How long to keep looking for a run by its request id after a lost launch response, before
# concluding the server never created it and re-sending.
LOOKUP_DELAYS = (0.0, 0.5, 1.0, 2.0)
MAX_LAUNCH_ATTEMPTS = 3
# After the last running step finishes, poll at the fastest rate for this long.
END_NEAR_WINDOW = 10.0


def get_run_url(client: DagsterClient | str, run_id: str) -> str:
    """The run's page in the Dagster UI: ``<url>/runs/<run_id>``."""
    base = client if isinstance(client, str) else client.url
    return f"{base.rstrip('/')}/runs/{run_id}"


# -- targets ------------------------------------------------------------------------------------


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
    from daglab.helpers.discovery import check_scope, discover_locations

    check_scope(await discover_locations(client), location, repository)


async def resolve_job(
    client: DagsterClient, job: str, location: str | None = None, repository: str | None = None
) -> RunTarget:
    """Find ``job``; unknown or ambiguous (same name in two locations) is exit 2."""
    from daglab.helpers.discovery import discover_jobs

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
            hint="Pick one with --location (and --repo if needed).",
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
        else "The server has no jobs there (see `daglab discover --filter jobs`).",
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
    from daglab.helpers.discovery import discover_assets, match_pattern
    from daglab.helpers.selection import parse_selection, resolve_selection

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
                    else "List assets with `daglab discover --filter assets`.",
                )
            if len(found) > 1:
                raise errors.AmbiguousTargetError(
                    f"Asset {key!r} exists in {len(found)} places: "
                    f"{'; '.join(_where(a) for a in found)}.",
                    [f"{a.location}/{a.repository}/{a.key}" for a in found],
                    hint="Pick one with --location (and --repo if needed).",
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
                hint="List assets with `daglab discover --filter assets`.",
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
            hint="Narrow the selection or add --location.",
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
                f"--partition {partition!r} was given, but none of the selected assets is "
                "partitioned."
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
            f"pass --partition KEY{example}."
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


# -- launching ----------------------------------------------------------------------------------


def _launch_error(payload: Mapping[str, Any], target: RunTarget) -> Exception:
    """The daglab error for a launch that the server refused."""
    typename = payload.get("__typename")
    message = payload.get("message") or ""
    if typename == "RunConfigValidationInvalid":
        problems = config_problems(payload)
        return errors.ConfigValidationError(
            f"The run config is not valid for job {target.job!r} "
            f"({len(problems)} problem{'s' if len(problems) != 1 else ''}); nothing was launched.",
            problems,
        )
    if typename == "PipelineNotFoundError":
        return errors.TargetNotFoundError(
            f"The server has no job {target.job!r} in {target.location}/{target.repository}.",
            [],
        )
    if typename == "InvalidSubsetError":
        return errors.SelectionError(f"The server cannot run that selection: {message}")
    if typename == "InvalidStepError":
        return errors.SelectionError(f"Invalid step {payload.get('invalidStepKey')!r}.")
    if typename == "InvalidOutputError":
        return errors.SelectionError(
            f"Invalid output {payload.get('invalidOutputName')!r} of step {payload.get('stepKey')!r}."
        )
    if typename in (
        "ConflictingExecutionParamsError",
        "NoModeProvidedError",
        "PresetNotFoundError",
    ):
        return errors.BadInputError(f"The server refused the launch: {message} ({typename})")
    try:
        check_union(payload, "LaunchRunSuccess", "launching the run")
    except errors.DaglabError as exc:
        return exc
    return errors.BadResponseError(f"Unexpected answer to the launch: {typename}.")


async def find_run_by_request_id(client: DagsterClient, request_id: str) -> dict[str, Any] | None:
    """The run carrying ``daglab/request_id=request_id``, if the server has one."""
    data = await client.execute(
        RUNS_BY_TAG,
        {"filter": {"tags": [{"key": REQUEST_ID_TAG, "value": request_id}]}, "limit": 5},
    )
    runs = check_union(data.get("runsOrError"), "Runs", "looking up a run by its request id")
    results = list(runs.get("results") or [])
    return results[-1] if results else None  # newest first: the last is the first launched


def _may_have_arrived(exc: errors.DaglabError) -> bool:
    """A launch failure after which the server may still have created the run."""
    return isinstance(exc, errors.ServerError) and not isinstance(
        exc, (errors.GraphQLError, errors.DagsterPythonError)
    )


async def launch_run(
    client: DagsterClient,
    target: RunTarget,
    *,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    partition: str | None = None,
    request_id: str | None = None,
) -> RunSubmitResult:
    """Launch one run of ``target``. Never launches twice: see the module docstring."""
    request_id = request_id or uuid.uuid4().hex
    run_tags = dict(tags or {})
    if partition is not None:
        run_tags[PARTITION_TAG] = partition
    run_tags[REQUEST_ID_TAG] = request_id
    selector: dict[str, Any] = {
        "repositoryLocationName": target.location,
        "repositoryName": target.repository,
        "jobName": target.job,
    }
    if target.asset_selection:
        selector["assetSelection"] = [{"path": k.split("/")} for k in target.asset_selection]
    params = {
        "selector": selector,
        "runConfigData": dict(run_config or {}),
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in run_tags.items()]},
    }

    def result(run_id: str, status: str, recovered: bool) -> RunSubmitResult:
        return RunSubmitResult(
            run_id=run_id,
            url=get_run_url(client, run_id),
            status=status,
            job=target.job,
            location=target.location,
            repository=target.repository,
            asset_selection=list(target.asset_selection),
            partition=partition,
            tags=run_tags,
            request_id=request_id,
            recovered=recovered,
        )

    lost: errors.DaglabError | None = None
    for _attempt in range(MAX_LAUNCH_ATTEMPTS):  # re-sent only when surely not created
        try:
            data = await client.execute(LAUNCH_RUN, {"executionParams": params}, retry=False)
        except errors.DaglabError as exc:
            if not _may_have_arrived(exc):
                raise
            lost = exc
            found = await _look_for_lost_launch(client, request_id, exc)
            if found is not None:
                return result(found["runId"], found["status"], recovered=True)
            continue
        payload = data.get("launchRun") or {}
        if payload.get("__typename") == "LaunchRunSuccess":
            run = payload["run"]
            return result(run["runId"], run["status"], recovered=False)
        raise _launch_error(payload, target)
    raise errors.ServerError(
        f"{lost.message if lost else 'The launch failed.'} The launch was sent "
        f"{MAX_LAUNCH_ATTEMPTS} times and the server has no run tagged "
        f"{REQUEST_ID_TAG}={request_id}, so none was created."
    )


async def _look_for_lost_launch(
    client: DagsterClient, request_id: str, cause: errors.DaglabError
) -> dict[str, Any] | None:
    """After a lost launch response: the run, if the server made it; None if surely not."""
    for delay in LOOKUP_DELAYS:
        if delay:
            await asyncio.sleep(delay)
        try:
            found = await find_run_by_request_id(client, request_id)
        except errors.AuthError:
            raise
        except errors.DaglabError:
            if isinstance(cause, errors.UnreachableError) and cause.message.startswith(
                "Cannot reach"
            ):
                raise cause from None  # no connection at all: the launch never left
            raise errors.ServerError(
                f"{cause.message} The run may or may not have been created; it would carry "
                f"the tag {REQUEST_ID_TAG}={request_id}.",
                hint="Check the Dagster UI before launching again.",
            ) from None
        if found is not None:
            return found
    return None


async def submit_job_run(
    client: DagsterClient,
    job_name: str,
    repository: str | None = None,
    location: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    asset_selection: Sequence[str] | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    partition: str | None = None,
) -> RunSubmitResult:
    """Launch ``job_name`` (resolving its location and repository when not given)."""
    if location is not None and repository is not None:
        target = RunTarget(job_name, location, repository)
    else:
        target = await resolve_job(client, job_name, location, repository)
    if asset_selection:
        target = RunTarget(
            target.job, target.location, target.repository, tuple(split_asset_keys(asset_selection))
        )
    return await launch_run(client, target, run_config=run_config, tags=tags, partition=partition)


async def submit_asset_run(
    client: DagsterClient,
    asset_selection: str | Sequence[str],
    repository: str | None = None,
    location: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    partition: str | None = None,
) -> RunSubmitResult:
    """Materialize exactly the assets ``asset_selection`` (keys like ``"orders/raw_orders"``)
    through the implicit asset job that contains them all."""
    target = await resolve_assets(
        client, keys=asset_selection, location=location, repository=repository
    )
    await check_partition(client, target, partition)
    return await launch_run(client, target, run_config=run_config, tags=tags, partition=partition)


# -- reading and cancelling runs -----------------------------------------------------------------


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
        asset_selection=["/".join(k["path"]) for k in selection],
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


class _StatusPoller:
    """The statuses of every run watched without events on one client, in one
    ``runsOrError`` query a round. The poller paces the rounds (fast after any change,
    backing off to ``poll_max`` while nothing changes), so concurrent watchers always share
    them instead of drifting apart on schedules of their own."""

    window = 0.02  # a round waits this long for the watchers that ask at about the same time

    def __init__(self, client: DagsterClient) -> None:
        self.client = client
        self._pending: dict[str, list[asyncio.Future[Mapping[str, Any]]]] = {}
        self._round: asyncio.Task[None] | None = None
        self._last: dict[str, str] = {}
        self._interval = 0.0
        self._next_at = 0.0
        self.poll_min, self.poll_max = 0.1, 1.0

    async def status(
        self, run_id: str, poll_min: float = 0.1, poll_max: float = 1.0
    ) -> Mapping[str, Any]:
        """The run's fields (those of ``get_run``) as of the next round."""
        self.poll_min, self.poll_max = poll_min, poll_max
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Mapping[str, Any]] = loop.create_future()
        self._pending.setdefault(run_id, []).append(future)
        if self._round is None:
            self._round = asyncio.ensure_future(self._send())
        return await future

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(self.window, self._next_at - loop.time()))
        pending, self._pending, self._round = self._pending, {}, None
        try:
            data = await self.client.execute(
                RUNS_STATUS, {"filter": {"runIds": list(pending)}, "limit": len(pending)}
            )
            payload = check_union(data.get("runsOrError"), "Runs", "reading run statuses")
            found = {str(run.get("runId")): run for run in payload.get("results") or []}
        except Exception as exc:  # every watcher of this round sees the failure
            self._next_at = loop.time() + self.poll_max / 2
            for futures in pending.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        changed = False
        for run_id, futures in pending.items():
            run = found.get(run_id)
            if run is not None:
                status = str(run.get("status"))
                changed = changed or self._last.get(run_id) != status
                self._last[run_id] = status
            for future in futures:
                if future.done():  # its watcher was cancelled
                    continue
                if run is not None:
                    future.set_result(run)
                else:
                    future.set_exception(
                        errors.TargetNotFoundError(f"No run {run_id!r} on this server.", [])
                    )
        self._interval = (
            self.poll_min if changed else min(self._interval * 1.5 or self.poll_min, self.poll_max)
        )
        self._next_at = loop.time() + self._interval


_pollers: weakref.WeakKeyDictionary[
    DagsterClient, tuple[asyncio.AbstractEventLoop, _StatusPoller]
] = weakref.WeakKeyDictionary()


def _status_poller(client: DagsterClient) -> _StatusPoller:
    """The client's poller for the running event loop (a notebook may run several)."""
    loop = asyncio.get_running_loop()
    entry = _pollers.get(client)
    if entry is None or entry[0] is not loop:
        entry = (loop, _StatusPoller(client))
        _pollers[client] = entry
    return entry[1]


# Dagster's safe termination accepts only QUEUED and STARTED runs.
SAFELY_CANCELABLE = frozenset({"QUEUED", "STARTED"})


async def _terminate(client: DagsterClient, run_id: str, policy: str) -> Mapping[str, Any]:
    data = await client.execute(
        TERMINATE_RUN, {"runId": run_id, "terminatePolicy": policy}, retry=True
    )
    payload = data.get("terminateRun") or {}
    if payload.get("__typename") == "RunNotFoundError":
        raise errors.TargetNotFoundError(f"No run {run_id!r} on this server.", [])
    if payload.get("__typename") != "TerminateRunFailure":
        check_union(payload, "TerminateRunSuccess", f"canceling run {run_id}")
    return payload


async def cancel_run(
    client: DagsterClient,
    run_id: str,
    force: bool = False,
    wait: float = 0.0,
    starting_grace: float = 10.0,
) -> RunResult:
    """Ask the server to terminate ``run_id``; ``force`` marks it canceled at once.

    Dagster only terminates QUEUED and STARTED runs safely. A run still STARTING gets
    ``starting_grace`` seconds to start; if it does not, it is marked canceled, which is as
    safe at that point: Dagster's run worker never executes a run that is already canceled.
    Returns the run as re-read afterwards (the status ``terminateRun`` embeds is a stale
    snapshot), after waiting up to ``wait`` seconds for a final status. Raises
    ``BadInputError`` if the run already finished, ``TargetNotFoundError`` if there is no
    such run.
    """
    policy = "MARK_AS_CANCELED_IMMEDIATELY" if force else "SAFE_TERMINATE"
    payload = await _terminate(client, run_id, policy)
    grace_ends = time.monotonic() + starting_grace
    delay = 0.1
    while payload.get("__typename") == "TerminateRunFailure":
        current = await get_run(client, run_id)
        if current.status == "CANCELED":
            return current
        if current.finished:
            raise errors.BadInputError(
                f"Run {run_id} cannot be canceled: it already ended {current.status}."
            )
        if current.status in SAFELY_CANCELABLE:
            payload = await _terminate(client, run_id, "SAFE_TERMINATE")
        elif time.monotonic() >= grace_ends:
            payload = await _terminate(client, run_id, "MARK_AS_CANCELED_IMMEDIATELY")
            if payload.get("__typename") == "TerminateRunFailure":
                raise errors.BadInputError(
                    f"Run {run_id} cannot be canceled: {payload.get('message') or current.status}"
                )
        else:
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 1.0)
    deadline = time.monotonic() + wait
    delay = 0.1
    while True:
        current = await get_run(client, run_id)
        if current.finished or time.monotonic() >= deadline:
            return current
        await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 1.0)


# -- watching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressEvent:
    """Something worth telling the user while a run is watched.

    ``kind``: status, step_started, step_succeeded, step_failed, materialized, waiting,
    queued_warning, poll_failed, contact_restored, canceling, timed_out.
    """

    kind: str
    elapsed: float
    status: str | None = None
    step: str | None = None
    asset: str | None = None
    done: int = 0
    total: int | None = None
    message: str | None = None


ProgressCallback = Callable[[ProgressEvent], None]


def _error_of(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(message, class name) of an error event, preferring the user's exception (the cause)
    over Dagster's wrapper."""
    error = event.get("error") or {}
    cause = error.get("cause") or {}
    source = cause if cause.get("message") else error
    message = (source.get("message") or "").strip() or None
    return message, source.get("className")


@dataclass
class _WatchState:
    run_id: str
    status: str | None = None
    run: Mapping[str, Any] | None = None
    cursor: str | None = None
    steps_started: list[str] = field(default_factory=list)
    steps_succeeded: list[str] = field(default_factory=list)
    steps_failed: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    materialized: list[str] = field(default_factory=list)
    error: RunError | None = None
    run_error: RunError | None = None
    saw_terminal_event: bool = False


class RunWatcher:
    """Follows one run: polls status and events, reports progress, stops at the end.

    ``result()`` gives where the run stands at any moment (used for ``--json`` after a
    timeout, a lost connection or Ctrl-C).
    """

    def __init__(
        self,
        client: DagsterClient,
        run_id: str,
        *,
        on_progress: ProgressCallback | None = None,
        poll_min: float = 0.1,
        poll_max: float = 1.0,
        max_poll_failures: int = 5,
        queued_warning_after: float = 30.0,
        heartbeat_every: float = 30.0,
        page_size: int = 1000,
        follow_events: bool = True,
    ) -> None:
        self.client = client
        self.follow_events = follow_events
        self.run_id = run_id
        self.url = get_run_url(client, run_id)
        self.on_progress = on_progress
        self.poll_min = poll_min
        self.poll_max = poll_max
        self.max_poll_failures = max_poll_failures
        self.queued_warning_after = queued_warning_after
        self.heartbeat_every = heartbeat_every
        self.page_size = page_size
        self.state = _WatchState(run_id)
        self.started = time.monotonic()
        self._last_report = self.started
        self._queued_since: float | None = None
        self._queued_warned = False
        self._steps_idle_since: float | None = None  # when the last running step finished
        self.timed_out = False
        self.canceled_by_daglab = False

    # -- reporting ----------------------------------------------------------------------------

    def _emit(self, kind: str, **fields: Any) -> None:
        now = time.monotonic()
        self._last_report = now
        if self.on_progress is not None:
            self.on_progress(ProgressEvent(kind, round(now - self.started, 2), **fields))

    def result(self) -> RunResult:
        s = self.state
        extra: dict[str, Any] = {
            "error": s.error or (s.run_error if s.status in ("FAILURE", "CANCELED") else None),
            "steps_succeeded": list(s.steps_succeeded),
            "steps_failed": list(s.steps_failed),
            "materialized": list(s.materialized),
            "timed_out": self.timed_out,
            "canceled_by_daglab": self.canceled_by_daglab,
        }
        if s.run is None:
            return RunResult(
                run_id=self.run_id, status=s.status or "UNKNOWN", url=self.url, **extra
            )
        return _run_result(self.client, s.run, **extra)

    @property
    def total_assets(self) -> int | None:
        if self.state.planned:
            return len(self.state.planned)
        run = self.state.run or {}
        selection = run.get("assetSelection") or []
        return len(selection) or None

    # -- events -------------------------------------------------------------------------------

    def _handle_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        s = self.state
        for event in events:
            kind = event.get("eventType")
            step = event.get("stepKey")
            if kind == "STEP_START" and step:
                s.steps_started.append(step)
                self._emit("step_started", step=step)
            elif kind == "STEP_SUCCESS" and step:
                s.steps_succeeded.append(step)
                self._emit("step_succeeded", step=step)
            elif kind == "STEP_FAILURE":
                message, class_name = _error_of(event)
                message = message or event.get("message") or "the step failed"
                if step:
                    s.steps_failed.append(step)
                if s.error is None:
                    s.error = RunError(message=message, step=step, class_name=class_name)
                self._emit("step_failed", step=step, message=message)
            elif kind == "ASSET_MATERIALIZATION_PLANNED":
                key = _key_of(event)
                if key and key not in s.planned:
                    s.planned.append(key)
            elif kind == "ASSET_MATERIALIZATION":
                key = _key_of(event)
                if key:
                    s.materialized.append(key)
                    self._emit(
                        "materialized", asset=key, done=len(s.materialized), total=self.total_assets
                    )
            elif kind in TERMINAL_EVENTS:
                s.saw_terminal_event = True
                if kind != "RUN_SUCCESS" and s.run_error is None:
                    message, class_name = _error_of(event)
                    text = event.get("message") or ""
                    if message and message not in text:
                        text = f"{text} {message}".strip()
                    s.run_error = RunError(message=text or kind, class_name=class_name)
            elif (
                kind in ("ENGINE_EVENT", "PIPELINE_FAILURE")
                and event.get("error")
                and s.run_error is None
            ):
                message, class_name = _error_of(event)
                if message:
                    s.run_error = RunError(
                        message=f"{event.get('message') or ''} {message}".strip(),
                        class_name=class_name,
                    )

    def _handle_run(self, run: Mapping[str, Any]) -> None:
        s = self.state
        s.run = run
        status = str(run.get("status"))
        if status != s.status:
            s.status = status
            self._queued_since = time.monotonic() if status == "QUEUED" else None
            self._emit("status", status=status)

    # -- polling ------------------------------------------------------------------------------

    async def _poll(self) -> bool:
        """One round trip (plus pages while the server has more); True if anything new."""
        s = self.state
        if not self.follow_events:
            before = s.status
            poller = _status_poller(self.client)
            self._handle_run(await poller.status(self.run_id, self.poll_min, self.poll_max))
            if s.status in TERMINAL_STATUSES:
                await self._drain()
            return before != s.status
        new = False
        while True:
            data = await self.client.execute(
                RUN_PROGRESS,
                {"runId": self.run_id, "afterCursor": s.cursor, "limit": self.page_size},
            )
            logs = data.get("logsForRun") or {}
            run = _check_run(data.get("runOrError"), self.run_id)
            before = s.status
            final = str(run.get("status")) in TERMINAL_STATUSES
            if not final:  # a new status comes before the events that follow it ...
                self._handle_run(run)
            if logs.get("__typename") == "EventConnection":
                events = logs.get("events") or []
                self._handle_events(events)
                new = new or bool(events)
                s.cursor = logs.get("cursor") or s.cursor
                more = bool(logs.get("hasMore")) and bool(events)
            else:
                more = False
            if final:  # ... and a final status after the events it ends
                self._handle_run(run)
            new = new or before != s.status
            if not more:
                break
        if s.status in TERMINAL_STATUSES and not s.saw_terminal_event:
            await self._drain()
        return new

    async def _drain(self) -> None:
        """Read the last events of a finished run (the status can land before its events)."""
        s = self.state
        while True:
            data = await self.client.execute(
                RUN_EVENTS, {"runId": self.run_id, "afterCursor": s.cursor, "limit": self.page_size}
            )
            logs = data.get("logsForRun") or {}
            if logs.get("__typename") != "EventConnection":
                return
            events = logs.get("events") or []
            self._handle_events(events)
            s.cursor = logs.get("cursor") or s.cursor
            if not logs.get("hasMore") or not events:
                return

    async def _queued_check(self) -> None:
        if self._queued_warned or self._queued_since is None or self.state.status != "QUEUED":
            return
        waited = time.monotonic() - self._queued_since
        if waited < self.queued_warning_after:
            return
        self._queued_warned = True
        message = (
            f"The run is still QUEUED after {waited:.0f}s: the run queue (the dagster-daemon) "
            "may be down or at its concurrency limit."
        )
        try:
            data = await self.client.execute(INSTANCE)
            status = ((data.get("instance") or {}).get("daemonHealth") or {}).get(
                "daemonStatus"
            ) or {}
            if status.get("required") and status.get("healthy") is False:
                message = (
                    f"The run is still QUEUED after {waited:.0f}s and the server reports the "
                    "run queue daemon as not running: is `dagster-daemon run` up?"
                )
        except errors.DaglabError:
            pass
        self._emit("queued_warning", status="QUEUED", message=message)

    async def watch(
        self,
        timeout: float | None = 300.0,
        cancel_on_timeout: bool = False,
        cancel_wait: float = 30.0,
    ) -> RunResult:
        """Follow the run until it ends or ``timeout`` seconds pass (``None``: no limit)."""
        deadline = None if timeout is None else self.started + timeout
        interval = self.poll_min
        failures = 0
        last_failure = ""
        while True:
            try:
                new = await self._poll()
            except (errors.AuthError, errors.TargetNotFoundError):
                raise
            except errors.DaglabError as exc:
                failures += 1
                last_failure = exc.message
                self._emit("poll_failed", message=exc.message, done=failures)
                if failures >= self.max_poll_failures:
                    raise errors.LostContactError(
                        f"Lost contact with the Dagster server while watching run {self.run_id}: "
                        f"{failures} polls in a row failed (last: {last_failure}). The run goes "
                        f"on: {self.url}",
                        self.run_id,
                        self.url,
                    ) from None
                new = False
                interval = max(interval, 0.5)
            else:
                if failures:
                    self._emit("contact_restored", message=f"after {failures} failed polls")
                failures = 0
            if self.state.status in TERMINAL_STATUSES:
                return self.result()
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return await self._on_timeout(timeout or 0.0, cancel_on_timeout, cancel_wait)
            await self._queued_check()
            if now - self._last_report >= self.heartbeat_every:
                self._emit("waiting", status=self.state.status)
            if self.state.saw_terminal_event:
                interval = 0.05  # the final status lands a moment after the final event
            elif new or self._end_is_near(now):
                interval = self.poll_min
            else:
                interval = min(interval * 1.5, self.poll_max)
            if not self.follow_events:
                interval = 0.0  # the status poller paces the rounds it shares
            pause = interval if deadline is None else min(interval, max(0.0, deadline - now))
            await asyncio.sleep(pause)

    def _end_is_near(self, now: float) -> bool:
        """Every step that started has finished, lately: the run's end is usually next, so
        poll fast for a while instead of backing off (the end is noticed sooner)."""
        s = self.state
        done = len(s.steps_succeeded) + len(s.steps_failed)
        if not s.steps_started or done < len(set(s.steps_started)):
            self._steps_idle_since = None
            return False
        if self._steps_idle_since is None:
            self._steps_idle_since = now
        return now - self._steps_idle_since < END_NEAR_WINDOW

    async def _on_timeout(self, timeout: float, cancel: bool, cancel_wait: float) -> RunResult:
        self.timed_out = True
        self._emit("timed_out", status=self.state.status, message=f"{timeout:g}s")
        if not self.follow_events:  # the steps so far, for the result
            with contextlib.suppress(errors.DaglabError):
                await self._drain()
        if not cancel:
            return self.result()
        self._emit("canceling", status=self.state.status)
        await cancel_run(self.client, self.run_id)
        self.canceled_by_daglab = True
        deadline = time.monotonic() + cancel_wait
        interval = self.poll_min
        while time.monotonic() < deadline:
            try:
                new = await self._poll()
            except (errors.AuthError, errors.TargetNotFoundError):
                raise
            except errors.DaglabError:
                new = False
            if self.state.status in TERMINAL_STATUSES:
                break
            interval = self.poll_min if new else min(interval * 1.5, self.poll_max)
            await asyncio.sleep(interval)
        return self.result()


def _key_of(event: Mapping[str, Any]) -> str | None:
    key = event.get("assetKey") or {}
    path = key.get("path")
    return "/".join(path) if path else None


async def monitor_run(
    client: DagsterClient,
    run_id: str,
    timeout: float | None = 300.0,
    *,
    cancel_on_timeout: bool = False,
    on_progress: ProgressCallback | None = None,
    poll_min: float = 0.1,
    poll_max: float = 1.0,
    max_poll_failures: int = 5,
    queued_warning_after: float = 30.0,
    follow_events: bool = True,
) -> RunResult:
    """Watch ``run_id`` until it ends or ``timeout`` passes; return where it stands.

    A finished run's result has ``finished`` set; a timed-out one ``timed_out`` (and, with
    ``cancel_on_timeout``, ``canceled_by_daglab``). Several failed polls in a row raise
    ``LostContactError``; a single one is retried. ``follow_events=False`` polls only the
    status (batched with other watchers on ``client``) and reads the events at the end:
    ``on_progress`` then hears of status changes only.
    """
    watcher = RunWatcher(
        client,
        run_id,
        on_progress=on_progress,
        poll_min=poll_min,
        poll_max=poll_max,
        max_poll_failures=max_poll_failures,
        queued_warning_after=queued_warning_after,
        follow_events=follow_events,
    )
    return await watcher.watch(timeout, cancel_on_timeout)


def parse_run_tags(items: Iterable[str]) -> dict[str, str]:
    """``["k=v", ...]`` (from repeated ``--tag``) → a dict; malformed is exit 2."""
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise errors.BadInputError(
                f"Malformed --tag {item!r}: expected key=value.", hint="e.g. --tag team=data"
            )
        if key in (REQUEST_ID_TAG, PARTITION_TAG):
            raise errors.BadInputError(
                f"Tag {key!r} is set by daglab itself"
                + (" (use --partition KEY)." if key == PARTITION_TAG else ".")
            )
        tags[key] = value.strip()
    return tags
