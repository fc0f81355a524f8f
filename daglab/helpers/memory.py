"""What the notebook session remembers (its target, what it discovered, the runs it launched),
and the file that keeps it across kernel restarts. ``daglab.helpers.state`` is the public face
of this module; the session and the helpers tell it what happened through ``remember_*``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from daglab.helpers.display import format_time, html_table, ipython_shell
from daglab.helpers.statuses import TERMINAL_STATUSES
from daglab.helpers.text import plural

if TYPE_CHECKING:
    from daglab.helpers.config import ConnectionSettings

FORMAT = "daglab-session-state"
FORMAT_VERSION = 1
NOT_FOUND = "NOT_FOUND"  # the server no longer knows the run
DEFAULT_NAME = ".daglab-state.json"
MAX_DISCOVERED = 5000
MAX_RUNS = 1000


class StateFileWarning(UserWarning):
    """The saved session state could not be used; it was set aside."""


@dataclass
class TrackedRun:
    """A run this session launched, as last seen."""

    run_id: str
    status: str
    url: str | None = None
    job: str | None = None
    location: str | None = None
    repository: str | None = None
    asset_selection: list[str] = field(default_factory=list)
    partition: str | None = None
    launched_at: float | None = None
    updated_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES or self.status == NOT_FOUND

    @classmethod
    def from_json(cls, data: Any) -> TrackedRun:
        if not isinstance(data, dict):
            raise ValueError("a run entry is not an object")
        run_id, status = data.get("run_id"), data.get("status")
        if not isinstance(run_id, str) or not run_id or not isinstance(status, str):
            raise ValueError("a run entry has no run_id or status")
        selection = data.get("asset_selection") or []
        if not isinstance(selection, list) or not all(isinstance(s, str) for s in selection):
            raise ValueError(f"run {run_id}: asset_selection is not a list of keys")
        out = cls(run_id=run_id, status=status, asset_selection=list(selection))
        for name in ("url", "job", "location", "repository", "partition"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"run {run_id}: {name} is not a string")
            setattr(out, name, value)
        for name in ("launched_at", "updated_at"):
            value = data.get(name)
            if value is not None and not isinstance(value, (int, float)):
                raise ValueError(f"run {run_id}: {name} is not a number")
            setattr(out, name, value)
        return out


@dataclass
class SessionState:
    """What a helper session knows; ``in_flight`` are its runs not yet finished."""

    target: dict[str, str | None] | None = None
    jobs: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)
    discovered_at: float | None = None
    runs: dict[str, TrackedRun] = field(default_factory=dict)
    path: Path | None = None
    problem: str | None = None
    set_aside: Path | None = None

    @property
    def in_flight(self) -> list[TrackedRun]:
        return [run for run in self.runs.values() if not run.finished]

    @property
    def finished(self) -> list[TrackedRun]:
        return [run for run in self.runs.values() if run.finished]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "saved_at": time.time(),
            "target": self.target,
            "discovered": {"jobs": self.jobs, "assets": self.assets, "at": self.discovered_at},
            "runs": [asdict(run) for run in self.runs.values()],
        }

    @classmethod
    def from_json(cls, data: Any) -> SessionState:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a daglab session state")
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unknown state version {data.get('version')!r}")
        target = data.get("target")
        if target is not None and (
            not isinstance(target, dict)
            or not isinstance(target.get("url"), str)
            or not all(v is None or isinstance(v, str) for v in target.values())
        ):
            raise ValueError("the target is malformed")
        discovered = data.get("discovered") or {}
        if not isinstance(discovered, dict):
            raise ValueError("discovered is not an object")
        jobs = discovered.get("jobs") or []
        assets = discovered.get("assets") or []
        for name, value in (("jobs", jobs), ("assets", assets)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"discovered {name} is not a list of names")
        at = discovered.get("at")
        if at is not None and not isinstance(at, (int, float)):
            raise ValueError("discovered.at is not a number")
        runs = data.get("runs") or []
        if not isinstance(runs, list):
            raise ValueError("runs is not a list")
        parsed = [TrackedRun.from_json(item) for item in runs]
        return cls(
            target=target,
            jobs=list(jobs),
            assets=list(assets),
            discovered_at=at,
            runs={run.run_id: run for run in parsed},
        )

    def resume(self, timeout: float | None = None, progress: bool | None = None) -> Any:
        """Watch the runs still in flight to the end (blocking); returns their results."""
        if _resumer is None:
            raise RuntimeError("import daglab.helpers.state to resume runs")
        return _resumer(timeout, progress)

    def __repr__(self) -> str:
        target = self.target.get("url") if self.target else None
        text = (
            f"SessionState(target={target!r}, jobs={len(self.jobs)}, assets={len(self.assets)}, "
            f"runs={len(self.runs)}, in_flight={len(self.in_flight)}, path={str(self.path)!r})"
        )
        if self.problem:
            text += f"\nproblem: {self.problem}"
        return text

    def _repr_html_(self) -> str:
        import html

        target = (self.target or {}).get("url") or "not connected"
        head = (
            f"<p><b>Session</b> · target {html.escape(str(target))} · "
            f"{plural(len(self.jobs), 'job')}, {plural(len(self.assets), 'asset')} discovered · "
            f"{plural(len(self.runs), 'run')} ({len(self.in_flight)} in flight)"
            + (f" · saved in <code>{html.escape(str(self.path))}</code>" if self.path else "")
            + "</p>"
        )
        if self.problem:
            head += f'<p style="color:#cf222e">{html.escape(self.problem)}</p>'
        if not self.runs:
            return head
        rows = [
            [
                run.run_id,
                run.status,
                run.job or "",
                run.asset_selection,
                format_time(run.launched_at),
                run.url or "",
            ]
            for run in self.runs.values()
        ]
        return head + html_table(
            ["run id", "status", "job", "assets", "launched", "url"], rows, links={0: 5}
        )


# -- where the file lives --------------------------------------------------------------------

_lock = threading.RLock()
_current = SessionState()
# How ``SessionState.resume`` watches runs: set by ``daglab.helpers.state``, which sits above
# the session that does the watching.
_resumer: Callable[[float | None, bool | None], Any] | None = None


def set_resumer(resumer: Callable[[float | None, bool | None], Any]) -> None:
    global _resumer
    _resumer = resumer


_path_override: Path | None = None
_notebook_name: str | None = None


def name_notebook(file_name: str | None) -> None:
    """The notebook's file name, for a kernel no front end tells (nbclient, papermill,
    ``jupyter nbconvert --execute``): its state goes to ``.<name>.daglab-state.json`` in the
    kernel's directory, one file per notebook, as under Jupyter. A generated notebook calls
    this with its own name; what a front end says still wins."""
    global _notebook_name
    with _lock:
        _notebook_name = Path(file_name).name if file_name else None


def _notebook_path() -> Path | None:
    """The running notebook's file, where the front end tells the kernel (Jupyter, VS Code)."""
    shell = ipython_shell()
    if shell is not None:
        vscode = getattr(shell, "user_ns", {}).get("__vsc_ipynb_file__")
        if isinstance(vscode, str) and vscode:
            return Path(vscode)
    session_name = os.environ.get("JPY_SESSION_NAME")
    if session_name and session_name.endswith(".ipynb"):
        path = Path(session_name)
        if path.is_absolute() or path.exists():
            return path.resolve()
    return None


