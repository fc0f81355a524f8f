"""A real ``dagster-webserver`` (+ ``dagster-daemon``) of one Dagster minor, for tests and ``daglab dev``.

    with DagsterServer("1.9") as server:
        httpx.post(f"{server.url}/graphql", json={"query": "{ version }"})

Both processes run in one new process group with a throwaway DAGSTER_HOME. The server is
ready when ``/server_info`` answers, every code location has finished loading (a location
that failed to import counts as loaded, and is listed in ``failed_locations``), and, with the
daemon, every daemon the instance requires is healthy. Stopping kills the whole family and
checks that nothing of it is left.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

from daglab.harness import procs
from daglab.harness.envs import NEWEST, bin_path, ensure_env, normalize_minor
from daglab.harness.errors import HarnessError, ServerStartError, WorkspaceNotFoundError
from daglab.harness.paths import FIXTURE_WORKSPACE

log = logging.getLogger("daglab.harness")

READY_QUERY = """
query DaglabHarnessReady {
  version
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

DAEMON_QUERY = """
query DaglabHarnessDaemons {
  instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } }
}
"""

_LOG_TAIL_LINES = 40


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A free port on 127.0.0.1 below the kernel's ephemeral range.

    The webserver binds it seconds later; a port from ``bind(0)`` could meanwhile be handed to
    anyone else binding port 0 (a mock server in another test session, say), and then our
    readiness checks would talk to that server. Below the ephemeral range only other explicit
    choosers compete, and start() verifies that the listener is our webserver.
    """
    high = _ephemeral_low()
    low = max(1024, high - 12000)
    for _ in range(200):
        port = random.randrange(low, high)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a listening TCP socket on ``port``."""
    try:
        proc = psutil.Process(pid)
        # net_connections() since psutil 6; connections() before.
        conns = getattr(proc, "net_connections", None) or proc.connections
        conns = conns("inet")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns)


def _minor_tuple(minor: str) -> tuple[int, int]:
    major, minor_part = minor.split(".")
    return int(major), int(minor_part)


def dagster_yaml(minor: str, daemon: bool) -> str:
    """The instance config: no telemetry, generous code-server start-up on slow machines."""
    lines = [
        "telemetry:",
        "  enabled: false",
        "code_servers:",
        "  local_startup_timeout: 360",
    ]
    if not daemon and _minor_tuple(minor) >= (1, 10):
        # 1.10+ queue runs by default, and only the daemon dequeues them.
        lines += [
            "run_coordinator:",
            "  module: dagster.core.run_coordinator",
            "  class: DefaultRunCoordinator",
        ]
    return "\n".join(lines) + "\n"


def _process_group(pgid: int) -> dict[str, Any]:
    """Popen arguments that put the child in process group ``pgid`` (0: a new group).

    A new group, not a new session: a process may only join a group of its own session, and
    the daemon must join the webserver's group.
    """
    if sys.version_info >= (3, 11):
        return {"process_group": pgid}
    return {"preexec_fn": lambda: os.setpgid(0, pgid)}  # pragma: no cover


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


