"""The mock's records: a run (its planned statuses and events), an event, a step's stats, a
backfill, and Dagster's opaque event cursor. Plain data; ``state.py`` makes and moves them,
``schema/`` renders them as Dagster's types.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from daglab.harness.mock.definitions import (
    AssetPath,
)
from daglab.helpers.statuses import TERMINAL_STATUSES


def encode_cursor(storage_id: int) -> str:
    """Dagster's opaque event cursor: base64 of ``{"type": "STORAGE_ID", "value": N}``."""
    raw = json.dumps({"type": "STORAGE_ID", "value": storage_id})
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The storage id in a cursor; ValueError if it is not one of ours."""
    if not cursor:
        return -1
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return int(data["value"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ValueError(f"Invalid cursor {cursor!r}") from None


@dataclass
class EventRecord:
    """One entry of a run's event log; ``typename`` is the GraphQL type that renders it."""

    storage_id: int
    at: float
    typename: str
    event_type: str | None
    message: str
    level: str = "DEBUG"
    step_key: str | None = None
    asset_path: AssetPath | None = None
    error: dict[str, Any] | None = None
    partition: str | None = None
    file_key: str | None = None  # a LogsCapturedEvent's


@dataclass
class RunRecord:
    run_id: str
    job_name: str
    location: str
    repository: str
    tags: dict[str, str]
    run_config: Any
    asset_selection: list[AssetPath] | None
    step_keys: list[str]
    created_at: float
    timeline: list[tuple[float, str]]
    events: list[EventRecord]
    parent_run_id: str | None = None
    root_run_id: str | None = None
    step_keys_to_execute: list[str] | None = None
    # Captured stdout/stderr by file key (a step key): (time written, stream, text) lines.
    captured: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)

    def status(self, now: float) -> str:
        current = self.timeline[0][1]
        for at, status in self.timeline:
            if at <= now:
                current = status
        return current

    def time_of(self, statuses: Iterable[str], now: float) -> float | None:
        wanted = set(statuses)
        for at, status in self.timeline:
            if status in wanted and at <= now:
                return at
        return None

    def start_time(self, now: float) -> float | None:
        return self.time_of(("STARTED",), now)

    def end_time(self, now: float) -> float | None:
        return self.time_of(TERMINAL_STATUSES, now)

    def update_time(self, now: float) -> float:
        return max(at for at, _ in self.timeline if at <= now) if self.timeline else self.created_at

    def visible_events(self, now: float) -> list[EventRecord]:
        return [e for e in self.events if e.at <= now]

    @property
    def config_yaml(self) -> str:
        return yaml.safe_dump(self.run_config or {}, sort_keys=True)

    @property
    def partition(self) -> str | None:
        return self.tags.get("dagster/partition")

    def step_stats(self, now: float) -> list[StepStats]:
        """Each step that has started, as Dagster derives it from the event log."""
        stats: dict[str, StepStats] = {}
        for event in self.visible_events(now):
            key = event.step_key
            if key is None:
                continue
            if event.event_type == "STEP_START":
                stats[key] = StepStats(key, "IN_PROGRESS", event.at)
            elif key in stats and event.event_type in _STEP_ENDS:
                stats[key].status = _STEP_ENDS[event.event_type]
                stats[key].end_time = event.at
        return list(stats.values())

    def captured_bytes(self, file_key: str, stream: str, now: float) -> bytes | None:
        """What the step has written to ``stream`` by ``now``; None if no such file."""
        lines = self.captured.get(file_key)
        if lines is None or not any(at <= now for at, _, _ in lines):
            return None
        return "".join(t for at, s, t in lines if s == stream and at <= now).encode()


_STEP_ENDS = {"STEP_SUCCESS": "SUCCESS", "STEP_FAILURE": "FAILURE", "STEP_SKIPPED": "SKIPPED"}


@dataclass
class StepStats:
    step_key: str
    status: str  # StepEventStatus
    start_time: float | None
    end_time: float | None = None


def captured_lines(
    run: RunRecord, key: str, text: str, at: float, slot: float, fails: bool
) -> list[tuple[float, str, str]]:
    """A step's stdout (what it prints) and stderr (Dagster's log lines, and the traceback
    of a failure), each line written at the moment of its event."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at)) + " +0000"

    def log(level: str, message: str) -> str:
        return f"{stamp} - dagster - {level} - {run.job_name} - {run.run_id} - {key} - {message}\n"

    lines = [
        (at, "stderr", log("DEBUG", f'STEP_START - Started execution of step "{key}".')),
        (at, "stdout", f"{text}\n"),
        (at, "stderr", log("INFO", text)),
        (at + slot / 8, "stdout", f"daglab mock: step {key} of run {run.run_id[:8]}\n"),
    ]
    if fails:
        lines.append(
            (
                at + slot / 4,
                "stderr",
                log("ERROR", f'STEP_FAILURE - Execution of step "{key}" failed.')
                + "Traceback (most recent call last):\n"
                + '  File "main_location.py", line 134, in explode\n'
                + "Exception: daglab fixture failure: the explode op always fails\n",
            )
        )
    else:
        lines.append(
            (at + slot / 2, "stderr", log("DEBUG", "STEP_SUCCESS - Finished execution of step."))
        )
    return lines


BACKFILL_DONE = frozenset(
    {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
)


@dataclass
class BackfillRecord:
    """An asset backfill: the daemon (``MockState.tick``) submits one partition's run per
    tick while it is REQUESTED, cancels its runs in flight when CANCELING, and ends it when
    every run has ended."""

    backfill_id: str
    created_at: float
    location: str
    partition_names: list[str]
    asset_selection: list[AssetPath]
    tags: dict[str, str]
    tick_seconds: float
    next_submit: float
    status: str = "REQUESTED"  # BulkActionStatus
    end_at: float | None = None
    from_failure: bool = False
    runs: dict[str, str] = field(default_factory=dict)  # partition -> run id

    @property
    def pending(self) -> list[str]:
        return [p for p in self.partition_names if p not in self.runs]


class UnknownTarget(LookupError):
    """The location, repository or job of a selector does not exist."""
