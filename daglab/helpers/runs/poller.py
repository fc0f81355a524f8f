"""One status query a round for every run watched without its events on a client: twenty runs
watched at once cost the webserver one cheap ``runsOrError`` query a round instead of twenty.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from typing import Any

from daglab.helpers import errors
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.queries import RUNS_STATUS


class StatusPoller:
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
    DagsterClient, tuple[asyncio.AbstractEventLoop, StatusPoller]
] = weakref.WeakKeyDictionary()


def status_poller(client: DagsterClient) -> StatusPoller:
    """The client's poller for the running event loop (a notebook may run several)."""
    loop = asyncio.get_running_loop()
    entry = _pollers.get(client)
    if entry is None or entry[0] is not loop:
        entry = (loop, StatusPoller(client))
        _pollers[client] = entry
    return entry[1]
