"""Notebook session state that survives cells and kernel restarts.

The session remembers its target (URL, where it came from, the profile; never credentials),
what it discovered (job names and asset keys) and the runs it launched. In a notebook it is
saved after every change next to the notebook (``.<notebook>.daglab-state.json``, or
``.daglab-state.json`` in the kernel's directory when the notebook's name is unknown); set
``DAGLAB_STATE_FILE`` or pass a path to ``load``/``save``/``connect(state_path=...)`` to
choose the file. Plain scripts write no file unless given one.

After a kernel restart::

    from daglab.helpers import state
    saved = state.load()        # the runs, refreshed from the server
    saved.in_flight             # those still queued or running
    saved.resume()              # watch them to the end (or: await daglab.helpers.resume_runs())

A file that cannot be read as a state is reported (a warning, and ``problem`` on the
returned state), renamed to ``<file>.corrupt-<time>`` and replaced by a fresh state.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from daglab.helpers import session
from daglab.helpers.errors import DaglabError
from daglab.helpers.memory import (
    DEFAULT_NAME,
    FORMAT,
    FORMAT_VERSION,
    MAX_DISCOVERED,
    MAX_RUNS,
    NOT_FOUND,
    SessionState,
    StateFileWarning,
    TrackedRun,
    _lock,
    _replace,
    autosave,
    autosave_enabled,
    current,
    default_path,
    name_notebook,
    read,
    remember_discovered,
    remember_run,
    remember_status,
    remember_target,
    save,
    set_path,
    set_resumer,
    state_path,
)
from daglab.helpers.performance import clear_performance
from daglab.helpers.portal import portal


def _resume(timeout: float | None, progress: bool | None) -> Any:
    return portal.call(session.resume_runs, timeout=timeout, progress=progress)


set_resumer(_resume)


def _note_problem(message: str) -> None:
    """Add ``message`` to the current state's ``problem`` and warn with it."""
    state = current()
    with _lock:
        state.problem = f"{state.problem}\n{message}" if state.problem else message
    warnings.warn(message, StateFileWarning, stacklevel=3)


def load(path: str | os.PathLike[str] | None = None, *, refresh: bool = True) -> SessionState:
    """Recover a saved session: its target, what it discovered and its runs.

    The runs that were in flight when it was saved are looked up on the server
    (``refresh``) so that ``in_flight`` says which still are; if the server cannot be
    reached they keep their saved status and ``problem`` says why. Never raises for a bad
    file: it is set aside and a fresh state is returned.
    """
    if path is not None:
        set_path(path)
    loaded = read(path)
    with _lock:
        now = current()
        merged = SessionState(
            target=now.target or loaded.target,
            jobs=now.jobs or loaded.jobs,
            assets=now.assets or loaded.assets,
            discovered_at=now.discovered_at or loaded.discovered_at,
            runs={**loaded.runs, **now.runs},
            path=loaded.path,
            problem=loaded.problem,
            set_aside=loaded.set_aside,
        )
        _replace(merged)
    if loaded.target:
        try:
            session.adopt_target(loaded.target)
        except DaglabError as exc:
            _note_problem(
                f"Could not restore the saved target {loaded.target.get('url')}: {exc.message}"
            )
    if refresh and merged.in_flight:
        try:
            portal.call(session.refresh_runs)
        except Exception as exc:
            reason = exc.message if isinstance(exc, DaglabError) else f"{type(exc).__name__}: {exc}"
            _note_problem(f"Could not refresh the saved runs from the server: {reason}")
    return current()


def reset(path: str | os.PathLike[str] | None = None, *, delete_file: bool = True) -> SessionState:
    """Forget everything this session remembers (the target stays as connected); delete the
    saved file unless ``delete_file=False``. Runs on the server are not touched."""
    with _lock:
        if path is not None:
            set_path(path)
        file = state_path()
        _replace(SessionState(path=file, target=current().target))
    if delete_file:
        try:
            file.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            warnings.warn(
                f"Could not delete {file}: {exc.strerror or exc}.", StateFileWarning, stacklevel=2
            )
    clear_performance()
    return current()


__all__ = [
    "DEFAULT_NAME",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_DISCOVERED",
    "MAX_RUNS",
    "NOT_FOUND",
    "SessionState",
    "StateFileWarning",
    "TrackedRun",
    "_replace",
    "autosave",
    "autosave_enabled",
    "current",
    "default_path",
    "load",
    "name_notebook",
    "read",
    "remember_discovered",
    "remember_run",
    "remember_status",
    "remember_target",
    "reset",
    "save",
    "set_path",
    "state_path",
]
