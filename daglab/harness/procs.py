"""Finding and stopping every process a harness server started, by PID only.

Every process the harness starts carries ``DAGLAB_HARNESS_ID=<id>`` in its environment, and
children inherit it. So even a run worker or code server that made its own session, or was
re-parented to init, is found by that id, and only processes we started are ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable

import psutil

HARNESS_ID_VAR = "DAGLAB_HARNESS_ID"


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def tagged(harness_id: str) -> list[psutil.Process]:
    """Live processes whose environment carries our harness id."""
    found = []
    me = os.getpid()
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(HARNESS_ID_VAR) == harness_id and _alive(proc):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def family(roots: Iterable[int], harness_id: str | None = None) -> list[psutil.Process]:
    """The live roots, their descendants, and every process tagged with ``harness_id``."""
    procs: dict[int, psutil.Process] = {}
    for pid in roots:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            if _alive(root):
                procs[pid] = root
        for child in descendants(pid):
            procs.setdefault(child.pid, child)
    if harness_id is not None:
        for proc in tagged(harness_id):
            procs.setdefault(proc.pid, proc)
    return [p for p in procs.values() if _alive(p)]


def _signal_group(pgid: int | None, sig: int) -> None:
    if pgid is None or pgid <= 1 or pgid == os.getpgrp():
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _signal_all(procs: Iterable[psutil.Process], sig: int) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)


def _wait(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in procs if _alive(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        with contextlib.suppress(psutil.Error):
            psutil.wait_procs(alive, timeout=min(0.2, max(0.0, deadline - time.monotonic())))


def stop_family(
    roots: Iterable[int],
    *,
    pgid: int | None = None,
    harness_id: str | None = None,
    grace: float = 5.0,
) -> list[int]:
    """SIGTERM the group and the family, SIGKILL what is left after ``grace`` seconds.

    Returns the PIDs still alive at the end (empty when everything stopped).
    """
    roots = list(roots)
    procs = family(roots, harness_id)
    _signal_group(pgid, signal.SIGTERM)
    _signal_all(procs, signal.SIGTERM)
    alive = _wait(procs, grace)
    # Stragglers, and children started while we were stopping.
    rest = {p.pid: p for p in [*alive, *family(roots, harness_id)]}
    _signal_group(pgid, signal.SIGKILL)
    _signal_all(rest.values(), signal.SIGKILL)
    _wait(list(rest.values()), 5.0)
    left = {p.pid for p in rest.values() if _alive(p)}
    left.update(p.pid for p in family([], harness_id))
    return sorted(left)


def pids_alive(pids: Iterable[int]) -> list[int]:
    """Which of ``pids`` still run (zombies count as gone)."""
    alive = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if _alive(psutil.Process(pid)):
                alive.append(pid)
    return alive