def default_path() -> Path:
    """Where the state is saved when no path was given."""
    env = os.environ.get("DAGLAB_STATE_FILE")
    if env:
        return Path(env).expanduser()
    notebook = _notebook_path()
    if notebook is None and _notebook_name is not None and ipython_shell() is not None:
        notebook = Path.cwd() / _notebook_name
    if notebook is not None:
        return notebook.with_name(f".{notebook.stem}.daglab-state.json")
    return Path.cwd() / DEFAULT_NAME


def state_path() -> Path:
    with _lock:
        return _path_override or default_path()


def set_path(path: str | os.PathLike[str] | None) -> None:
    """Save the state to ``path`` from now on (None: back to the default place)."""
    global _path_override
    with _lock:
        _path_override = Path(path).expanduser() if path is not None else None


def autosave_enabled() -> bool:
    """Saved after each change in a notebook/IPython, or wherever a path was chosen."""
    return (
        _path_override is not None
        or bool(os.environ.get("DAGLAB_STATE_FILE"))
        or ipython_shell() is not None
    )


# -- reading and writing ---------------------------------------------------------------------


def current() -> SessionState:
    """The state of this session (what ``save`` would write)."""
    return _current


def _set_aside(path: Path, reason: str) -> SessionState:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        path.replace(aside)
        moved: Path | None = aside
        where = f"moved to {aside}"
    except OSError as exc:
        moved = None
        where = f"could not be moved aside ({exc.strerror}); it will be overwritten"
    message = f"The daglab session state {path} is unusable ({reason}); {where}. Starting fresh."
    warnings.warn(message, StateFileWarning, stacklevel=3)
    return SessionState(path=path, problem=message, set_aside=moved)


