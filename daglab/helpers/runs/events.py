"""What happens in a watched run, as daglab tells it: the progress events a watcher emits and
the one wording of each, which the terminal, the notebook and logs share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from daglab.helpers.text import reason_line


@dataclass(frozen=True)
class ProgressEvent:
    """Something worth telling the user while a run is watched.

    ``kind``: status, step_started, step_succeeded, step_failed, step_skipped, materialized,
    check_evaluated (``check``, ``asset``, ``passed``, ``severity``), waiting,
    queued_warning, poll_failed, contact_restored, canceling, timed_out.
    """

    kind: str
    elapsed: float
    check: str | None = None
    passed: bool | None = None
    severity: str | None = None
    status: str | None = None
    step: str | None = None
    asset: str | None = None
    done: int = 0
    total: int | None = None
    message: str | None = None


ProgressCallback = Callable[[ProgressEvent], None]


def describe(event: ProgressEvent) -> str | None:
    """The one wording of a progress event, for the terminal, the notebook and logs alike.

    Server text in it (step names, asset keys, messages) is not yet made safe: each face
    cleans what it shows.
    """
    kind = event.kind
    step = event.step or "?"
    if kind == "status":
        return f"status {event.status}"
    if kind == "step_started":
        return f"step {step} started"
    if kind == "step_succeeded":
        return f"step {step} succeeded"
    if kind == "step_failed":
        return f"step {step} FAILED: {reason_line(event.message)}"
    if kind == "step_skipped":
        return f"step {step} skipped"
    if kind == "check_evaluated":
        verdict = "passed" if event.passed else f"FAILED ({event.severity or 'ERROR'})"
        return f"check {event.check} on {event.asset} {verdict}"
    if kind == "materialized":
        # A total below the count (an op that logs assets nobody planned) is no total.
        of = f" of {event.total}" if event.total and event.total >= (event.done or 0) else ""
        return f"materialized {event.asset} ({event.done}{of})"
    if kind == "waiting":
        return f"still {event.status}"
    if kind == "queued_warning":
        return f"warning: {event.message}"
    if kind == "poll_failed":
        return f"poll failed ({event.done} in a row), will retry: {event.message}"
    if kind == "contact_restored":
        return f"back in contact with the server ({event.message})"
    if kind == "timed_out":
        return f"timed out after {event.message} (run is {event.status})"
    if kind == "canceling":
        return "canceling the run, as asked on timeout"
    return None


def error_of(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(message, class name) of an error event, preferring the user's exception (the cause)
    over Dagster's wrapper."""
    error = event.get("error") or {}
    cause = error.get("cause") or {}
    source = cause if cause.get("message") else error
    message = (source.get("message") or "").strip() or None
    return message, source.get("className")


CRASH_CLASS = "ChildProcessCrashException"


def crash_reason(message: str) -> str:
    """The first sentence of the executor's crash explanation: "Multiprocess executor: child
    process for step x was terminated by signal 9 (SIGKILL)" (what follows is a guess about
    memory that Dagster adds for every SIGKILL)."""
    first = message.strip().split(". ")[0].rstrip(".")
    return first.removeprefix("Multiprocess executor: ") or "the step's process died"
