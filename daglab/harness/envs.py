"""One cached virtual environment per Dagster minor version, made with uv.

``ensure_env("1.9")`` returns the Python of ``<cache>/dagster-1.9`` holding ``dagster==1.9.*``
and ``dagster-webserver==1.9.*``, creating it first if needed. The cache is shared by every
process on the machine: a file lock serialises creation, and a marker file written only after
a successful install says an environment is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from daglab.harness.errors import EnvInstallError, UnsupportedVersionError, UvNotFoundError
from daglab.harness.errors import HarnessError as HarnessError  # still importable from here

SUPPORTED_VERSIONS: tuple[str, ...] = ("1.7", "1.8", "1.9", "1.10", "1.11", "1.12", "1.13")
OLDEST = SUPPORTED_VERSIONS[0]
NEWEST = SUPPORTED_VERSIONS[-1]

# Extra requirements per minor, next to dagster and dagster-webserver.
EXTRA_PINS: dict[str, tuple[str, ...]] = {
    # 1.7 leaves watchdog unpinned; watchdog>=5 breaks its event-log watcher.
    "1.7": ("watchdog<5",),
}

HARNESS_PYTHON = "3.11"
MARKER = ".daglab-env.json"
# Bump when the way environments are made changes, so existing ones are redone.
LAYOUT = 2
INSTALL_TIMEOUT = 1200.0


def cache_dir() -> Path:
    """``$DAGLAB_HARNESS_CACHE``, or ``~/.cache/daglab/harness``."""
    base = os.environ.get("DAGLAB_HARNESS_CACHE")
    return Path(base).expanduser() if base else Path.home() / ".cache" / "daglab" / "harness"


def normalize_minor(version: str) -> str:
    """``"1.9"``, ``"1.9.13"`` or ``"1.9.*"`` → ``"1.9"``; unsupported minors are an error."""
    parts = version.strip().split(".")
    minor = ".".join(parts[:2])
    if minor not in SUPPORTED_VERSIONS:
        raise UnsupportedVersionError(
            f"Dagster {version} is not supported by the harness; "
            f"choose one of {', '.join(SUPPORTED_VERSIONS)}."
        )
    return minor


def requirements(minor: str) -> list[str]:
    minor = normalize_minor(minor)
    return [f"dagster=={minor}.*", f"dagster-webserver=={minor}.*", *EXTRA_PINS.get(minor, ())]


def env_dir(minor: str) -> Path:
    return cache_dir() / f"dagster-{normalize_minor(minor)}"


def env_python(minor: str) -> Path:
    return env_dir(minor) / "bin" / "python"


def find_uv() -> str:
    """The uv executable: ``$DAGLAB_HARNESS_UV``, else on PATH, else from the ``uv`` package."""
    override = os.environ.get("DAGLAB_HARNESS_UV")
    if override:
        if os.access(override, os.X_OK) and Path(override).is_file():
            return override
        raise UvNotFoundError(f"DAGLAB_HARNESS_UV={override} is not an executable file.")
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError:
        pass
    else:
        with contextlib.suppress(FileNotFoundError):
            return str(find_uv_bin())
    raise UvNotFoundError(
        "uv is not installed, so the harness cannot create Dagster environments; "
        "install it with `pip install uv` (or the `daglab[harness]` extra)."
    )


def _base_python() -> str:
    override = os.environ.get("DAGLAB_HARNESS_PYTHON")
    if override:
        return override
    if f"{sys.version_info.major}.{sys.version_info.minor}" == HARNESS_PYTHON:
        return sys.executable
    return HARNESS_PYTHON


def read_marker(minor: str) -> dict | None:
    """What the marker of a complete environment records, or None if it is not complete."""
    try:
        data = json.loads((env_dir(minor) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def env_ready(minor: str) -> bool:
    """Whether the environment for ``minor`` is complete (ensure_env() would not install)."""
    marker = read_marker(minor)
    return (
        marker is not None
        and marker.get("requirements") == requirements(minor)
        and marker.get("layout") == LAYOUT
        and env_python(minor).exists()
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], log: Path) -> None:
    with open(log, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            proc = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise EnvInstallError(
                f"`{' '.join(cmd)}` took longer than {INSTALL_TIMEOUT:.0f}s; log: {log}"
            ) from None
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise EnvInstallError(
            f"`{' '.join(cmd)}` failed with exit code {proc.returncode}; log: {log}\n{tail}"
        )


def _compile_bytecode(python: Path, log: Path) -> None:
    """Precompile site-packages: with PYTHONDONTWRITEBYTECODE set (common in CI and containers)
    every Dagster process would otherwise compile all of Dagster from source at start-up, which
    doubles its CPU time. A few unparsable files (templates, tests) are expected; ignore them.
    """
    code = (
        "import compileall, sysconfig;"
        "paths = {sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']};"
        "[compileall.compile_dir(p, quiet=2, workers=0) for p in paths]"
    )
    with open(log, "a") as out:
        out.write("$ compileall site-packages\n")
        out.flush()
        subprocess.run(
            [str(python), "-c", code],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )


def ensure_env(minor: str) -> Path:
    """The Python of the environment for Dagster ``minor``, created with uv if missing.

    Raises UvNotFoundError if uv is missing, EnvInstallError if the install fails.
    """
    minor = normalize_minor(minor)
    if env_ready(minor):
        return env_python(minor)
    uv = find_uv()
    root = cache_dir()
    with _file_lock(root / f"dagster-{minor}.lock"):
        if env_ready(minor):  # another process finished it while we waited
            return env_python(minor)
        target = env_dir(minor)
        log = root / f"dagster-{minor}.install.log"
        log.write_text("")
        started = time.monotonic()
        (target / MARKER).unlink(missing_ok=True)
        if not env_python(minor).exists():
            shutil.rmtree(target, ignore_errors=True)
            _run([uv, "venv", "--quiet", "--python", _base_python(), str(target)], log)
        python = env_python(minor)
        _run([uv, "pip", "install", "--python", str(python), *requirements(minor)], log)
        _compile_bytecode(python, log)
        probe = subprocess.run(
            [str(python), "-c", "import dagster_webserver; print(dagster_webserver.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0:
            raise EnvInstallError(
                f"dagster-webserver does not import in {target}: {probe.stderr.strip()[-2000:]}"
            )
        marker = {
            "layout": LAYOUT,
            "requirements": requirements(minor),
            "dagster_webserver": probe.stdout.strip(),
            "installed_at": time.time(),
            "install_seconds": round(time.monotonic() - started, 1),
        }
        (target / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        return python


def bin_path(python: Path, name: str) -> Path:
    """A console script installed next to ``python`` (``dagster-webserver``, ...)."""
    return python.parent / name


def postgres_requirement(dagster_version: str) -> str:
    """The dagster-postgres release of ``dagster_version``: 1.<m>.<p> ↔ 0.<m+16>.<p>."""
    _major, minor, patch = [*dagster_version.split("."), "0", "0"][:3]
    return f"dagster-postgres==0.{int(minor) + 16}.{patch}"


def _imports(python: Path, module: str) -> bool:
    probe = subprocess.run(
        [str(python), "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    return probe.returncode == 0


def ensure_prod_extras(minor: str) -> Path:
    """The environment of ``minor`` (ensure_env) with dagster-postgres added, for the prod shape.

    dagster-postgres 0.<m+16>.<p> matches Dagster 1.<m>.<p>. When that exact patch was never
    released, the newest 0.<m+16>.* goes in without its dependencies (it would otherwise move
    Dagster itself), with psycopg2-binary beside it.
    """
    python = ensure_env(minor)
    if _imports(python, "dagster_postgres"):
        return python
    uv = find_uv()
    root = cache_dir()
    with _file_lock(root / f"dagster-{normalize_minor(minor)}.lock"):
        if _imports(python, "dagster_postgres"):
            return python
        log = root / f"dagster-{normalize_minor(minor)}.install.log"
        probe = subprocess.run(
            [str(python), "-c", "import dagster; print(dagster.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        version = probe.stdout.strip()
        exact = postgres_requirement(version)
        try:
            _run([uv, "pip", "install", "--python", str(python), exact], log)
        except EnvInstallError:
            series = exact.rsplit(".", 1)[0] + ".*"
            _run([uv, "pip", "install", "--python", str(python), "--no-deps", series], log)
            _run([uv, "pip", "install", "--python", str(python), "psycopg2-binary"], log)
        if not _imports(python, "dagster_postgres"):
            raise EnvInstallError(
                f"dagster-postgres does not import in {env_dir(minor)}; log: {log}"
            )
    return python