def read(path: str | os.PathLike[str] | None = None) -> SessionState:
    """Read a state file without touching the session; a missing file is an empty state,
    a corrupt one is set aside (see the module docstring)."""
    file = Path(path).expanduser() if path is not None else state_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SessionState(path=file)
    except IsADirectoryError:
        return SessionState(path=file, problem=f"{file} is a directory, not a state file.")
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            return _set_aside(file, "not UTF-8 text")
        message = f"Cannot read the daglab session state {file}: {exc.strerror or exc}."
        warnings.warn(message, StateFileWarning, stacklevel=2)
        return SessionState(path=file, problem=message)
    try:
        state = SessionState.from_json(json.loads(text))
    except json.JSONDecodeError as exc:
        return _set_aside(file, f"invalid JSON at line {exc.lineno}, column {exc.colno}")
    except (ValueError, TypeError, AttributeError) as exc:
        return _set_aside(file, str(exc))
    state.path = file
    return state


def save(path: str | os.PathLike[str] | None = None) -> Path:
    """Write the session state (atomically, readable only by you); return the file."""
    with _lock:
        if path is not None:
            set_path(path)
        file = state_path()
        document = _current.to_json()
        _current.path = file
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=1, sort_keys=False)
            fh.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return file


def autosave() -> None:
    """Save if this session saves automatically; a failure to write is a warning, not an error."""
    if not autosave_enabled():
        return
    try:
        save()
    except OSError as exc:
        warnings.warn(
            f"Could not save the daglab session state to {state_path()}: {exc.strerror or exc}.",
            StateFileWarning,
            stacklevel=3,
        )


def _replace(new: SessionState) -> None:
    global _current
    _current = new


# -- what the session tells the state --------------------------------------------------------


def _public_url(url: str) -> str:
    """The URL without any user:password part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def remember_target(settings: ConnectionSettings) -> None:
    with _lock:
        target: dict[str, str | None] = {
            "url": _public_url(settings.url),
            "url_source": settings.url_source,
            "profile": settings.profile,
        }
        if _current.target == target:
            return
        _current.target = target
    autosave()


def remember_discovered(
    *, jobs: Iterable[str] | None = None, assets: Iterable[str] | None = None
) -> None:
    with _lock:
        if jobs is not None:
            _current.jobs = list(dict.fromkeys(jobs))[:MAX_DISCOVERED]
        if assets is not None:
            _current.assets = list(dict.fromkeys(assets))[:MAX_DISCOVERED]
        _current.discovered_at = time.time()
    autosave()


def remember_run(result: Any) -> None:
    """Record a launched run, or a new status of one (a RunSubmitResult or RunResult)."""
    run_id = getattr(result, "run_id", None)
    if not run_id:
        return
    status = str(getattr(result, "status", "") or "UNKNOWN")
    now = time.time()
    with _lock:
        run = _current.runs.get(run_id)
        if run is None:
            run = TrackedRun(run_id=run_id, status=status, launched_at=now)
            _current.runs[run_id] = run
        elif run.status == status and run.updated_at is not None:
            return
        run.status = status
        run.updated_at = now
        for name in ("url", "job", "location", "repository", "partition"):
            value = getattr(result, name, None)
            if value:
                setattr(run, name, str(value))
        selection = getattr(result, "asset_selection", None)
        if selection:
            run.asset_selection = [str(s) for s in selection]
        if len(_current.runs) > MAX_RUNS:
            for old in [r for r in _current.runs.values() if r.finished][
                : len(_current.runs) - MAX_RUNS
            ]:
                del _current.runs[old.run_id]
    autosave()


def remember_status(run_id: str, status: str) -> None:
    """A new status of a run this session tracks (others are ignored)."""
    with _lock:
        run = _current.runs.get(run_id)
        if run is None or run.status == status:
            return
        run.status = status
        run.updated_at = time.time()
    autosave()
