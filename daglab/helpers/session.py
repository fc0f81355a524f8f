"""The async core of the notebook API (``daglab.helpers``); ``daglab.helpers.sync`` wraps it.

One process-wide session holds the target and one pooled ``DagsterClient`` per target and
event loop: every cell of a notebook reuses the same connections (a client cannot move
between event loops, so the sync twin, which runs on its own background loop, has its own).
The target is what ``connect`` chose, else the CLI's resolution (environment, profile, a
running ``daglab dev``, ``http://localhost:3000``), resolved once per session.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab.helpers import errors, runs
from daglab.helpers import memory as _state
from daglab.helpers.config import ConnectionSettings, resolve_connection
from daglab.helpers.display import (
    AssetList,
    JobList,
    LocationList,
    RunList,
    html_table,
    install_formatters,
    tag_dict,
)
from daglab.helpers.errors import BadInputError
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.performance import PerformanceMetrics, track_async
from daglab.helpers.progress import Progress, _QueuedProgress, open_progress
from daglab.helpers.text import plural

if TYPE_CHECKING:
    import httpx

    from daglab.helpers.models import (
        AssetInfo,
        JobInfo,
        LocationInfo,
        RunResult,
        ValidationResult,
    )


# -- the session -------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Connection:
    """Where the helpers talk to, as ``connect`` found it. Holds no credentials."""

    url: str
    url_source: str
    auth_source: str
    profile: str | None
    version: str | None = None
    locations: list[LocationInfo] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"Connected to {self.url} (from {self.url_source})",
            f"Credentials: {self.auth_source}",
        ]
        if self.version:
            lines.append(f"Dagster {self.version}")
        for loc in self.locations:
            lines.append(f"  {loc.name}: {loc.load_status}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        head = (
            f"<p><b>Connected</b> to <code>{html.escape(self.url)}</code> "
            f"(from {html.escape(self.url_source)}) · credentials: "
            f"{html.escape(self.auth_source)}"
            + (f" · Dagster {html.escape(self.version)}" if self.version else "")
            + "</p>"
        )
        if not self.locations:
            return head
        return head + html_table(
            ["location", "status", "repositories"],
            [[loc.name, loc.load_status, loc.repositories] for loc in self.locations],
        )


def _target_key(settings: ConnectionSettings) -> tuple[str, str, str]:
    secrets = settings.auth.secrets() if settings.auth is not None else []
    digest = hashlib.sha256("\0".join(secrets).encode()).hexdigest()
    return settings.url, f"{settings.auth_source}:{digest}", repr(settings.http_timeout)


class Session:
    """Target, clients and caches shared by every helper call in this process.

    ``transport`` carries the requests of every client the session makes, unless ``connect``
    names another (the test seam: ``Session(transport=MockDagster().transport())``).
    """

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._lock = threading.RLock()
        self._settings: ConnectionSettings | None = None
        self._explicit = False
        self._default_transport = transport
        self._transport = transport
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[object, ...], DagsterClient]
        ] = weakref.WeakKeyDictionary()

    def settings(self) -> ConnectionSettings:
        with self._lock:
            if self._settings is None:
                self._settings = resolve_connection()
                _state.remember_target(self._settings)
            return self._settings

    def set_settings(
        self,
        settings: ConnectionSettings,
        *,
        explicit: bool,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        with self._lock:
            self._settings = settings
            self._transport = self._default_transport if transport is None else transport
            self._explicit = self._explicit or explicit
        _state.remember_target(settings)

    @property
    def explicit(self) -> bool:
        return self._explicit

    def client(self) -> DagsterClient:
        """The pooled client for the current target on the running event loop."""
        loop = asyncio.get_running_loop()
        settings = self.settings()
        with self._lock:
            key = (*_target_key(settings), self._transport)
            for stale in [lp for lp in list(self._clients) if lp.is_closed()]:
                self._clients.pop(stale, None)
            per_loop = self._clients.setdefault(loop, {})
            client = per_loop.get(key)
            if client is None:
                client = DagsterClient.from_settings(settings, transport=self._transport)
                per_loop[key] = client
            return client

    async def aclose(self) -> None:
        """Close this event loop's clients."""
        loop = asyncio.get_running_loop()
        with self._lock:
            clients = list(self._clients.pop(loop, {}).values())
        for client in clients:
            await client.aclose()


_session = Session()


def get_session() -> Session:
    return _session


