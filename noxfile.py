"""nox sessions: lint, unit, e2e-<minor> and e2e-prod-<minor> for each supported Dagster minor, e2e, e2e-ci, schemas, bench, bench-mcp.

``nox`` alone runs what CI runs (lint, unit, e2e-ci). uv is the venv backend.
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "unit", "e2e-ci"]

# One line per supported Dagster minor; keep in step with daglab/harness/envs.py.
VERSIONS = ("1.7", "1.8", "1.9", "1.10", "1.11", "1.12", "1.13")
OLDEST, NEWEST = VERSIONS[0], VERSIONS[-1]


# uv installs without bytecode, and PYTHONDONTWRITEBYTECODE (set on CI machines) means Python
# never writes it either: every `python -m daglab` in a test would compile its imports from
# source again. Compile once at install instead, as a pip install would.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")


def _install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("python", "-m", "compileall", "-q", "daglab", silent=True)


def _pytest(session: nox.Session, *args: str) -> None:
    session.run("python", "-m", "pytest", *args, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy and the architecture contracts (import-linter, in pyproject.toml)."""
    _install(session)
    session.run("ruff", "check", "daglab", "tests", "bench", "ci", "noxfile.py")
    session.run("ruff", "format", "--check", "daglab", "tests", "bench", "ci", "noxfile.py")
    session.run("mypy", "daglab")
    session.run("lint-imports")


@nox.session
def unit(session: nox.Session) -> None:
    """Unit tests: no Dagster needed."""
    _install(session)
    _pytest(session, "tests/unit", "-q", "--timeout", "120")


def _e2e(session: nox.Session, version: str, *extra: str) -> None:
    _pytest(session, "tests/e2e", "-q", "--dagster-version", version, *extra)


for _version in VERSIONS:

    @nox.session(name=f"e2e-{_version}")
    def e2e_version(session: nox.Session, version: str = _version) -> None:
        """Every e2e suite against one Dagster minor."""
        _install(session)
        _e2e(session, version)


@nox.session
def e2e(session: nox.Session) -> None:
    """Every e2e suite against every supported Dagster minor, and discover and run on the
    prod shape of each."""
    _install(session)
    for version in VERSIONS:
        _e2e(session, version)
        _prod_smoke(session, version, "-m", "e2e")


@nox.session(name="e2e-ci")
def e2e_ci(session: nox.Session) -> None:
    """What fits CI: every suite on the oldest and newest minor, the smoke set on the rest."""
    _install(session)
    for version in VERSIONS:
        if version in (OLDEST, NEWEST):
            # Every suite, tests/e2e/test_prod.py (the prod shape's own suite) included, then
            # the smoke set of the discover and run suites on the prod shape.
            _e2e(session, version)
            _prod_smoke(session, version)
        else:
            _e2e(session, version, "-m", "smoke")


PROD_SUITES = ("tests/e2e/test_discover.py", "tests/e2e/test_run.py")


def _prod_smoke(session: nox.Session, version: str, *extra: str) -> None:
    """The discover and run suites on the production shape (PostgreSQL, gRPC code servers,
    the run queue, the webserver under /dagster): the smoke set unless ``extra`` says more."""
    _pytest(
        session,
        *PROD_SUITES,
        "-q",
        "--dagster-version",
        version,
        "--dagster-shape",
        "prod",
        *(extra or ("-m", "smoke")),
    )


for _version in VERSIONS:

    @nox.session(name=f"e2e-prod-{_version}")
    def e2e_prod_version(session: nox.Session, version: str = _version) -> None:
        """The prod shape on one Dagster minor: its own suite, then discover and run on it."""
        _install(session)
        _pytest(session, "tests/e2e/test_prod.py", "-q", "--dagster-version", version)
        _prod_smoke(session, version, "-m", "e2e")


@nox.session
def schemas(session: nox.Session) -> None:
    """Dump the GraphQL SDL of every supported minor into tests/schemas/."""
    _install(session)
    session.run("python", "ci/dump_schemas.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: print daglab's figures beside their baselines, as ratios."""
    _install(session)
    session.run("python", "bench/run.py", *session.posargs, env={"PYTHONDONTWRITEBYTECODE": ""})


@nox.session(name="bench-mcp")
def bench_mcp(session: nox.Session) -> None:
    """daglab mcp: a tool call against the helper it wraps, and the server's start-up."""
    _install(session)
    session.run("python", "bench/mcp_overhead.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Start the embedded Dagster, discover, run the orders assets, stop it."""
    _install(session)
    env = {"XDG_STATE_HOME": os.path.join(session.create_tmp(), "state")}
    session.run("daglab", "dev", "up", env=env)
    try:
        session.run("daglab", "discover", env=env)
        session.run("daglab", "run", "--asset-pattern", "orders/*", env=env)
    finally:
        session.run("daglab", "dev", "down", env=env)
