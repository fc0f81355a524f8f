"""Watching a run to its end, and what is worth telling the user on the way.

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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import format_key
from daglab.helpers.errors import operation
from daglab.helpers.graphql import DagsterClient, bounded
from daglab.helpers.models import CheckResult, RunError, RunResult
from daglab.helpers.queries import INSTANCE, RUN_EVENTS, RUN_PROGRESS, RUN_QUEUE_CONFIG
from daglab.helpers.runs.control import cancel_run
from daglab.helpers.runs.events import (
    CRASH_CLASS,
    ProgressCallback,
    ProgressEvent,
    crash_reason,
    error_of,
)
from daglab.helpers.runs.poller import status_poller
from daglab.helpers.runs.read import _check_run, _run_result, execute_page, get_run_url
from daglab.helpers.statuses import TERMINAL_EVENTS, TERMINAL_STATUSES, parse_tag_limits
from daglab.helpers.text import clean, plural

# After the last running step finishes, poll at the fastest rate for this long.
END_NEAR_WINDOW = 10.0
# How long past its deadline a wait may take to notice it (one slow poll cut short).
DEADLINE_GRACE = 1.0


@dataclass
class _WatchState:
    run_id: str
    status: str | None = None
    run: Mapping[str, Any] | None = None
    cursor: str | None = None
    steps_started: list[str] = field(default_factory=list)
    steps_succeeded: list[str] = field(default_factory=list)
    steps_failed: list[str] = field(default_factory=list)
    steps_skipped: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    materialized: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    check_steps: set[str] = field(default_factory=set)  # steps that only evaluate checks
    materializing_steps: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    error: RunError | None = None
    run_error: RunError | None = None
    saw_terminal_event: bool = False
    # Why a step's process died, from the executor's engine event before its STEP_FAILURE
    # (whose own error is only "ChildProcessCrashException").
    crashes: dict[str, str] = field(default_factory=dict)


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
        self._queue_explained = False
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
        run_error = s.run_error
        if run_error is not None and run_error.step is None and s.status == "FAILURE":
            # The run died without a step failure (a crashed run worker, say): name the step
            # that was running then, if one was.
            unfinished = [k for k in dict.fromkeys(s.steps_started) if k not in s.finished]
            if unfinished:
                run_error = run_error.model_copy(update={"step": unfinished[-1]})
        extra: dict[str, Any] = {
            "error": s.error or (run_error if s.status in ("FAILURE", "CANCELED") else None),
            "steps_succeeded": list(s.steps_succeeded),
            "steps_failed": list(s.steps_failed),
            "steps_skipped": list(s.steps_skipped),
            "materialized": list(s.materialized),
            "checks": list(s.checks),
            "timed_out": self.timed_out,
            "canceled_by_daglab": self.canceled_by_daglab,
            "waited_s": round(time.monotonic() - self.started, 3),
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
                s.finished.add(step)
                # A check's step is reported by its check's result, not as an asset step.
                if step in s.check_steps and step not in s.materializing_steps:
                    self._emit("step_succeeded", step=step)
                    continue
                s.steps_succeeded.append(step)
                self._emit("step_succeeded", step=step)
            elif kind == "STEP_SKIPPED" and step:
                if step not in s.steps_skipped:
                    s.steps_skipped.append(step)
                self._emit("step_skipped", step=step)
            elif kind == "ASSET_CHECK_EVALUATION_PLANNED" and step:
                s.check_steps.add(step)
            elif kind == "ASSET_CHECK_EVALUATION":
                evaluation = event.get("evaluation") or {}
                path = list((evaluation.get("assetKey") or {}).get("path") or [])
                if step:
                    s.check_steps.add(step)
                result = CheckResult(
                    asset=format_key(path),
                    path=path,
                    name=str(evaluation.get("checkName") or "?"),
                    passed=bool(evaluation.get("success")),
                    severity=str(evaluation.get("severity") or "ERROR"),
                    step=step,
                )
                s.checks.append(result)
                self._emit(
                    "check_evaluated",
                    step=step,
                    asset=result.asset,
                    check=result.name,
                    passed=result.passed,
                    severity=result.severity,
                )
            elif kind == "STEP_FAILURE":
                message, class_name = error_of(event)
                message = message or event.get("message") or "the step failed"
                if class_name == CRASH_CLASS and step in s.crashes:
                    message = s.crashes[step]
                if step:
                    s.finished.add(step)
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
                if step:
                    s.materializing_steps.add(step)
                if key and key not in s.materialized:  # an asset may log several
                    s.materialized.append(key)
                    self._emit(
                        "materialized", asset=key, done=len(s.materialized), total=self.total_assets
                    )
            elif kind in TERMINAL_EVENTS:
                s.saw_terminal_event = True
                if kind != "RUN_SUCCESS" and s.run_error is None:
                    message, class_name = error_of(event)
                    text = event.get("message") or ""
                    if message and message not in text:
                        text = f"{text} {message}".strip()
                    s.run_error = RunError(message=text or kind, class_name=class_name)
            elif kind == "ENGINE_EVENT" and step and error_of(event)[1] == CRASH_CLASS:
                s.crashes[step] = crash_reason(str(event.get("message") or ""))
            elif (
                kind in ("ENGINE_EVENT", "PIPELINE_FAILURE")
                and event.get("error")
                and s.run_error is None
            ):
                message, class_name = error_of(event)
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
            poller = status_poller(self.client)
            self._handle_run(await poller.status(self.run_id, self.poll_min, self.poll_max))
            if s.status in TERMINAL_STATUSES:
                await self._drain()
            return before != s.status
        new = False
        while True:
            data, self.page_size = await execute_page(
                self.client,
                RUN_PROGRESS,
                {"runId": self.run_id, "afterCursor": s.cursor},
                self.page_size,
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
            data, self.page_size = await execute_page(
                self.client,
                RUN_EVENTS,
                {"runId": self.run_id, "afterCursor": s.cursor},
                self.page_size,
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
        if self._queued_since is None or self.state.status != "QUEUED":
            return
        if not self._queue_explained:
            self._queue_explained = True
            reason = await self._tag_limit_reason()
            if reason:
                self._queued_warned = True
                self._emit("queued_warning", status="QUEUED", message=reason)
                return
        if self._queued_warned:
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

    async def _tag_limit_reason(self) -> str | None:
        """Why the queue holds the run, when one of its tags is under a tag concurrency limit
        of the server's run queue (``runQueueConfig``); None when none applies or unknown."""
        tags = {
            str(t.get("key")): str(t.get("value"))
            for t in (self.state.run or {}).get("tags") or []
            if isinstance(t, Mapping)
        }
        if not tags:
            return None
        try:
            data = await self.client.execute(RUN_QUEUE_CONFIG)
        except errors.DaglabError:
            return None
        config = (data.get("instance") or {}).get("runQueueConfig") or {}
        limits = parse_tag_limits(config.get("tagConcurrencyLimitsYaml"))
        for limit in limits:
            key = limit["key"]
            if key not in tags or (limit["value"] is not None and limit["value"] != tags[key]):
                continue
            count = limit["limit"]
            runs = plural(count if isinstance(count, int) else 0, "run")
            return clean(
                f"The run is QUEUED: it carries the tag {key}={tags[key]}, and the server's "
                f"run queue lets {runs} with that tag go at a time "
                f"(tag_concurrency_limits); it starts when one of those ends."
            )
        return None

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
                if deadline is None:
                    new = await self._poll()
                else:  # no slow or dripping answer carries the wait past its deadline
                    budget = max(0.0, deadline - time.monotonic()) + DEADLINE_GRACE
                    new = await bounded(self._poll(), budget)
            except asyncio.TimeoutError:
                return await self._on_timeout(timeout or 0.0, cancel_on_timeout, cancel_wait)
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
                        result=self.result(),
                        hint=f"Watch it again with {operation('wait_for_run', self.run_id)}, or "
                        f"cancel it with {operation('cancel_run', self.run_id)}.",
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
        if not s.steps_started or len(s.finished) < len(set(s.steps_started)):
            self._steps_idle_since = None
            return False
        if self._steps_idle_since is None:
            self._steps_idle_since = now
        return now - self._steps_idle_since < END_NEAR_WINDOW

    async def _on_timeout(self, timeout: float, cancel: bool, cancel_wait: float) -> RunResult:
        self.timed_out = True
        self._emit("timed_out", status=self.state.status, message=f"{timeout:g}s")
        if not self.follow_events:  # the steps so far, for the result
            with contextlib.suppress(errors.DaglabError, asyncio.TimeoutError):
                await bounded(self._drain(), DEADLINE_GRACE)
        if not cancel:
            return self.result()
        self._emit("canceling", status=self.state.status)
        try:
            await cancel_run(self.client, self.run_id)
        except errors.TargetNotFoundError:
            raise
        except errors.BadInputError:
            pass  # it ended on its own meanwhile: the poll below reads how
        else:
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
    return format_key(path) if path else None


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
