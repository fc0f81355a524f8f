"""The notebook helpers that operate runs after launch: history, one run in full, its event
log and captured logs, re-execution, backfills; and asset health and checks. Async, on the session's target and pooled
client (``daglab.helpers.session``); ``daglab.helpers.sync`` has their blocking twins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from daglab.helpers import runs
from daglab.helpers.display import tag_dict
from daglab.helpers.session import _client, _Watched

if TYPE_CHECKING:
    from daglab.helpers.display import CheckList, HealthList, MaterializationList
    from daglab.helpers.models import (
        AssetCheckInfo,
        AssetHealth,
        BackfillInfo,
        MaterializationRecord,
        RunDetails,
        RunEvent,
        RunResult,
        RunSummary,
    )


def _run_filter(
    status: Iterable[str] | str | None,
    job: str | None,
    tags: Mapping[str, str] | Iterable[str] | str | None,
    since: str | float | None,
    before: str | float | None,
    location: str | None,
    launched_by_daglab: bool | None,
) -> Any:
    from daglab.helpers.runs.history import run_filter

    return run_filter(status, job, tag_dict(tags), since, before, location, launched_by_daglab)


async def list_runs(
    status: Iterable[str] | str | None = None,
    job: str | None = None,
    *,
    tags: Mapping[str, str] | Iterable[str] | str | None = None,
    since: str | float | None = None,
    before: str | float | None = None,
    location: str | None = None,
    launched_by_daglab: bool | None = None,
    limit: int | None = 20,
) -> list[RunSummary]:
    """The server's runs, newest first, at most ``limit`` (None: all, paged in constant
    memory): by ``status`` (one or several), ``job``, ``tags``, created after ``since`` /
    before ``before`` (``"2h"``, ``"7d"``, an ISO date, or epoch seconds), code ``location``,
    and whether daglab launched them."""
    from daglab.helpers.runs.history import list_runs as _list_runs

    filters = _run_filter(status, job, tags, since, before, location, launched_by_daglab)
    return await _list_runs(_client(), filters, limit)


async def resolve_run(run: str, *, job: str | None = None, status: str | None = None) -> str:
    """The full id of ``run``: a full id, a unique prefix of 8+ characters, or ``latest`` /
    ``last-failure`` / ``last-success`` (of ``job``, ``status`` when given)."""
    from daglab.helpers.runs.history import resolve_run_ref

    return await resolve_run_ref(
        _client(), run, _run_filter(status, job, None, None, None, None, None)
    )


async def get_run_details(run: str) -> RunDetails:
    """One run in full: steps, materializations, the failing step with its causes."""
    from daglab.helpers.runs.logs import get_run_details as _details

    client = _client()
    return await _details(client, await resolve_run(run))


async def get_run_logs(
    run: str,
    *,
    levels: Iterable[str] = (),
    steps: Iterable[str] = (),
    types: Iterable[str] = (),
) -> list[RunEvent]:
    """The run's event log (so far), filtered by level, step and event type."""
    from daglab.helpers.runs.logs import EventFilter, EventLog

    log = EventLog(
        _client(),
        await resolve_run(run),
        EventFilter(levels=tuple(levels), steps=tuple(steps), types=tuple(types)),
    )
    return [event async for event in log.events()]


async def get_step_logs(run: str, step: str | None = None, stream: str = "stderr") -> str:
    """The captured ``stream`` (stdout or stderr) of ``step`` (default: the run's only or
    failed step), made safe to show. Raises ``TargetNotFoundError`` when the instance keeps
    none for it."""
    from daglab.helpers.errors import TargetNotFoundError
    from daglab.helpers.runs.logs import captured_log_info, read_captured
    from daglab.helpers.text import clean

    client = _client()
    run_id = await resolve_run(run)
    info, log_key = await captured_log_info(client, run_id, step, stream)
    if not info.kept:
        raise TargetNotFoundError(
            f"No captured {stream} for step {step} of run {run_id}: the instance keeps no "
            "compute logs, or the step wrote none.",
            [],
        )
    return "".join([clean(text) async for text in read_captured(client, log_key, stream)])


