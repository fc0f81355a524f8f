"""A run's logs: the structured event log (filtered, followed to the run's end), a run in
full (steps, materializations, the failing step with its chain of causes), and the captured
stdout/stderr of a step, read in bounded pages.

Captured logs are read with ``capturedLogs(logKey:, cursor:, limit:)`` (the same on 1.7 ..
1.13; ``limit`` is bytes per stream), under the log key ``[run id, "compute_logs", file
key]``; the file key of a step comes from the run's ``LogsCapturedEvent``. The instance may
keep none (Dagster's NoOpComputeLogManager) or keep them elsewhere (a bucket the server
links to): ``CapturedLogInfo`` says which.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import format_key
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import (
    CapturedLogInfo,
    Materialization,
    RunDetails,
    RunError,
    RunEvent,
    StepFailure,
    StepInfo,
)
from daglab.helpers.queries import CAPTURED_LOGS, RUN_DETAILS, RUN_LOG_PAGE
from daglab.helpers.runs.read import _check_run, execute_page
from daglab.helpers.statuses import TERMINAL_EVENTS, TERMINAL_STATUSES
from daglab.helpers.text import plural

PAGE_SIZE = 1000
CHUNK_BYTES = 64 * 1024
STREAMS = ("stdout", "stderr")


def _timestamp(raw: object) -> float | None:
    """Event timestamps are epoch milliseconds as a string."""
    try:
        return float(str(raw)) / 1000.0
    except (TypeError, ValueError):
        return None


def failure_of(event: Mapping[str, Any]) -> StepFailure | None:
    """The error an event carries, with its chain of causes (outermost first)."""
    error = event.get("error")
    if not error:
        return None
    causes = [
        RunError(
            message=str(link["error"].get("message") or ""),
            class_name=link["error"].get("className"),
        )
        for link in error.get("errorChain") or []
        if link.get("error")
    ]
    return StepFailure(
        step=event.get("stepKey"),
        message=str(error.get("message") or "").strip(),
        class_name=error.get("className"),
        causes=causes,
    )


def event_of(raw: Mapping[str, Any]) -> RunEvent:
    return RunEvent(
        type=raw.get("eventType"),
        level=raw.get("level"),
        step=raw.get("stepKey"),
        timestamp=_timestamp(raw.get("timestamp")),
        message=str(raw.get("message") or ""),
        error=failure_of(raw),
    )


@dataclass(frozen=True)
class EventFilter:
    """Which events: of these ``levels`` (DEBUG, INFO, WARNING, ERROR, CRITICAL), ``steps``
    and ``types`` (Dagster event types, e.g. STEP_FAILURE); empty means any."""

    levels: Sequence[str] = ()
    steps: Sequence[str] = ()
    types: Sequence[str] = ()

    def matches(self, event: RunEvent) -> bool:
        if self.levels and (event.level or "").upper() not in {x.upper() for x in self.levels}:
            return False
        if self.steps and event.step not in self.steps:
            return False
        return not self.types or (event.type or "").upper() in {t.upper() for t in self.types}


class EventLog:
    """A run's event log, read page by page; with ``follow``, polled until the run ends.

    After iterating ``events()``, ``status`` is the run's last status and ``timed_out`` says
    whether ``timeout`` passed first (the run goes on).
    """

    def __init__(
        self,
        client: DagsterClient,
        run_id: str,
        filters: EventFilter | None = None,
        *,
        follow: bool = False,
        timeout: float | None = None,
        poll_min: float = 0.1,
        poll_max: float = 0.5,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.filters = filters or EventFilter()
        self.follow = follow
        self.timeout = timeout
        self.poll_min = poll_min
        self.poll_max = poll_max
        self.page_size = page_size
        self.cursor: str | None = None
        self.status: str | None = None
        self.timed_out = False
        self.captured: list[Mapping[str, Any]] = []  # the LogsCapturedEvents seen

    async def _page(self) -> tuple[list[Mapping[str, Any]], bool]:
        return await self.next_page(self.page_size)

    async def next_page(self, size: int) -> tuple[list[Mapping[str, Any]], bool]:
        """The next (at most) ``size`` raw events after ``cursor``, and whether the server has
        more; ``cursor`` moves past them (a caller may set it to go on from an earlier read)."""
        data, taken = await execute_page(
            self.client, RUN_LOG_PAGE, {"runId": self.run_id, "afterCursor": self.cursor}, size
        )
        if taken < size:  # the server's cap: keep to it from now on
            self.page_size = min(self.page_size, taken)
        run = _check_run(data.get("runOrError"), self.run_id)
        self.status = str(run.get("status"))
        logs = check_union(
            data.get("logsForRun"), "EventConnection", f"reading the logs of run {self.run_id}"
        )
        events = list(logs.get("events") or [])
        self.cursor = logs.get("cursor") or self.cursor
        return events, bool(logs.get("hasMore")) and bool(events)

    async def raw_events(self) -> AsyncIterator[Mapping[str, Any]]:
        """Every event (unfiltered, as the server sends it)."""
        started = time.monotonic()
        interval = self.poll_min
        saw_end = False
        while True:
            status_before = self.status
            events, more = await self._page()
            for raw in events:
                if raw.get("__typename") == "LogsCapturedEvent":
                    self.captured.append(raw)
                if raw.get("eventType") in TERMINAL_EVENTS:
                    saw_end = True
                yield raw
            if more:
                continue
            if not self.follow:
                return
            if self.status in TERMINAL_STATUSES and (saw_end or status_before in TERMINAL_STATUSES):
                return  # the final event lands a moment after the final status at most once
            if self.timeout is not None and time.monotonic() - started >= self.timeout:
                self.timed_out = True
                return
            interval = self.poll_min if events else min(interval * 1.5, self.poll_max)
            await asyncio.sleep(interval)

    async def events(self) -> AsyncIterator[RunEvent]:
        """The events that pass the filters."""
        async for raw in self.raw_events():
            event = event_of(raw)
            if self.filters.matches(event):
                yield event


# -- one run in full ------------------------------------------------------------------------------


async def get_run_details(client: DagsterClient, run_id: str) -> RunDetails:
    """The run, its steps and materializations, and why it failed (from its event log)."""
    from daglab.helpers.runs.history import summary_of

    data = await client.execute(RUN_DETAILS, {"runId": run_id})
    run = _check_run(data.get("runOrError"), run_id)
    steps = [
        StepInfo(
            key=s["stepKey"],
            status=s.get("status"),
            started_at=s.get("startTime"),
            ended_at=s.get("endTime"),
        )
        for s in run.get("stepStats") or []
    ]
    materializations = [
        Materialization(
            key=format_key((m.get("assetKey") or {}).get("path") or []),
            step=m.get("stepKey"),
            partition=m.get("partition"),
        )
        for m in run.get("assetMaterializations") or []
    ]
    failures: list[StepFailure] = []
    run_error: str | None = None
    if str(run.get("status")) in ("FAILURE", "CANCELED"):
        log = EventLog(client, run_id)
        async for raw in log.raw_events():
            kind = raw.get("eventType")
            if kind == "STEP_FAILURE":
                failure = failure_of(raw)
                if failure is not None:
                    failures.append(failure)
            elif kind in ("RUN_FAILURE", "RUN_CANCELED", "PIPELINE_FAILURE") and run_error is None:
                failure = failure_of(raw)
                run_error = str(raw.get("message") or kind)
                if failure is not None and failure.message not in run_error:
                    run_error += f" {failure.message}"
    return RunDetails(
        run=summary_of(client, run),
        parent_run_id=run.get("parentRunId"),
        root_run_id=run.get("rootRunId"),
        steps=steps,
        materializations=materializations,
        failures=failures,
        run_error=run_error,
    )


# -- captured stdout / stderr ---------------------------------------------------------------------


def _offsets(cursor: str | None) -> tuple[int, int]:
    try:
        out, err = (cursor or "0:0").split(":")
        return int(out), int(err)
    except ValueError:
        return 0, 0


async def _captured_events(client: DagsterClient, run_id: str) -> list[Mapping[str, Any]]:
    log = EventLog(client, run_id, EventFilter(types=("LOGS_CAPTURED",)))
    async for _raw in log.raw_events():
        pass
    return log.captured


async def find_log_file(
    client: DagsterClient, run_id: str, step: str | None
) -> tuple[str, Mapping[str, Any] | None]:
    """(file key, its LogsCapturedEvent) of ``step``'s captured logs. Without a step, the
    run's only file, or its failed step's; several is ``AmbiguousTargetError``."""
    events = await _captured_events(client, run_id)
    if step is not None:
        for event in events:
            if step in (event.get("stepKeys") or []) or event.get("fileKey") == step:
                return str(event["fileKey"]), event
        return step, None  # an older run, or logs not captured: try the step key itself
    keys = list(dict.fromkeys(str(e["fileKey"]) for e in events))
    if len(keys) == 1:
        return keys[0], events[0]
    if not keys:
        raise errors.TargetNotFoundError(
            f"Run {run_id} has no captured logs (no step wrote any, or the instance keeps none).",
            [],
        )
    details = await get_run_details(client, run_id)
    if details.failure is not None and details.failure.step:
        return await find_log_file(client, run_id, details.failure.step)
    from daglab.helpers.errors import setting

    raise errors.AmbiguousTargetError(
        f"Run {run_id} has captured logs for {plural(len(keys), 'file')}; choose a step with "
        f"{setting('step')}: {', '.join(keys)}.",
        keys,
    )


async def captured_log_info(
    client: DagsterClient, run_id: str, step: str | None, stream: str
) -> tuple[CapturedLogInfo, list[str]]:
    """Where ``step``'s captured ``stream`` is, and the log key to read it with."""
    if stream not in STREAMS:
        raise errors.BadInputError(f"stream must be stdout or stderr, not {stream!r}.")
    file_key, event = await find_log_file(client, run_id, step)
    log_key = [run_id, "compute_logs", file_key]
    data = await client.execute(CAPTURED_LOGS, {"logKey": log_key, "cursor": None, "limit": 1})
    meta = data.get("capturedLogsMetadata") or {}
    logs = data.get("capturedLogs") or {}
    external = None
    if event is not None:
        external = event.get(f"external{stream.capitalize()}Url") or event.get("externalUrl")
    location = meta.get(f"{stream}Location")
    download = meta.get(f"{stream}DownloadUrl")
    kept = bool(external or location or download or logs.get(stream) or event is not None)
    steps = list((event or {}).get("stepKeys") or ([step] if step else []))
    info = CapturedLogInfo(
        run_id=run_id,
        step=steps[0] if len(steps) == 1 else step,
        stream=stream,
        file_key=file_key,
        kept=kept,
        external_url=external,
        location=location,
        download_url=download,
    )
    return info, log_key


