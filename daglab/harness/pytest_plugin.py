"""pytest plugin ``daglab`` (entry point ``pytest11``): real Dagster servers as fixtures.

- ``--dagster-version X`` (or ``DAGLAB_DAGSTER_VERSION``; default the newest supported minor)
  picks the Dagster minor for the whole session.
- ``dagster_version``: that minor, e.g. ``"1.9"``.
- ``dagster_server``: one ``DagsterServer`` on the fixture workspace, started on first use and
  shared by every test of the session.
- ``--dagster-shape local|prod`` (or ``DAGLAB_DAGSTER_SHAPE``; default ``local``) picks the
  deployment shape of ``dagster_server``: ``local`` loads the code in-process with SQLite;
  ``prod`` is daglab.harness.prod (PostgreSQL, one gRPC code server per location, a run queue
  with limits, the webserver under ``/dagster``).
- ``prod_dagster_server`` / ``read_only_dagster_server``: the prod shape on the fixture
  workspace whatever the session's shape (the second with ``--read-only``).
- ``broken_dagster_server``: the same on ``workspace_broken.yaml`` (location ``broken`` fails to
  load), without the daemon; started only if a test asks for it.

Tests marked ``e2e`` are skipped only when uv is missing (nothing can install Dagster then);
any other failure to provide a server is an error. Importing this module is cheap: it is
loaded by every pytest run, including unit runs on machines without Dagster.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from daglab.harness.paths import FIXTURE_WORKSPACE, FIXTURE_WORKSPACE_BROKEN

if TYPE_CHECKING:
    from daglab.harness.server import DagsterServer

_VERSION_ENV = "DAGLAB_DAGSTER_VERSION"
_SHAPE_ENV = "DAGLAB_DAGSTER_SHAPE"
SHAPES = ("local", "prod")
_READY_TIMEOUT_ENV = "DAGLAB_HARNESS_READY_TIMEOUT"
# (description, seconds to ready) of every server the harness started in this session.
_READY_TIMES: list[tuple[str, float]] = []
_uv_checked = False
_uv_missing_reason: str | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("daglab", "daglab harness")
    group.addoption(
        "--dagster-version",
        action="store",
        default=None,
        metavar="MINOR",
        help=f"Dagster minor version for e2e tests, e.g. 1.9 (env {_VERSION_ENV}; "
        "default: the newest supported).",
    )
    group.addoption(
        "--dagster-shape",
        action="store",
        default=None,
        choices=SHAPES,
        help=f"Deployment shape of dagster_server: local (default) or prod (env {_SHAPE_ENV}).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs against a real dagster-webserver")
    config.addinivalue_line("markers", "smoke: the e2e subset CI runs on every Dagster version")


def _uv_missing() -> str | None:
    """Why e2e tests cannot run here (uv missing), or None. Checked once per session."""
    global _uv_checked, _uv_missing_reason
    if not _uv_checked:
        from daglab.harness.envs import UvNotFoundError, find_uv

        try:
            find_uv()
        except UvNotFoundError as exc:
            _uv_missing_reason = str(exc)
        _uv_checked = True
    return _uv_missing_reason


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("e2e") is not None:
        reason = _uv_missing()
        if reason:
            pytest.skip(f"e2e test skipped: {reason}")


def requested_minor(config: pytest.Config) -> str:
    from daglab.harness.envs import NEWEST, HarnessError, normalize_minor

    raw = config.getoption("--dagster-version") or os.environ.get(_VERSION_ENV) or NEWEST
    try:
        return normalize_minor(raw)
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None


def requested_shape(config: pytest.Config) -> str:
    shape = config.getoption("--dagster-shape") or os.environ.get(_SHAPE_ENV) or "local"
    if shape not in SHAPES:
        raise pytest.UsageError(f"{_SHAPE_ENV}={shape}: choose one of {', '.join(SHAPES)}.")
    return str(shape)


def ready_timeout() -> float:
    """Seconds a test server may take to become ready (env DAGLAB_HARNESS_READY_TIMEOUT).

    Generous by default: start-up is CPU-bound, and a busy 2-core machine may run several
    servers side by side.
    """
    return float(os.environ.get(_READY_TIMEOUT_ENV) or 420)


@pytest.fixture(scope="session")
def dagster_version(pytestconfig: pytest.Config) -> str:
    """The Dagster minor this session tests against, e.g. ``"1.13"``."""
    return requested_minor(pytestconfig)


@pytest.fixture(scope="session")
def dagster_shape(pytestconfig: pytest.Config) -> str:
    """The deployment shape of this session's ``dagster_server``: ``"local"`` or ``"prod"``."""
    return requested_shape(pytestconfig)


def start_server(
    tmp_path_factory: pytest.TempPathFactory, minor: str, shape: str = "local", **kwargs: Any
) -> DagsterServer:
    """Start a DagsterServer (``shape`` "prod": a ProdDagsterServer) with its logs under
    pytest's temp dir; skip if uv is missing (or, for prod, PostgreSQL)."""
    reason = _uv_missing()
    if reason:
        pytest.skip(reason)
    server_class: type[DagsterServer]
    if shape == "prod":
        from daglab.harness import postgres
        from daglab.harness.prod import ProdDagsterServer

        if not postgres.available():
            pytest.skip("the prod shape needs PostgreSQL: apt-get install -y postgresql")
        server_class = ProdDagsterServer
    else:
        from daglab.harness.server import DagsterServer

        server_class = DagsterServer
        kwargs.pop("read_only", None)
        kwargs.pop("postgres", None)

    workspace = kwargs.get("workspace")
    label = (
        f"dagster-{minor}-{shape}-{os.path.basename(str(workspace)) if workspace else 'workspace'}"
    )
    kwargs.setdefault("ready_timeout", ready_timeout())
    server = server_class(minor, log_dir=tmp_path_factory.mktemp(label), **kwargs)
    atexit.register(server.stop)  # a safety net if the session dies before teardown
    server.start()
    if server.startup_seconds is not None:
        _READY_TIMES.append(
            (
                f"Dagster {server.version} ({shape}{', read-only' if kwargs.get('read_only') else ''})"
                f" on {server.workspace.name}",
                server.startup_seconds,
            )
        )
    return server


