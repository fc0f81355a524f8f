"""What ``daglab dev`` runs: a supervisor that keeps one DagsterServer up until told to stop.

``daglab dev up`` spawns ``python -m daglab.harness.devserver ...`` in a new session. The
supervisor starts the server, writes the state file (``daglab.helpers.settings.dev_state_path()``)
once it is ready, and on SIGTERM/SIGINT stops the server and removes the file. ``daglab dev
down`` signals the supervisor, then kills by PID whatever is left of the server's family.

``daglab dev`` imports this module for every subcommand, so psutil, ``procs`` and the server
module (none of which import this one) load only in the functions that need them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from daglab.harness.errors import DevServerError, HarnessError, WorkspaceNotFoundError
from daglab.harness.paths import FIXTURE_PROJECT

UP_TIMEOUT = 600.0  # includes creating the Dagster environment on a fresh machine


def state_path() -> Path:
    from daglab.helpers.settings import dev_state_path

    return dev_state_path()


def read_raw_state() -> dict[str, Any] | None:
    """The state file as written, even if its supervisor is gone (for cleanup)."""
    try:
        data = json.loads(state_path().read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def running_state() -> dict[str, Any] | None:
    """The state of the running dev server, or None."""
    from daglab.helpers.settings import read_dev_state

    return read_dev_state()


def _write_state(state: dict[str, Any]) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    os.replace(tmp, path)


def _remove_state(pid: int) -> None:
    """Remove the state file if it is still ours."""
    state = read_raw_state()
    if state is not None and state.get("pid") == pid:
        state_path().unlink(missing_ok=True)


def logs_root() -> Path:
    return state_path().parent / "dev-logs"


# -- the supervisor ------------------------------------------------------------------------------


class _Stopped(Exception):
    """SIGTERM/SIGINT arrived while the server was still starting."""


def _create_time(pid: int) -> float | None:
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def make_server(
    workspace: Path, minor: str, port: int | None, log_dir: Path, shape: str = "local"
) -> Any:
    """The DagsterServer of ``shape``: ``local`` (in-process code, SQLite) or ``prod``."""
    if shape == "prod":
        from daglab.harness.prod import ProdDagsterServer

        return ProdDagsterServer(minor, workspace=workspace, port=port, log_dir=log_dir)
    from daglab.harness.server import DagsterServer

    return DagsterServer(minor, workspace=workspace, port=port, log_dir=log_dir)


def _shape_state(server: Any) -> dict[str, Any]:
    """What ``dev down`` needs to clean up after a prod server even if its supervisor died."""
    if getattr(server, "shape", "local") != "prod":
        return {"shape": "local"}
    pg = server.postgres
    return {
        "shape": "prod",
        "postgres_pid": pg.pid if pg is not None else None,
        "postgres_pid_create_time": _create_time(pg.pid) if pg is not None and pg.pid else None,
        "postgres_port": pg.port if pg is not None else None,
        "postgres_bindir": str(pg.bindir) if pg is not None else None,
        "data_dirs": [str(d) for d in server.data_dirs],
        "code_servers": {
            name: {"host": "127.0.0.1", "port": cs.port, "pid": cs.pid}
            for name, cs in server.code_servers.items()
        },
        "read_only": server.read_only,
    }


def serve(
    workspace: Path,
    minor: str,
    port: int | None,
    log_dir: Path,
    foreground: bool,
    shape: str = "local",
) -> None:
    """Run a server until SIGTERM/SIGINT; the state file exists exactly while it is ready.

    Raises a HarnessError if the server does not start, DevServerError if it dies.
    """
    stop = threading.Event()
    ready = False

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()
        if not ready:
            raise _Stopped

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    if not foreground:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    server = make_server(workspace, minor, port, log_dir, shape)
    me = os.getpid()
    try:
        server.start()
        ready = True
        state = {
            "url": server.url,
            "pid": me,
            "pid_create_time": _create_time(me),
            "pgid": server.pgid,
            "version": server.version,
            "minor": server.minor,
            "workspace": str(server.workspace),
            "log_dir": str(server.log_dir),
            "started_at": time.time(),
            "startup_seconds": server.startup_seconds,
            "harness_id": server.harness_id,
            "failed_locations": server.failed_locations,
            **_shape_state(server),
        }
        _write_state(state)
        print(f"Dagster {server.version} ready at {server.url}", file=sys.stderr, flush=True)
        print(server.url, flush=True)
        while not stop.wait(1.0):
            if not server.alive():
                raise DevServerError("dagster-webserver or dagster-daemon exited; stopping")
    except _Stopped:
        return
    finally:
        ready = True  # a second signal must not interrupt the teardown
        _remove_state(me)
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m daglab.harness.devserver")
    parser.add_argument("--workspace", required=True, type=Path)
    parser.add_argument("--dagster-version", required=True)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--log-dir", required=True, type=Path)
    parser.add_argument("--shape", choices=("local", "prod"), default="local")
    args = parser.parse_args(argv)
    try:
        serve(
            args.workspace,
            args.dagster_version,
            args.port,
            args.log_dir,
            foreground=False,
            shape=args.shape,
        )
    except HarnessError as exc:
        print(f"daglab dev: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


# -- what the CLI calls --------------------------------------------------------------------------


def find_workspace(project: Path | None) -> Path:
    """The workspace.yaml of ``project`` (a directory or the file itself); default the fixture."""
    target = project if project is not None else FIXTURE_PROJECT
    workspace = target if target.is_file() else target / "workspace.yaml"
    if not workspace.is_file():
        where = "the fixture project of this daglab checkout" if project is None else str(target)
        raise WorkspaceNotFoundError(f"No workspace.yaml found in {where} ({workspace}).")
    return workspace.resolve()


def new_log_dir() -> Path:
    log_dir = logs_root() / time.strftime("%Y%m%d-%H%M%S")
    suffix = 0
    while log_dir.exists():
        suffix += 1
        log_dir = logs_root() / f"{time.strftime('%Y%m%d-%H%M%S')}-{suffix}"
    log_dir.mkdir(parents=True)
    return log_dir


def start_background(
    workspace: Path, minor: str, port: int | None, shape: str = "local"
) -> dict[str, Any]:
    """Spawn the supervisor detached, wait until it is ready, and return its state."""
    log_dir = new_log_dir()
    cmd = [
        sys.executable,
        "-m",
        "daglab.harness.devserver",
        "--workspace",
        str(workspace),
        "--dagster-version",
        minor,
        "--log-dir",
        str(log_dir),
        "--shape",
        shape,
    ]
    if port is not None:
        cmd += ["--port", str(port)]
    supervisor_log = log_dir / "supervisor.log"
    with open(supervisor_log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + UP_TIMEOUT
    while time.monotonic() < deadline:
        code = proc.poll()
        state = read_raw_state()
        if state is not None and state.get("pid") == proc.pid:
            return state
        if code is not None:
            tail = "\n".join(supervisor_log.read_text(errors="replace").splitlines()[-30:])
            raise DevServerError(f"The dev server did not start (exit code {code}).\n{tail}")
        time.sleep(0.5)
    stop_state({"pid": proc.pid, "pid_create_time": _create_time(proc.pid)})
    raise DevServerError(f"The dev server was not ready after {UP_TIMEOUT:.0f}s; logs: {log_dir}")


def state_pids(state: dict[str, Any]) -> list[int]:
    """The supervisor and every live process of its server."""
    from daglab.harness import procs

    roots = [state["pid"]] if isinstance(state.get("pid"), int) else []
    harness_id = state.get("harness_id") if isinstance(state.get("harness_id"), str) else None
    pids = {p.pid for p in procs.family(roots, harness_id)}
    if isinstance(state.get("postgres_pid"), int):
        pids.update(procs.pids_alive([state["postgres_pid"]]))
    return sorted(pids)


def _is_supervisor(state: dict[str, Any]) -> bool:
    """Whether the state's pid is still that supervisor (not a reused PID)."""
    pid = state.get("pid")
    if not isinstance(pid, int):
        return False
    created = _create_time(pid)
    expected = state.get("pid_create_time")
    if created is None:
        return False
    return not isinstance(expected, (int, float)) or abs(created - expected) < 1.0


