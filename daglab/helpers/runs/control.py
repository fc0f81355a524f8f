"""Stopping a run: Dagster's safe termination, with the cases it refuses handled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from daglab.helpers import errors
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import RunResult
from daglab.helpers.queries import TERMINATE_RUN
from daglab.helpers.runs.read import get_run

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
    ``BadInputError`` if the run had already finished when asked (CANCELED included: there
    is nothing left to cancel), ``TargetNotFoundError`` if there is no such run.
    """
    policy = "MARK_AS_CANCELED_IMMEDIATELY" if force else "SAFE_TERMINATE"
    payload = await _terminate(client, run_id, policy)
    grace_ends = time.monotonic() + starting_grace
    delay = 0.1
    first_look = True
    while payload.get("__typename") == "TerminateRunFailure":
        current = await get_run(client, run_id)
        if current.status == "CANCELED" and not first_look:
            return current  # canceled while we waited for it to start
        first_look = False
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