def adopt_target(target: Mapping[str, str | None]) -> None:
    """Use a target recovered from a saved state, unless ``connect`` already chose one.

    Credentials are resolved again (environment, profile); none are ever saved.
    """
    if _session.explicit:
        return
    url = target.get("url")
    if not url:
        return
    source = target.get("url_source") or ""
    try:
        if source.startswith("profile") and target.get("profile"):
            settings = resolve_connection(profile=target.get("profile"))
        elif source.startswith(("env", "default", "daglab dev")):
            settings = resolve_connection()
            if settings.url != url:
                settings = resolve_connection(url=url, profile=target.get("profile"))
        else:
            settings = resolve_connection(url=url, profile=target.get("profile"))
    except BadInputError:
        settings = resolve_connection(url=url)
    _session.set_settings(settings, explicit=False)


def _client() -> DagsterClient:
    install_formatters()
    return _session.client()


# -- connecting and discovering ----------------------------------------------------------------


@errors.guard_shapes
async def connect(
    url: str | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    auth_token: str | None = None,
    auth_type: str | None = None,
    profile: str | None = None,
    http_timeout: float | None = None,
    state_path: str | os.PathLike[str] | None = None,
    check: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Connection:
    """Choose the Dagster server the helpers talk to (same resolution as the CLI: arguments,
    then ``DAGLAB_URL``/``DAGLAB_TOKEN``/``DAGLAB_PROFILE``, the profile, a running
    ``daglab dev``, ``http://localhost:3000``) and, with ``check``, make sure it answers.

    ``state_path`` saves the session state there (see ``daglab.helpers.state``).
    ``transport`` (an ``httpx.AsyncBaseTransport``) carries every request of the session's
    clients, e.g. ``MockDagster().transport()`` in tests.
    """
    from daglab.helpers.discovery import discover_locations as _discover_locations

    settings = resolve_connection(
        url=url,
        host=host,
        port=port,
        auth_token=auth_token,
        auth_type=auth_type,
        profile=profile,
        http_timeout=http_timeout,
    )
    if state_path is not None:
        _state.set_path(state_path)
    _session.set_settings(settings, explicit=True, transport=transport)
    install_formatters()
    version = None
    locations: list[LocationInfo] = []
    if check:
        client = _client()
        version = await client.server_version()
        locations = await _discover_locations(client)
    return Connection(
        url=settings.url,
        url_source=settings.url_source,
        auth_source=settings.auth_source,
        profile=settings.profile,
        version=version,
        locations=LocationList(locations),
    )


async def close() -> None:
    """Close the pooled connections of this event loop (the next call opens new ones)."""
    await _session.aclose()


@errors.guard_shapes
async def discover_locations(location: str | None = None) -> LocationList[LocationInfo]:
    """Every code location with its load status; one that failed carries its error."""
    from daglab.helpers.discovery import discover_locations as _discover_locations

    return LocationList(await _discover_locations(_client(), location))


@errors.guard_shapes
async def discover_jobs(
    repository: str | None = None,
    location: str | None = None,
    pattern: str | None = None,
    *,
    tags: Mapping[str, str] | Iterable[str] | str | None = None,
) -> JobList[JobInfo]:
    """The jobs of every loaded code location (or of ``location``/``repository``), optionally
    only those whose name matches the glob ``pattern`` and that carry ``tags``."""
    from daglab.helpers.discovery import EntityFilters, discover, filter_entities

    found = await discover(_client(), ["jobs"], location, repository)
    jobs = found.jobs or []
    _state.remember_discovered(jobs=[f"{j.location}/{j.repository}/{j.name}" for j in jobs])
    filters = EntityFilters(pattern=pattern, tags=tag_dict(tags))
    return JobList(filter_entities(jobs, filters))


async def _all_assets(location: str | None, repository: str | None) -> list[AssetInfo]:
    from daglab.helpers.discovery import discover

    found = await discover(_client(), ["assets"], location, repository)
    return found.assets or []


@errors.guard_shapes
async def discover_assets(
    repository: str | None = None,
    location: str | None = None,
    pattern: str | None = None,
    *,
    tags: Mapping[str, str] | Iterable[str] | str | None = None,
    groups: Iterable[str] | None = None,
    select: str | None = None,
) -> AssetList[AssetInfo]:
    """The asset definitions of every loaded code location (or of ``location``/``repository``),
    narrowed by a glob ``pattern`` on keys (``"orders/*"``), ``tags``, ``groups``, and/or a
    Dagster asset selection ``select`` (``"group:orders+"``)."""
    from daglab.helpers.discovery import EntityFilters, filter_entities

    assets = await _all_assets(location, repository)
    _state.remember_discovered(assets=[a.key for a in assets])
    if select:
        from daglab.helpers.discovery import select_among

        assets = await select_among(_client(), select, assets)
    filters = EntityFilters(
        pattern=pattern, tags=tag_dict(tags), groups=list(groups) if groups else None
    )
    return AssetList(filter_entities(assets, filters))


# -- config ----------------------------------------------------------------------------------


def load_config_from_file(config_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a run-config file (YAML, or JSON for ``.json``); a parse error names the line."""
    from daglab.helpers.checks import load_run_config

    return load_run_config(Path(config_path))


@errors.guard_shapes
async def validate_config(
    job_name: str,
    run_config: Mapping[str, Any] | None = None,
    repository: str | None = None,
    location: str | None = None,
) -> ValidationResult:
    """Ask the server whether ``run_config`` is valid for the job; every problem has its path.

    The job's location and repository are found automatically when its name is unique.
    """
    request = runs.RunRequest(
        job=job_name, location=location, repository=repository, run_config=dict(run_config or {})
    )
    return await runs.RunWorkflow(_client(), request).validate()


# -- runs ---------------------------------------------------------------------------------------


class _Watched:
    """The run workflow with the notebook's face: the session state remembers the run, and
    a live view (in Jupyter, or a terminal) shows its progress."""

    def __init__(
        self, client: DagsterClient, request: runs.RunRequest, label: str, progress: bool | None
    ) -> None:
        self.label = label
        self.progress = progress
        self.view: Progress | _QueuedProgress | None = None
        self.workflow = runs.RunWorkflow(
            client, request, on_launched=_state.remember_run, on_progress=self.on_progress
        )
        self.run_id: str | None = None
        self.url: str | None = None

    def on_progress(self, event: runs.ProgressEvent) -> None:
        if event.kind == "status" and event.status and self.run_id:
            _state.remember_status(self.run_id, event.status)
        if self.view is not None:
            detail = None if event.kind == "status" else runs.describe(event)
            self.view.update(status=event.status, run_id=self.run_id, url=self.url, detail=detail)

    async def run(self, *, wait: bool, timeout: float | None, cancel_on_timeout: bool) -> RunResult:
        submitted = await self.workflow.launch()
        if not wait:
            return runs.submitted_result(submitted)
        return await self.watch(submitted.run_id, submitted.url, timeout, cancel_on_timeout)

    async def rerun(
        self,
        parent_run_id: str,
        strategy: str,
        steps: list[str] | None,
        *,
        wait: bool,
        timeout: float | None,
        cancel_on_timeout: bool,
    ) -> RunResult:
        submitted = await self.workflow.reexecute(parent_run_id, strategy, steps)
        if not wait:
            return runs.submitted_result(submitted)
        return await self.watch(submitted.run_id, submitted.url, timeout, cancel_on_timeout)

    async def watch(
        self, run_id: str, url: str, timeout: float | None, cancel_on_timeout: bool
    ) -> RunResult:
        self.run_id, self.url = run_id, url
        self.view = open_progress(self.label, self.progress)
        self.workflow.follow_events = self.view is not None  # else only the status is polled
        # Nothing is shown before the server tells the run's status (the first poll): a
        # guessed STARTING would come before a real QUEUED.
        try:
            result = await self.workflow.watch_run(run_id, timeout, cancel_on_timeout)
        except BaseException:
            if self.view is not None:
                self.view.update(detail="stopped watching; the run goes on")
                self.view.finish()
            raise
        _state.remember_run(result)
        if self.view is not None:
            self.view.finish(result)
        return runs.check_outcome(result)


@errors.guard_shapes
async def run_job(
    job_name: str,
    repository: str | None = None,
    location: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    wait: bool = True,
    *,
    tags: Mapping[str, str] | None = None,
    partition: str | None = None,
    timeout: float | None = None,
    cancel_on_timeout: bool = False,
    progress: bool | None = None,
) -> RunResult:
    """Launch a run of ``job_name`` and, with ``wait``, watch it to the end (live progress in
    a notebook or terminal). Returns the run as it ended, or as launched with ``wait=False``.
    The location and repository are found automatically when the job's name is unique.

    A failed run is returned, not raised: check ``result.succeeded``. After ``timeout``
    seconds (default: no limit) ``RunTimeoutError`` is raised, carrying the run as it stood;
    the run goes on (it stays in the session state), unless ``cancel_on_timeout`` canceled it.
    """
    request = runs.RunRequest(
        job=job_name,
        location=location,
        repository=repository,
        run_config=dict(run_config or {}),
        tags=dict(tags or {}),
        partition=partition,
    )
    watched = _Watched(_client(), request, f"job {job_name}", progress)
    return await watched.run(wait=wait, timeout=timeout, cancel_on_timeout=cancel_on_timeout)


@errors.guard_shapes
async def run_assets(
    asset_selection: Iterable[str] | str | None = None,
    repository: str | None = None,
    location: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    wait: bool = True,
    *,
    pattern: str | None = None,
    select: str | None = None,
    partition: str | None = None,
    tags: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cancel_on_timeout: bool = False,
    progress: bool | None = None,
) -> RunResult:
    """Materialize assets in one run: exact keys (``["orders/raw_orders", ...]`` or
    ``"a/b,c/d"``), a glob ``pattern`` on keys (``"orders/*"``), or an asset selection
    ``select`` (``"group:orders+"``), exactly one of them. Otherwise like ``run_job``."""
    runs.require_one_target(
        {"asset_selection": asset_selection, "pattern": pattern, "select": select}
    )
    keys: str | list[str] | None = None
    if asset_selection is not None:
        keys = asset_selection if isinstance(asset_selection, str) else list(asset_selection)
    request = runs.RunRequest(
        asset_selection=keys,
        pattern=pattern,
        select=select,
        location=location,
        repository=repository,
        run_config=dict(run_config or {}),
        tags=dict(tags or {}),
        partition=partition,
    )
    watched = _Watched(_client(), request, "assets", progress)
    target = await watched.workflow.resolve()
    watched.label = plural(len(target.asset_selection), "asset")
    return await watched.run(wait=wait, timeout=timeout, cancel_on_timeout=cancel_on_timeout)


@errors.guard_shapes
async def get_run(run_id: str) -> RunResult:
    """Where a run stands now (any run on the server, not only this session's)."""
    result = await runs.get_run(_client(), run_id)
    if run_id in _state.current().runs:
        _state.remember_run(result)
    return result


@errors.guard_shapes
async def wait_for_run(
    run_id: str,
    timeout: float | None = None,
    cancel_on_timeout: bool = False,
    progress: bool | None = None,
) -> RunResult:
    """Watch any run to the end (live progress), like ``run_job`` does after launching."""
    client = _client()
    watched = _Watched(client, runs.RunRequest(), f"run {run_id[:8]}", progress)
    return await watched.watch(run_id, runs.get_run_url(client, run_id), timeout, cancel_on_timeout)


@errors.guard_shapes
async def cancel_run(run_id: str, force: bool = False, wait: float = 10.0) -> RunResult:
    """Ask the server to terminate a run (``force``: mark it canceled at once) and wait up to
    ``wait`` seconds for it to end; returns the run as it then stands."""
    result = await runs.cancel_run(_client(), run_id, force=force, wait=wait)
    if run_id in _state.current().runs:
        _state.remember_run(result)
    return result


@errors.guard_shapes
async def refresh_runs() -> RunList[RunResult]:
    """Look up the session's runs that were in flight and update their state; a run the
    server no longer has is marked ``NOT_FOUND``."""
    from daglab.helpers.errors import TargetNotFoundError

    async def one(run_id: str) -> RunResult | None:
        try:
            return await get_run(run_id)
        except TargetNotFoundError:
            _state.remember_status(run_id, _state.NOT_FOUND)
            return None

    found = await asyncio.gather(*(one(run.run_id) for run in _state.current().in_flight))
    return RunList([r for r in found if r is not None])


@errors.guard_shapes
async def resume_runs(
    timeout: float | None = None, progress: bool | None = None
) -> RunList[RunResult]:
    """Watch every run of this session still in flight to the end, one after the other
    (e.g. after ``state.load()`` in a restarted kernel); ``timeout`` applies to each.
    Returns their results."""
    out: RunList[RunResult] = RunList()
    for run in _state.current().in_flight:
        out.append(await wait_for_run(run.run_id, timeout=timeout, progress=progress))
    return out


# -- performance ------------------------------------------------------------------------------


async def track_performance(
    operation: str, func: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, PerformanceMetrics]:
    """Call ``func(*args, **kwargs)`` (awaiting it if it is async) and measure wall time, CPU
    time and peak memory; the measurement is kept for ``performance_report()``."""
    return await track_async(operation, func, *args, **kwargs)


__all__ = [
    "Connection",
    "cancel_run",
    "close",
    "connect",
    "discover_assets",
    "discover_jobs",
    "discover_locations",
    "get_run",
    "load_config_from_file",
    "refresh_runs",
    "resume_runs",
    "run_assets",
    "run_job",
    "track_performance",
    "validate_config",
    "wait_for_run",
]
