"""Shared fixtures of the e2e suites: a real Dagster server and ways to talk to it.

The servers themselves come from the ``daglab`` pytest plugin (``dagster_server``,
``broken_dagster_server``, ``dagster_version``; see daglab/harness/pytest_plugin.py). Every
test under tests/e2e is marked ``e2e``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from daglab.harness.server import DagsterServer
from tests.conftest import isolated_env

TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

LAUNCH_RUN = """
mutation DaglabTestLaunch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

RUN_STATUS = """
query DaglabTestRunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status }
    ... on Error { message }
  }
}
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def graphql(
    server: DagsterServer, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a GraphQL document to ``server`` with plain httpx; return ``data`` (asserts no errors)."""
    import httpx

    response = httpx.post(
        server.graphql_url,
        json={"query": query, "variables": variables or {}},
        timeout=60.0,
        trust_env=False,
    )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


OPS_EVENT_PAGE = 10

SERVER_EVENT_PAGE = """
query DaglabTestEvents($runId: ID!, $afterCursor: String) {
  logsForRun(runId: $runId, afterCursor: $afterCursor) {
    __typename
    ... on EventConnection {
      cursor hasMore events { __typename ... on MessageEvent { eventType stepKey message } }
    }
  }
}
"""


def server_events(server: DagsterServer, run_id: str) -> list[dict[str, Any]]:
    """Every event of ``run_id`` as the server pages them (its own page size, no limit)."""
    events: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        page = graphql(server, SERVER_EVENT_PAGE, {"runId": run_id, "afterCursor": cursor})
        logs = page["logsForRun"]
        assert logs["__typename"] == "EventConnection", logs
        events.extend(logs["events"])
        cursor = logs["cursor"]
        if not logs["hasMore"] or not logs["events"]:
            return events
    raise AssertionError("the server's event log did not end")


def launch_job(
    server: DagsterServer,
    job: str,
    *,
    location: str = "main",
    run_config: dict[str, Any] | None = None,
) -> str:
    """Launch ``job`` over GraphQL (not through daglab); return the run id."""
    params = {
        "selector": {
            "repositoryLocationName": location,
            "repositoryName": "__repository__",
            "jobName": job,
        },
        "runConfigData": run_config or {},
        "mode": "default",
    }
    result = graphql(server, LAUNCH_RUN, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    run_id: str = result["run"]["runId"]
    return run_id


def wait_for_run(
    server: DagsterServer,
    run_id: str,
    until: Callable[[str], bool] = TERMINAL_STATUSES.__contains__,
    timeout: float = 180.0,
) -> str:
    """Poll the run's status until ``until(status)``; return the status."""
    deadline = time.monotonic() + timeout
    status = "?"
    while time.monotonic() < deadline:
        status = graphql(server, RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
        if until(status):
            return status
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} still {status} after {timeout:.0f}s")


@pytest.fixture(scope="session")
def ops_server(
    dagster_version: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterServer]:
    """A webserver + daemon on workspace_ops.yaml (location ``ops``: runs to operate, with
    stdout/stderr, a re-executable failure and a daily asset with one failing partition)."""
    from daglab.harness import FIXTURE_PROJECT
    from daglab.harness.pytest_plugin import start_server, stop_server

    server = start_server(
        tmp_path_factory,
        dagster_version,
        workspace=FIXTURE_PROJECT / "workspace_ops.yaml",
        # An operator's smaller event page (the default is 1000): 1.8-1.12 refuse a larger
        # logsForRun limit with a PythonError, 1.13 clamps, 1.7 has no cap. Every log read and
        # watch of the ops suite then pages, and daglab must take the server's maximum.
        env={"DAGSTER_UI_EVENT_LOAD_CHUNK_SIZE": str(OPS_EVENT_PAGE)},
    )
    yield server
    stop_server(server)


@pytest.fixture
def dagster_url(dagster_server: DagsterServer) -> str:
    """The URL of the session's Dagster server, e.g. ``http://127.0.0.1:41234``."""
    return dagster_server.url


@pytest.fixture
def dagster_cli_env(tmp_path: Path, dagster_server: DagsterServer) -> dict[str, str]:
    """An isolated environment for ``run_cli`` pointing daglab at the session's server."""
    return isolated_env(tmp_path, DAGLAB_URL=dagster_server.url)
