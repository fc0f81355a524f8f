"""A throwaway PostgreSQL server for the harness's production-shaped Dagster.

    with PostgresServer() as pg:
        pg.url  # postgresql://daglab@127.0.0.1:<port>/dagster

The server runs as an unprivileged user (``nobody`` when we are root: PostgreSQL refuses to
run as root) in its own temporary data directory, listens on 127.0.0.1 only on a free port,
with its unix socket in that directory. ``stop()`` stops it (``pg_ctl stop -m fast``, then
SIGKILL by PID if it lingers) and removes the directory.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from daglab.harness.errors import HarnessError, ServerStartError

log = logging.getLogger("daglab.harness")

DATABASE = "dagster"
USER = "daglab"
UNPRIVILEGED = "nobody"


class PostgresNotFoundError(HarnessError):
    """No PostgreSQL server binaries (initdb, pg_ctl) on this machine (exit 3)."""


def find_bindir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``createdb``: $DAGLAB_PG_BINDIR, PATH, or Debian's."""
    override = os.environ.get("DAGLAB_PG_BINDIR")
    candidates = [override] if override else []
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for cand in candidates:
        if cand and all((Path(cand) / tool).is_file() for tool in ("initdb", "pg_ctl", "createdb")):
            return Path(cand)
    raise PostgresNotFoundError(
        "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin); "
        "the prod shape needs it: apt-get install -y postgresql."
    )


def available() -> bool:
    try:
        find_bindir()
    except PostgresNotFoundError:
        return False
    return True


def _free_port() -> int:
    from daglab.harness.server import free_port

    return free_port()


class PostgresServer:
    def __init__(self, ready_timeout: float = 60.0) -> None:
        self.ready_timeout = ready_timeout
        self.bindir = find_bindir()
        self.port = 0
        self.root = Path()
        self.pid: int | None = None
        self._demote: tuple[int, int] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _preexec(self) -> None:
        if self._demote is not None:
            uid, gid = self._demote
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)

    def _run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        env = {"PATH": f"{self.bindir}:/usr/bin:/bin", "LC_ALL": "C", "TZ": "UTC"}
        return subprocess.run(
            list(args),
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            preexec_fn=self._preexec,  # sets the uid before exec
        )

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            raise ServerStartError(
                f"PostgreSQL: {what} failed (exit {result.returncode}):\n"
                + "\n".join((result.stdout + result.stderr).splitlines()[-20:])
                + f"\n{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            return "\n".join((self.root / "postgres.log").read_text().splitlines()[-20:])
        except OSError:
            return "(no postgres log)"

    def start(self) -> PostgresServer:
        self.root = Path(tempfile.mkdtemp(prefix="daglab-pg-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(UNPRIVILEGED)
            self._demote = (entry.pw_uid, entry.pw_gid)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o700)
        self.socket_dir.mkdir()
        if self._demote:
            os.chown(self.socket_dir, *self._demote)
        initdb = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            timeout=120,
        )
        self._check(initdb, "initdb")
        for attempt in range(3):
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200 -c shared_buffers=32MB"
            )
            started = self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.root / "postgres.log"),
                "-o",
                options,
                "-w",
                "-t",
                str(int(self.ready_timeout)),
                "start",
                timeout=self.ready_timeout + 10,
            )
            if started.returncode == 0:
                break
            if "could not bind" not in self._log_tail() or attempt == 2:
                self._check(started, "pg_ctl start")
        self.pid = self._postmaster_pid()
        created = self._run(
            str(self.bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            USER,
            DATABASE,
        )
        self._check(created, "createdb")
        log.info("PostgreSQL ready on 127.0.0.1:%s (pid %s)", self.port, self.pid)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Stop the server and remove its directory; idempotent."""
        if self.root != Path() and self.data_dir.exists() and self._postmaster_pid():
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    "20",
                    "stop",
                    timeout=30,
                )
        if self.pid is not None:
            from daglab.harness import procs

            if procs.pids_alive([self.pid]):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                deadline = time.monotonic() + 5
                while procs.pids_alive([self.pid]) and time.monotonic() < deadline:
                    time.sleep(0.1)
        if self.root != Path():
            shutil.rmtree(self.root, ignore_errors=True)

    def alive(self) -> bool:
        from daglab.harness import procs

        return self.pid is not None and bool(procs.pids_alive([self.pid]))