async def read_captured(
    client: DagsterClient,
    log_key: list[str],
    stream: str,
    chunk_bytes: int = CHUNK_BYTES,
    offset: int = 0,
) -> AsyncIterator[str]:
    """The captured ``stream`` of ``log_key`` from byte ``offset``, ``chunk_bytes`` at a time
    (as text)."""
    index = STREAMS.index(stream)
    cursor: str | None = None
    if offset > 0:
        cursor = f"{offset}:0" if index == 0 else f"0:{offset}"
    while True:
        data = await client.execute(
            CAPTURED_LOGS, {"logKey": log_key, "cursor": cursor, "limit": chunk_bytes}
        )
        logs = data.get("capturedLogs") or {}
        text = logs.get(stream) or ""
        new_cursor = logs.get("cursor")
        before = _offsets(cursor)[index]
        after = _offsets(new_cursor)[index]
        if text:
            yield text
        if not text or after - before < chunk_bytes or new_cursor is None:
            return
        # keep the other stream's offset where it was: only this one is read
        other = _offsets(cursor)[1 - index]
        pair = (after, other) if index == 0 else (other, after)
        cursor = f"{pair[0]}:{pair[1]}"


async def tail_captured(
    client: DagsterClient, run_id: str, step: str | None, stream: str = "stderr", lines: int = 10
) -> tuple[CapturedLogInfo, list[str]]:
    """The last ``lines`` lines of ``step``'s captured ``stream`` (memory: those lines); no
    step: the run's only one, or its failed one (see ``find_log_file``)."""
    info, log_key = await captured_log_info(client, run_id, step, stream)
    last: collections.deque[str] = collections.deque(maxlen=lines)
    partial = ""
    size = 0
    async for text in read_captured(client, log_key, stream):
        size += len(text.encode("utf-8", "replace"))
        parts = (partial + text).split("\n")
        partial = parts.pop()
        last.extend(part for part in parts if part.strip())
    if partial.strip():
        last.append(partial)
    return info.model_copy(update={"bytes": size, "kept": info.kept or size > 0}), list(last)
