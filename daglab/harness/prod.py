"""A production-shaped Dagster: PostgreSQL storage, one gRPC code server per location, a run
queue with limits, kept compute logs, the webserver under a path prefix (optionally read-only).

    with ProdDagsterServer("1.13") as server:
        server.url            # http://127.0.0.1:<port>/dagster
        server.code_servers   # {"main": CodeServer(port=..., pid=...), ...}

What a self-hosted deployment (the Helm chart, docker-compose) looks like, on one machine:

- run, event-log and schedule storage in a throwaway PostgreSQL (``postgres.PostgresServer``);
- every location of the given workspace (``python_file`` / ``python_module`` entries) served by
  its own ``dagster code-server start`` on a free port, and a generated workspace of
  ``grpc_server`` entries for the webserver and the daemon;
- ``QueuedRunCoordinator`` with ``max_concurrent_runs`` 8 and tag limit ``daglab/queue``: 1;
- ``LocalComputeLogManager`` keeping every step's stdout/stderr;
- ``dagster-webserver --path-prefix /dagster`` (``--read-only`` for the read-only variant),
  and ``dagster-daemon``.

Everything but PostgreSQL runs in the webserver's process group and carries the harness id;
``stop()`` ends that family, then PostgreSQL, and removes DAGSTER_HOME and the data directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from daglab.harness import procs
from daglab.harness.envs import bin_path, ensure_prod_extras
from daglab.harness.errors import HarnessInputError, ServerStartError
from daglab.harness.postgres import PostgresServer
from daglab.harness.server import DagsterServer, _process_group, _tail, free_port, log

PATH_PREFIX = "/dagster"
MAX_CONCURRENT_RUNS = 8
QUEUE_TAG = "daglab/queue"
QUEUE_TAG_LIMIT = 1


@dataclass
class CodeServer:
    """One ``dagster code-server`` serving one location."""

    location: str
    argv: list[str]
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    handle: Any = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def prod_dagster_yaml(postgres_url: str, compute_logs: Path) -> str:
    config = {
        "telemetry": {"enabled": False},
        "code_servers": {"local_startup_timeout": 360},
        "storage": {"postgres": {"postgres_url": postgres_url}},
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {
                "max_concurrent_runs": MAX_CONCURRENT_RUNS,
                "tag_concurrency_limits": [{"key": QUEUE_TAG, "limit": QUEUE_TAG_LIMIT}],
                "dequeue_interval_seconds": 1,
            },
        },
        "compute_logs": {
            "module": "dagster.core.storage.local_compute_log_manager",
            "class": "LocalComputeLogManager",
            "config": {"base_dir": str(compute_logs)},
        },
    }
    return yaml.safe_dump(config, sort_keys=False)


def code_locations(workspace: Path) -> list[tuple[str, list[str]]]:
    """(location name, code-server arguments) of every entry of a python workspace file."""
    try:
        doc = yaml.safe_load(workspace.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise HarnessInputError(f"Cannot read the workspace {workspace}: {exc}") from None
    entries = (doc or {}).get("load_from") or []
    out: list[tuple[str, list[str]]] = []
    for entry in entries:
        kind, spec = (
            next(iter(entry.items())) if isinstance(entry, dict) and entry else (None, None)
        )
        if isinstance(spec, str):
            spec = {"relative_path" if kind == "python_file" else "module_name": spec}
        if kind not in ("python_file", "python_module") or not isinstance(spec, dict):
            raise HarnessInputError(
                f"The prod shape serves python_file and python_module locations; "
                f"{workspace} has {kind or entry!r}."
            )
        wd = (workspace.parent / str(spec.get("working_directory", "."))).resolve()
        if kind == "python_file":
            target = (workspace.parent / str(spec["relative_path"])).resolve()
            args = ["-f", str(target)]
            default = target.stem
        else:
            args = ["-m", str(spec["module_name"])]
            default = str(spec["module_name"])
        if spec.get("attribute"):
            args += ["-a", str(spec["attribute"])]
        name = str(spec.get("location_name") or default)
        out.append((name, [*args, "-d", str(wd), "--location-name", name]))
    if not out:
        raise HarnessInputError(f"The workspace {workspace} names no code location.")
    return out


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class ProdDagsterServer(DagsterServer):
    """DagsterServer's interface on the production shape; ``url`` carries the path prefix."""

    shape = "prod"

    def __init__(
        self,
        *args: Any,
        read_only: bool = False,
        postgres: PostgresServer | None = None,
        **kwargs: Any,
    ) -> None:
        """``postgres``: another server's PostgreSQL, to serve the same instance (a read-only
        webserver beside a writable one; then ``daemon=False``, one daemon per instance)."""
        super().__init__(*args, **kwargs)
        self.read_only = read_only
        self.path_prefix = PATH_PREFIX
        self.postgres: PostgresServer | None = postgres
        self._own_postgres = postgres is None
        self.code_servers: dict[str, CodeServer] = {}
        self.generated_workspace = Path()
        self._code_env: dict[str, str] = {}
        self._starting = False

    def __repr__(self) -> str:
        ro = ", read_only=True" if self.read_only else ""
        return f"ProdDagsterServer(minor={self.minor!r}, url={self.url!r}{ro})"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dirs(self) -> list[Path]:
        """Every directory this server made that stop() removes."""
        dirs = [self.dagster_home] if self.dagster_home != Path() else []
        if self._own_postgres and self.postgres is not None and self.postgres.root != Path():
            dirs.append(self.postgres.root)
        return dirs

    def start(self) -> ProdDagsterServer:
        started = time.monotonic()
        ensure_prod_extras(self.minor)
        try:
            if self._own_postgres:
                self.postgres = PostgresServer()
                self.postgres.start()
            self._starting = True  # a failed attempt stops Dagster only; PostgreSQL stays
            try:
                super().start()
            finally:
                self._starting = False
        except BaseException:
            self.stop()
            raise
        # The clock of the whole shape, PostgreSQL included.
        self.startup_seconds = round(time.monotonic() - started, 1)
        return self

    def _spawn(self, python: Path) -> None:
        import tempfile

        assert self.postgres is not None
        self.url = f"http://127.0.0.1:{self.port}{self.path_prefix}"
        self.dagster_home = Path(tempfile.mkdtemp(prefix="daglab-dagster-home-"))
        (self.dagster_home / "dagster.yaml").write_text(
            prod_dagster_yaml(
                self.postgres.url.replace("postgresql://", "postgresql+psycopg2://", 1),
                self.dagster_home / "compute_logs",
            )
        )
        env = self._env()
        self._init_storage(python, env)
        # Code servers first: the webserver loads its workspace from them.
        self._spawn_code_servers(python, env)
        self._wait_code_servers()
        cwd = self.workspace.parent
        web_out = open(self.webserver_log, "ab")  # noqa: SIM115 - closed in stop()
        self._files.append(web_out)
        argv = [
            str(bin_path(python, "dagster-webserver")),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-w",
            str(self.generated_workspace),
            "--path-prefix",
            self.path_prefix,
        ]
        if self.read_only:
            argv.append("--read-only")
        assert self._pgid is not None
        self._webserver = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=web_out,
            stderr=subprocess.STDOUT,
            **_process_group(self._pgid),
        )
        if not self.daemon:
            return
        daemon_out = open(self.daemon_log, "ab")  # noqa: SIM115 - closed in stop()
        self._files.append(daemon_out)
        self._daemon = subprocess.Popen(
            [str(bin_path(python, "dagster-daemon")), "run", "-w", str(self.generated_workspace)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=daemon_out,
            stderr=subprocess.STDOUT,
            **_process_group(self._pgid),
        )

    def _spawn_code_servers(self, python: Path, env: dict[str, str]) -> None:
        self.code_servers = {}
        used = {self.port}
        entries = []
        for name, args in code_locations(self.workspace):
            port = free_port()
            while port in used:
                port = free_port()
            used.add(port)
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
            argv = [
                str(bin_path(python, "dagster")),
                "code-server",
                "start",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                *args,
            ]
            server = CodeServer(name, argv, port, self.log_dir / f"code-server-{safe}.log")
            self.code_servers[name] = server
            self._launch(server, env)
            entries.append(
                {"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": name}}
            )
        self.generated_workspace = self.dagster_home / "workspace.yaml"
        self.generated_workspace.write_text(yaml.safe_dump({"load_from": entries}))
        self._code_env = env

    def _launch(self, server: CodeServer, env: dict[str, str]) -> None:
        if server.handle is not None:
            server.handle.close()
        server.handle = open(server.log, "ab")  # noqa: SIM115 - closed in stop()
        server.proc = subprocess.Popen(
            server.argv,
            cwd=self.workspace.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=server.handle,
            stderr=subprocess.STDOUT,
            **_process_group(self._pgid or 0),
        )
        if self._pgid is None:
            self._pgid = server.proc.pid

    def _wait_code_servers(
        self, names: list[str] | None = None, timeout: float | None = None
    ) -> None:
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        waiting = list(names or self.code_servers)
        while waiting:
            for name in list(waiting):
                server = self.code_servers[name]
                if server.proc is not None and server.proc.poll() is not None:
                    raise self._failure(
                        f"the code server of {name} exited with code {server.proc.returncode}:\n"
                        + _tail(server.log)
                    )
                if _port_open(server.port):
                    waiting.remove(name)
            if waiting and time.monotonic() > deadline:
                raise self._failure(f"code servers not listening: {', '.join(waiting)}")
            time.sleep(0.2)

    # -- code servers, for tests ----------------------------------------------------------------

    def kill_code_server(self, location: str) -> int:
        """SIGKILL the code server of ``location`` (by its PID); return that PID."""
        server = self.code_servers[location]
        if server.proc is None:
            raise ServerStartError(f"the code server of {location} is not running")
        pid = server.proc.pid
        # Its own children (a code-server start runs the code in a subprocess) go too.
        for child in procs.descendants(pid):
            with contextlib.suppress(Exception):
                child.kill()
        os.kill(pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        return pid

    def restart_code_server(self, location: str, wait: bool = True) -> int:
        """Start the code server of ``location`` again on its port; return the new PID."""
        server = self.code_servers[location]
        if server.alive():
            self.kill_code_server(location)
        for _ in range(50):  # the port may linger a moment after SIGKILL
            if not _port_open(server.port):
                break
            time.sleep(0.1)
        self._launch(server, self._code_env)
        server.restarts += 1
        if wait:
            self._wait_code_servers([location])
        assert server.pid is not None
        return server.pid

    # -- liveness and stop ----------------------------------------------------------------------

    def _check_alive(self) -> None:
        super()._check_alive()
        for name, server in self.code_servers.items():
            if server.proc is not None and server.proc.poll() is not None:
                raise self._failure(
                    f"the code server of {name} exited with code {server.proc.returncode}"
                )

    def _root_pids(self) -> list[int]:
        pids = super()._root_pids()
        pids += [s.pid for s in self.code_servers.values() if s.alive() and s.pid is not None]
        return pids

    def log_tails(self, lines: int = 40) -> str:
        parts = [super().log_tails(lines)]
        for name, server in self.code_servers.items():
            parts.append(f"--- code server {name} ({server.log}), last lines ---")
            parts.append(_tail(server.log, lines))
        return "\n".join(parts)

    def stop(self, grace: float = 3.0) -> None:
        code_procs = [s.proc for s in self.code_servers.values() if s.proc is not None]
        super().stop(grace)
        for proc in code_procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        for server in self.code_servers.values():
            if server.handle is not None:
                server.handle.close()
                server.handle = None
            server.proc = None
        if self._own_postgres and self.postgres is not None and not self._starting:
            self.postgres.stop()
            if self.postgres.alive():
                self.leftover_pids.append(self.postgres.pid or 0)
                log.error("PostgreSQL of %s survived its stop: pid %s", self, self.postgres.pid)