def stop_server(server: DagsterServer) -> None:
    """Stop ``server``; fail if any of its processes outlived the teardown."""
    server.stop()
    atexit.unregister(server.stop)
    if server.leftover_pids:
        pytest.fail(
            f"processes of {server!r} outlived the teardown: {server.leftover_pids}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def dagster_server(
    dagster_version: str, dagster_shape: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterServer]:
    """A webserver + daemon on the fixture workspace, of the session's shape, shared by the
    whole session."""
    if dagster_shape == "prod":
        # One prod server per session: the prod suites' own fixture is this one.
        yield _prod_server(dagster_version, tmp_path_factory)
        _stop_prod(dagster_version, False)
        return
    server = start_server(tmp_path_factory, dagster_version, workspace=FIXTURE_WORKSPACE)
    yield server
    stop_server(server)


_PROD: dict[tuple[str, bool], DagsterServer] = {}


def _prod_server(minor: str, tmp_path_factory: pytest.TempPathFactory) -> DagsterServer:
    key = (minor, False)
    if key not in _PROD:
        _PROD[key] = start_server(tmp_path_factory, minor, "prod", workspace=FIXTURE_WORKSPACE)
    return _PROD[key]


def _stop_prod(minor: str, read_only: bool) -> None:
    server = _PROD.pop((minor, read_only), None)
    if server is not None:
        stop_server(server)


@pytest.fixture(scope="session")
def prod_dagster_server(
    dagster_version: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterServer]:
    """The prod shape (daglab.harness.prod.ProdDagsterServer) on the fixture workspace; the
    same server as ``dagster_server`` in a ``--dagster-shape prod`` session."""
    yield _prod_server(dagster_version, tmp_path_factory)
    _stop_prod(dagster_version, False)


@pytest.fixture(scope="session")
def read_only_dagster_server(
    dagster_version: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterServer]:
    """The prod shape with ``dagster-webserver --read-only`` on the same instance (the same
    PostgreSQL) as ``prod_dagster_server``, without a second daemon: runs launched on the
    writable one are there to be refused."""
    writable = _prod_server(dagster_version, tmp_path_factory)
    key = (dagster_version, True)
    if key not in _PROD:
        _PROD[key] = start_server(
            tmp_path_factory,
            dagster_version,
            "prod",
            workspace=FIXTURE_WORKSPACE,
            read_only=True,
            daemon=False,
            postgres=getattr(writable, "postgres", None),
        )
    yield _PROD[key]
    _stop_prod(dagster_version, True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A safety net: no prod server outlives the session, whatever tore down first."""
    for key in sorted(_PROD, key=lambda k: not k[1]):  # read-only first: it shares PostgreSQL
        server = _PROD.pop(key)
        server.stop()
        atexit.unregister(server.stop)


@pytest.fixture(scope="session")
def broken_dagster_server(
    dagster_version: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterServer]:
    """A webserver (no daemon) on workspace_broken.yaml: ``main`` loads, ``broken`` fails."""
    server = start_server(
        tmp_path_factory, dagster_version, workspace=FIXTURE_WORKSPACE_BROKEN, daemon=False
    )
    yield server
    stop_server(server)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failed test, show the last lines of the logs of the Dagster servers it used."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    server_module = sys.modules.get("daglab.harness.server")
    if report.when != "call" or not report.failed or server_module is None:
        return
    for name, value in getattr(item, "funcargs", {}).items():
        if isinstance(value, server_module.DagsterServer):
            report.sections.append((f"Dagster server logs ({name})", value.log_tails(60)))


def pytest_report_header(config: pytest.Config) -> str | None:
    try:
        return f"daglab harness: Dagster {requested_minor(config)}, shape {requested_shape(config)}"
    except pytest.UsageError:
        return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _READY_TIMES:
        return
    terminalreporter.section("daglab harness")
    for label, seconds in _READY_TIMES:
        terminalreporter.write_line(f"{label}: ready in {seconds:.1f}s")


# -- the mock Dagster (daglab.harness.mock) ---------------------------------------------------
# For what real Dagster cannot produce: auth, faults, error unions, lost responses. Both are
# function-scoped, so switches and recorded requests never leak between tests.

if TYPE_CHECKING:
    from daglab.harness.mock import MockDagster


@pytest.fixture
def mock_app() -> MockDagster:
    """An in-process mock: ``DagsterClient(mock_app.url, transport=mock_app.transport())``."""
    from daglab.harness.mock import MockDagster

    return MockDagster()


@pytest.fixture
def mock_dagster() -> Iterator[MockDagster]:
    """The mock over real HTTP on a free 127.0.0.1 port (``mock_dagster.url``)."""
    from daglab.harness.mock import MockDagster

    with MockDagster() as mock:
        yield mock