def stop_state(state: dict[str, Any], timeout: float = 30.0) -> list[int]:
    """Stop the supervisor of ``state`` and everything it spawned; return PIDs left alive.

    Only the supervisor (checked by its start time) and processes tagged with the state's
    harness id are signalled, so a stale state file never hits an unrelated process.
    """
    from daglab.harness import procs

    pid = state.get("pid")
    harness_id = state.get("harness_id") if isinstance(state.get("harness_id"), str) else None
    roots: list[int] = []
    if isinstance(pid, int) and _is_supervisor(state):
        roots = [pid]
        # The supervisor tears its server down on SIGTERM; give it the time to do so.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while procs.pids_alive([pid]) and time.monotonic() < deadline:
            time.sleep(0.2)
    left = procs.stop_family(roots, harness_id=harness_id, grace=3.0)
    left += _stop_postgres(state)
    for path in state.get("data_dirs") or []:
        if isinstance(path, str) and Path(path).name.startswith(
            ("daglab-pg-", "daglab-dagster-home-")
        ):
            shutil.rmtree(path, ignore_errors=True)
    if isinstance(pid, int):
        _remove_state(pid)
    return left


def _stop_postgres(state: dict[str, Any]) -> list[int]:
    """Stop a prod server's PostgreSQL its supervisor left behind (checked by start time)."""
    from daglab.harness import procs

    pid = state.get("postgres_pid")
    if not isinstance(pid, int) or not procs.pids_alive([pid]):
        return []
    expected = state.get("postgres_pid_create_time")
    created = _create_time(pid)
    if created is None or (isinstance(expected, (int, float)) and abs(created - expected) >= 1.0):
        return []
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    deadline = time.monotonic() + 20
    while procs.pids_alive([pid]) and time.monotonic() < deadline:
        time.sleep(0.2)
    if procs.pids_alive([pid]):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    return procs.pids_alive([pid])


if __name__ == "__main__":
    sys.exit(main())