async def rerun(
    run: str,
    *,
    from_failure: bool = False,
    steps: Iterable[str] | None = None,
    tags: Mapping[str, str] | None = None,
    wait: bool = True,
    timeout: float | None = None,
    cancel_on_timeout: bool = False,
    progress: bool | None = None,
) -> RunResult:
    """Re-execute ``run`` (every step, ``from_failure``, or exactly ``steps``) and, with
    ``wait``, watch the new run to its end, like ``run_job``."""
    from daglab.helpers.runs.reexecute import ALL_STEPS, FROM_FAILURE

    client = _client()
    parent = await resolve_run(run)
    request = runs.RunRequest(tags=dict(tags or {}))
    watched = _Watched(client, request, f"rerun of {parent[:8]}", progress)
    return await watched.rerun(
        parent,
        FROM_FAILURE if from_failure else ALL_STEPS,
        list(steps) if steps else None,
        wait=wait,
        timeout=timeout,
        cancel_on_timeout=cancel_on_timeout,
    )


async def backfill(
    partitions: Iterable[str] | None = None,
    *,
    partition_range: str | None = None,
    job: str | None = None,
    asset_selection: Iterable[str] | str | None = None,
    pattern: str | None = None,
    select: str | None = None,
    location: str | None = None,
    repository: str | None = None,
    tags: Mapping[str, str] | None = None,
    wait: bool = True,
    timeout: float | None = None,
) -> BackfillInfo:
    """Backfill ``partitions`` (keys) or ``partition_range`` (``"START...END"``, inclusive)
    of a partitioned ``job`` or of assets (``asset_selection``, ``pattern`` or ``select``),
    and with ``wait`` poll it to its end. Returns it with its partition counts; check
    ``succeeded_all``. A timeout raises ``RunTimeoutError`` (the backfill goes on)."""
    from daglab.helpers.errors import RunTimeoutError
    from daglab.helpers.runs import backfills as _backfills

    runs.require_one_target(
        {"job": job, "asset_selection": asset_selection, "pattern": pattern, "select": select}
    )
    client = _client()
    keys: str | list[str] | None = None
    if asset_selection is not None:
        keys = asset_selection if isinstance(asset_selection, str) else list(asset_selection)
    target = await _backfills.resolve_backfill_target(
        client,
        job=job,
        asset_selection=keys,
        pattern=pattern,
        select=select,
        location=location,
        repository=repository,
    )
    chosen = await _backfills.choose_partitions(
        client, target, list(partitions) if partitions is not None else None, partition_range
    )
    info = await _backfills.launch_backfill(client, target, chosen, tags=tags)
    if not wait:
        return info
    info = await _backfills.watch_backfill(client, info.backfill_id, timeout)
    problem = _backfills.backfill_error(info)
    if isinstance(problem, RunTimeoutError):
        raise problem
    return info


async def get_backfill(backfill_id: str) -> BackfillInfo:
    """A backfill and its partition counts."""
    from daglab.helpers.runs.backfills import get_backfill as _get

    return await _get(_client(), backfill_id)


async def list_backfills(status: str | None = None, limit: int = 20) -> list[BackfillInfo]:
    """The newest backfills (of ``status``)."""
    from daglab.helpers.runs.backfills import list_backfills as _list

    return await _list(_client(), status, limit)


async def wait_for_backfill(backfill_id: str, timeout: float | None = None) -> BackfillInfo:
    """Poll a backfill to its end; a timeout raises ``RunTimeoutError``."""
    from daglab.helpers.errors import RunTimeoutError
    from daglab.helpers.runs import backfills as _backfills

    info = await _backfills.watch_backfill(_client(), backfill_id, timeout)
    problem = _backfills.backfill_error(info)
    if isinstance(problem, RunTimeoutError):
        raise problem
    return info


async def cancel_backfill(backfill_id: str) -> BackfillInfo:
    """Cancel a backfill (no new runs)."""
    from daglab.helpers.runs.backfills import cancel_backfill as _cancel

    return await _cancel(_client(), backfill_id)


async def resume_backfill(backfill_id: str) -> BackfillInfo:
    """Resume a failed or canceled backfill."""
    from daglab.helpers.runs.backfills import resume_backfill as _resume

    return await _resume(_client(), backfill_id)