class DagsterServer:
    """A ``dagster-webserver`` (and by default ``dagster-daemon``) on a free local port."""

    def __init__(
        self,
        version: str = NEWEST,
        workspace: str | os.PathLike[str] = FIXTURE_WORKSPACE,
        port: int | None = None,
        daemon: bool = True,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 180.0,
        log_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.minor = normalize_minor(version)
        self.workspace = Path(workspace).resolve()
        if not self.workspace.is_file():
            raise WorkspaceNotFoundError(f"No workspace file at {self.workspace}.")
        self.requested_port = port
        self.daemon = daemon
        self.extra_env = dict(env or {})
        self.ready_timeout = ready_timeout
        # A log dir we made ourselves is removed on stop, unless start-up failed.
        self._own_log_dir = log_dir is None
        self._keep_logs = not self._own_log_dir
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="daglab-logs-"))
        self.harness_id = uuid.uuid4().hex
        self.port: int = 0
        self.url = ""
        self.dagster_home = Path()
        self.failed_locations: dict[str, str] = {}
        self.locations: list[str] = []
        self.startup_seconds: float | None = None
        self.leftover_pids: list[int] = []
        self._version: str | None = None
        self._webserver: subprocess.Popen[bytes] | None = None
        self._daemon: subprocess.Popen[bytes] | None = None
        self._pgid: int | None = None
        self._files: list[Any] = []

    # -- public surface -------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """The exact dagster-webserver version the server reports (``"1.7.16"``)."""
        if self._version is None:
            raise HarnessError("The server has not been started.")
        return self._version

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def pgid(self) -> int | None:
        return self._pgid

    @property
    def webserver_log(self) -> Path:
        return self.log_dir / "webserver.log"

    @property
    def daemon_log(self) -> Path:
        return self.log_dir / "daemon.log"

    def pids(self) -> list[int]:
        """Every live process of this server: webserver, daemon, code servers, run workers."""
        return sorted(p.pid for p in procs.family(self._root_pids(), self.harness_id))

    def alive(self) -> bool:
        """Whether the webserver (and the daemon, if any) still run."""
        running = [p for p in (self._webserver, self._daemon) if p is not None]
        return bool(running) and all(p.poll() is None for p in running)

    def __enter__(self) -> DagsterServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"DagsterServer(minor={self.minor!r}, url={self.url!r}, workspace={str(self.workspace)!r})"

    # -- start ----------------------------------------------------------------------------------

    def start(self) -> DagsterServer:
        python = ensure_env(self.minor)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        attempts = 1 if self.requested_port else 3
        for attempt in range(1, attempts + 1):
            self.port = self.requested_port or free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            try:
                self._spawn(python)
                self._wait_ready(started)
                break
            except ServerStartError as exc:
                port_taken = "address already in use" in _tail(self.webserver_log, 200).lower()
                self.stop()
                if attempt == attempts or not port_taken:
                    raise exc from None
                log.info("port %s was taken; retrying on another", self.port)
            except BaseException:
                self.stop()
                raise
        self.startup_seconds = round(time.monotonic() - started, 1)
        log.info(
            "Dagster %s ready at %s in %.1fs (%s)",
            self._version,
            self.url,
            self.startup_seconds,
            self.workspace.name,
        )
        return self

    def _env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            # Our own virtualenv must not leak into Dagster's.
            if k not in ("VIRTUAL_ENV", "PYTHONHOME", "__PYVENV_LAUNCHER__")
        }
        # Temp files (the code servers' gRPC sockets, ...) go under DAGSTER_HOME, which stop()
        # deletes, so even a SIGKILLed process leaves nothing behind in /tmp.
        tmp = self.dagster_home / "tmp"
        tmp.mkdir(exist_ok=True)
        env.update(
            {
                "TMPDIR": str(tmp),
                "TEMP": str(tmp),
                "TMP": str(tmp),
                "DAGSTER_HOME": str(self.dagster_home),
                "DAGSTER_DISABLE_TELEMETRY": "1",
                "PYTHONUNBUFFERED": "1",
                "NO_COLOR": "1",
                procs.HARNESS_ID_VAR: self.harness_id,
            }
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, python: Path) -> None:
        self.dagster_home = Path(tempfile.mkdtemp(prefix="daglab-dagster-home-"))
        (self.dagster_home / "dagster.yaml").write_text(dagster_yaml(self.minor, self.daemon))
        env = self._env()
        cwd = self.workspace.parent
        self._init_storage(python, env)
        web_out = open(self.webserver_log, "ab")  # noqa: SIM115 - closed in stop()
        self._files.append(web_out)
        self._webserver = subprocess.Popen(
            [
                str(bin_path(python, "dagster-webserver")),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-w",
                str(self.workspace),
            ],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=web_out,
            stderr=subprocess.STDOUT,
            **_process_group(0),
        )
        self._pgid = self._webserver.pid
        if not self.daemon:
            return
        daemon_out = open(self.daemon_log, "ab")  # noqa: SIM115 - closed in stop()
        self._files.append(daemon_out)
        self._daemon = subprocess.Popen(
            [str(bin_path(python, "dagster-daemon")), "run", "-w", str(self.workspace)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=daemon_out,
            stderr=subprocess.STDOUT,
            **_process_group(self._pgid),
        )

    def _init_storage(self, python: Path, env: dict[str, str]) -> None:
        """Create the instance's SQLite storage before the webserver and daemon start: both
        create missing tables at start-up, and racing on a fresh DAGSTER_HOME fails one of them
        with ``table alembic_version already exists``.
        """
        result = subprocess.run(
            [str(python), "-c", "from dagster import DagsterInstance; DagsterInstance.get()"],
            cwd=self.dagster_home,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=self.ready_timeout,
            check=False,
        )
        if result.returncode != 0:
            self._keep_logs = True
            raise ServerStartError(
                f"Dagster {self.minor} could not create its storage in {self.dagster_home}:\n"
                + "\n".join((result.stdout + result.stderr).splitlines()[-_LOG_TAIL_LINES:])
            )

    def log_tails(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the webserver's and the daemon's logs, for failure reports."""
        parts = [f"--- webserver log ({self.webserver_log}), last lines ---"]
        parts.append(_tail(self.webserver_log, lines))
        if self.daemon:
            parts.append(f"--- daemon log ({self.daemon_log}), last lines ---")
            parts.append(_tail(self.daemon_log, lines))
        return "\n".join(parts)

    def _failure(self, why: str) -> ServerStartError:
        self._keep_logs = True
        return ServerStartError(
            f"Dagster {self.minor} on {self.workspace} did not start: {why}\n{self.log_tails()}"
        )

    def _check_alive(self) -> None:
        for name, proc in (
            ("dagster-webserver", self._webserver),
            ("dagster-daemon", self._daemon),
        ):
            if proc is not None and proc.poll() is not None:
                raise self._failure(f"{name} exited with code {proc.returncode}")

    def _wait_ready(self, started: float) -> None:
        import httpx

        deadline = started + self.ready_timeout
        stage = "waiting for /server_info"
        with httpx.Client(timeout=10.0, trust_env=False) as client:
            while True:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise self._failure(f"not ready after {self.ready_timeout:.0f}s ({stage})")
                try:
                    stage = self._poll(client)
                except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                    stage = f"{stage}; last error: {type(exc).__name__}: {exc}"
                if stage == "ready":
                    return
                time.sleep(0.5)

    def _poll(self, client: Any) -> str:
        """One readiness check; returns "ready" or what it is still waiting for."""
        response = client.get(f"{self.url}/server_info")
        if response.status_code != 200:
            return f"/server_info answered HTTP {response.status_code}"
        if self._webserver is None or not _listens_on(self._webserver.pid, self.port):
            # Someone else answers on our port; our webserver will fail to bind and exit.
            return f"port {self.port} answers, but not from our dagster-webserver"
        data = client.post(self.graphql_url, json={"query": READY_QUERY}).json()["data"]
        workspace = data["workspaceOrError"]
        if workspace["__typename"] != "Workspace":
            return f"workspaceOrError: {workspace.get('message', workspace['__typename'])}"
        entries = workspace["locationEntries"]
        loading = [e["name"] for e in entries if e["loadStatus"] != "LOADED"]
        if not entries or loading:
            return f"code locations still loading: {', '.join(loading) or '(none listed yet)'}"
        failed = {}
        for entry in entries:
            result = entry["locationOrLoadError"]
            if result is None:
                return f"code location {entry['name']} has no load result yet"
            if result["__typename"] == "PythonError":
                failed[entry["name"]] = result["message"]
        if self.daemon:
            statuses = client.post(self.graphql_url, json={"query": DAEMON_QUERY}).json()
            daemons = statuses["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
            unhealthy = [d["daemonType"] for d in daemons if d["required"] and not d["healthy"]]
            if unhealthy:
                return f"daemons not healthy yet: {', '.join(unhealthy)}"
        self._version = data["version"]
        self.locations = [e["name"] for e in entries]
        self.failed_locations = failed
        return "ready"

    # -- stop -----------------------------------------------------------------------------------

    def _root_pids(self) -> list[int]:
        return [p.pid for p in (self._webserver, self._daemon) if p is not None]

    def stop(self, grace: float = 3.0) -> None:
        """Stop the webserver, the daemon and everything they spawned; idempotent."""
        roots = self._root_pids()
        if roots:
            left = procs.stop_family(
                roots, pgid=self._pgid, harness_id=self.harness_id, grace=grace
            )
            for proc in (self._webserver, self._daemon):
                if proc is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=5)
            self.leftover_pids = left
            if left:
                log.error("processes of %s survived SIGKILL: %s", self, left)
        self._webserver = self._daemon = None
        self._pgid = None
        for handle in self._files:
            handle.close()
        self._files = []
        if self.dagster_home != Path() and self.dagster_home.exists():
            shutil.rmtree(self.dagster_home, ignore_errors=True)
        if not self._keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)