# -- asset health and checks -------------------------------------------------------------------


async def _chosen_assets(
    asset_selection: Iterable[str] | str | None,
    pattern: str | None,
    select: str | None,
    location: str | None,
    repository: str | None,
) -> list[Any]:
    from daglab.helpers.assets import select_assets

    keys: str | list[str] | None = None
    if asset_selection is not None:
        keys = asset_selection if isinstance(asset_selection, str) else list(asset_selection)
    return await select_assets(
        _client(),
        keys=keys,
        pattern=pattern,
        select=select,
        location=location,
        repository=repository,
    )


async def asset_status(
    asset_selection: Iterable[str] | str | None = None,
    *,
    pattern: str | None = None,
    select: str | None = None,
    location: str | None = None,
    repository: str | None = None,
    partitions: bool = False,
) -> HealthList[AssetHealth]:
    """The health of assets (keys, a ``pattern``, or a ``select`` expression; none: all):
    latest materialization and its metadata, runs in flight, staleness, partition counts
    (with ``partitions``: the missing, failed and in-progress keys), checks. Shows as a table."""
    from daglab.helpers.assets import asset_health
    from daglab.helpers.display import HealthList

    assets = await _chosen_assets(asset_selection, pattern, select, location, repository)
    return HealthList(await asset_health(_client(), assets, partition_keys=partitions))


async def asset_history(
    key: str, limit: int | None = 20, *, before: str | float | None = None
) -> MaterializationList[MaterializationRecord]:
    """The materializations of asset ``key``, newest first, with their metadata (at most
    ``limit``; None: all), before ``before`` (``"2h"``, an ISO date, or epoch seconds)."""
    from daglab.helpers.assets import asset_history as _history
    from daglab.helpers.display import MaterializationList
    from daglab.helpers.runs.history import parse_time

    cutoff = parse_time(before, name="before") if isinstance(before, str) else before
    return MaterializationList(await _history(_client(), key, limit, before=cutoff))


async def list_checks(
    asset_selection: Iterable[str] | str | None = None,
    *,
    pattern: str | None = None,
    select: str | None = None,
    location: str | None = None,
    repository: str | None = None,
    checks: Iterable[str] | None = None,
) -> CheckList[AssetCheckInfo]:
    """The asset checks of the chosen assets (or only ``checks`` by name) with their latest
    execution, severity and blocking."""
    from daglab.helpers.assets import choose_checks
    from daglab.helpers.assets import list_checks as _list
    from daglab.helpers.display import CheckList

    assets = await _chosen_assets(asset_selection, pattern, select, location, repository)
    return CheckList(choose_checks(await _list(_client(), assets), checks))


async def run_checks(
    asset_selection: Iterable[str] | str | None = None,
    *,
    pattern: str | None = None,
    select: str | None = None,
    location: str | None = None,
    repository: str | None = None,
    checks: Iterable[str] | None = None,
    tags: Mapping[str, str] | None = None,
    wait: bool = True,
    timeout: float | None = None,
    progress: bool | None = None,
) -> RunResult:
    """Run the chosen asset checks (no materialization) and, with ``wait``, watch the run
    like ``run_assets``; ``result.ok`` is False when a check of severity ERROR failed."""
    from daglab.helpers.assets import checks_target, choose_checks
    from daglab.helpers.assets import list_checks as _list
    from daglab.helpers.text import plural

    client = _client()
    assets = await _chosen_assets(asset_selection, pattern, select, location, repository)
    chosen = choose_checks(await _list(client, assets), checks)
    target = checks_target(chosen)
    request = runs.RunRequest(tags=dict(tags or {}))
    watched = _Watched(client, request, plural(len(chosen), "check"), progress)
    watched.workflow.target = target
    return await watched.run(wait=wait, timeout=timeout, cancel_on_timeout=False)


__all__ = [
    "asset_history",
    "asset_status",
    "backfill",
    "cancel_backfill",
    "get_backfill",
    "get_run_details",
    "get_run_logs",
    "get_step_logs",
    "list_backfills",
    "list_checks",
    "list_runs",
    "rerun",
    "resolve_run",
    "resume_backfill",
    "run_checks",
    "wait_for_backfill",
]
