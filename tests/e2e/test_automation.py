"""Schedules, sensors, code-location reloads and daemon health against a real Dagster server.

One server (webserver + daemon) on a workspace written per session: location `automation`
(fixtures/dagster_project/automation_location.py) and location `reloadable`, a module in a
temporary directory the tests rewrite. Truth is the server's record, read by direct GraphQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daglab.harness.server import DagsterServer
from tests.conftest import CliResult, isolated_env, run_cli
from tests.e2e.conftest import graphql

pytestmark = pytest.mark.e2e

REPO = "__repository__"

RELOADABLE_BEFORE = """
from dagster import Definitions, asset


@asset
def before_reload() -> int:
    return 1


defs = Definitions(assets=[before_reload])
"""

RELOADABLE_AFTER = RELOADABLE_BEFORE.replace(
    "defs = Definitions(assets=[before_reload])",
    "@asset\ndef after_reload() -> int:\n    return 2\n\n\n"
    "defs = Definitions(assets=[before_reload, after_reload])",
)

RELOADABLE_BROKEN = "def broken(:\n    pass\n"

SERVER_INSTIGATORS = """
query DaglabTestInstigators {
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        name location { name }
        schedules { name cronSchedule executionTimezone scheduleState { status }
                    futureTicks(limit: 1) { results { timestamp } } }
        sensors { name minIntervalSeconds sensorState { status } }
      }
    }
  }
}
"""

SERVER_SENSOR_TICKS = """
query DaglabTestSensorTicks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status ticks(limit: 20) { tickId status runIds skipReason
                                                            error { message } } } }
  }
}
"""

SERVER_DAEMONS = """
query DaglabTestDaemons {
  instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } }
}
"""


@pytest.fixture(scope="session")
def reloadable_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reloadable")


@pytest.fixture(scope="session")
def automation_server(
    dagster_version: str, tmp_path_factory: pytest.TempPathFactory, reloadable_dir: Path
) -> Iterator[DagsterServer]:
    from daglab.harness import FIXTURE_PROJECT
    from daglab.harness.pytest_plugin import start_server, stop_server

    (reloadable_dir / "reloadable_location.py").write_text(RELOADABLE_BEFORE)
    workspace = reloadable_dir / "workspace_automation.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_file:\n"
        f"      relative_path: {FIXTURE_PROJECT / 'automation_location.py'}\n"
        f"      working_directory: {FIXTURE_PROJECT}\n"
        "      location_name: automation\n"
        "  - python_file:\n"
        f"      relative_path: {reloadable_dir / 'reloadable_location.py'}\n"
        f"      working_directory: {reloadable_dir}\n"
        "      location_name: reloadable\n"
    )
    server = start_server(tmp_path_factory, dagster_version, workspace=workspace)
    yield server
    stop_server(server)


@pytest.fixture
def env(tmp_path: Path, automation_server: DagsterServer) -> dict[str, str]:
    return isolated_env(tmp_path, DAGLAB_URL=automation_server.url)


def server_instigators(server: DagsterServer, kind: str) -> dict[str, dict[str, Any]]:
    data = graphql(server, SERVER_INSTIGATORS)
    return {
        i["name"]: {**i, "location": n["location"]["name"]}
        for n in data["repositoriesOrError"]["nodes"]
        for i in n[f"{kind}s"]
    }


def sensor_state(server: DagsterServer, name: str) -> dict[str, Any]:
    selector = {"repositoryLocationName": "automation", "repositoryName": REPO, "sensorName": name}
    data = graphql(server, SERVER_SENSOR_TICKS, {"selector": selector})["sensorOrError"]
    assert data["__typename"] == "Sensor", data
    state: dict[str, Any] = data["sensorState"]
    return state


def cli(*args: str, env: dict[str, str]) -> CliResult:
    return run_cli(*args, env=env, timeout=300)


def test_schedules_list_matches_the_server_and_filters(
    automation_server: DagsterServer, env: dict[str, str]
) -> None:
    server = server_instigators(automation_server, "schedule")
    result = cli("schedules", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    listed = {s["name"]: s for s in result.json()["schedules"]}
    assert set(listed) == set(server) == {"daily_schedule", "hourly_schedule"}
    for name, mine in listed.items():
        assert mine["status"] == server[name]["scheduleState"]["status"]
        assert mine["cron_schedule"] == server[name]["cronSchedule"]
        assert mine["location"] == server[name]["location"]
    running = cli("schedules", "list", "--status", "running", "--json", env=env).json()
    assert [s["name"] for s in running["schedules"]] == [
        n for n, s in server.items() if s["scheduleState"]["status"] == "RUNNING"
    ]
    by_name = cli("schedules", "list", "hourly*", "--location", "automation", "--json", env=env)
    assert [s["name"] for s in by_name.json()["schedules"]] == ["hourly_schedule"]
    elsewhere = cli("schedules", "list", "--location", "reloadable", "--json", env=env).json()
    assert elsewhere == {"schedules": [], "count": 0}
    bad = cli("schedules", "list", "--status", "paused", env=env)
    assert bad.returncode == 2 and "running or stopped" in bad.stderr


def test_schedule_show_next_tick_is_the_servers(
    automation_server: DagsterServer, env: dict[str, str]
) -> None:
    result = cli("schedules", "show", "daily_schedule", "--json", env=env)
    assert result.returncode == 0, result.stderr
    doc = result.json()
    server = server_instigators(automation_server, "schedule")["daily_schedule"]
    assert doc["next_tick"] == server["futureTicks"]["results"][0]["timestamp"]
    assert doc["timezone"] == server["executionTimezone"] == "Europe/Paris"
    assert doc["status"] == "RUNNING" and doc["default_status"] == "RUNNING"
    assert doc["jobs"] == ["tick_job"]
    text = cli("schedules", "show", "daily_schedule", env=env)
    assert "cron 0 6 * * *  (Europe/Paris)" in text.stdout
    missing = cli("schedules", "show", "no_such_schedule", env=env)
    assert missing.returncode == 2 and "No schedule 'no_such_schedule'" in missing.stderr


def test_start_a_stopped_sensor_see_it_request_a_run_and_stop_it(
    automation_server: DagsterServer, env: dict[str, str]
) -> None:
    assert sensor_state(automation_server, "requesting_sensor")["status"] == "STOPPED"
    started = cli("sensors", "start", "requesting_sensor", "--json", env=env)
    assert started.returncode == 0, started.stderr
    assert started.json()["after"] == "RUNNING"
    assert sensor_state(automation_server, "requesting_sensor")["status"] == "RUNNING"
    again = cli("sensors", "start", "requesting_sensor", "--json", env=env)
    assert again.returncode == 2 and "already RUNNING" in again.stderr
    assert again.json()["error"]["code"] == 2

    deadline = time.monotonic() + 120
    requested: list[str] = []
    while time.monotonic() < deadline and not requested:
        ticks = sensor_state(automation_server, "requesting_sensor")["ticks"]
        requested = [r for t in ticks for r in t["runIds"]]
        time.sleep(1)
    assert len(requested) == 1, "the sensor requested no run in 120s"

    shown = cli("sensors", "show", "requesting_sensor", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    server_ticks = sensor_state(automation_server, "requesting_sensor")["ticks"]
    mine = {t["tick_id"]: t for t in shown.json()["ticks"]}
    theirs = {str(t["tickId"]): t for t in server_ticks}
    common = set(mine) & set(theirs)
    assert common
    for tick_id in common:
        assert mine[tick_id]["status"] == theirs[tick_id]["status"]
        assert mine[tick_id]["run_ids"] == theirs[tick_id]["runIds"]
    assert any(t["run_ids"] == requested for t in mine.values())
    text = cli("sensors", "show", "requesting_sensor", env=env).stdout
    assert f"runs {requested[0]}" in text

    stopped = cli("sensors", "stop", "requesting_sensor", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert sensor_state(automation_server, "requesting_sensor")["status"] == "STOPPED"
    assert "declared RUNNING" not in stopped.stderr
    twice = cli("sensors", "stop", "requesting_sensor", env=env)
    assert twice.returncode == 2 and "already STOPPED" in twice.stderr


def test_failing_sensor_ticks_show_the_error(
    automation_server: DagsterServer, env: dict[str, str]
) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ticks = sensor_state(automation_server, "failing_sensor")["ticks"]
        if any(t["status"] == "FAILURE" for t in ticks):
            break
        time.sleep(1)
    result = cli("sensors", "show", "failing_sensor", "--json", env=env)
    assert result.returncode == 0, result.stderr
    failures = [t for t in result.json()["ticks"] if t["status"] == "FAILURE"]
    assert failures and "this sensor fails on purpose" in failures[0]["error"]
    text = cli("sensors", "show", "failing_sensor", env=env).stdout
    assert "FAILURE" in text and "error:" in text


def test_stopping_a_schedule_declared_running_says_what_dagster_does(
    automation_server: DagsterServer, env: dict[str, str]
) -> None:
    stopped = cli("schedules", "stop", "daily_schedule", "--json", env=env)
    assert stopped.returncode == 0, stopped.stderr
    doc = stopped.json()
    assert doc["before"] == "RUNNING" and doc["after"] == "STOPPED"
    assert "declared RUNNING in code" in doc["note"] and "resetSchedule" in doc["note"]
    server = server_instigators(automation_server, "schedule")["daily_schedule"]
    assert server["scheduleState"]["status"] == "STOPPED"
    shown = cli("schedules", "show", "daily_schedule", env=env).stdout
    assert "STOPPED (declared RUNNING in code)" in shown
    started = cli("schedules", "start", "daily_schedule", env=env)
    assert started.returncode == 0, started.stderr
    server = server_instigators(automation_server, "schedule")["daily_schedule"]
    assert server["scheduleState"]["status"] == "RUNNING"


def test_sensors_list_filters_match_the_server(
    automation_server: DagsterServer, env: dict[str, str]
) -> None:
    server = server_instigators(automation_server, "sensor")
    result = cli("sensors", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert {s["name"]: s["status"] for s in result.json()["sensors"]} == {
        n: s["sensorState"]["status"] for n, s in server.items()
    }
    fails = cli("sensors", "list", "fail", "--repo", REPO, "--json", env=env).json()
    assert [s["name"] for s in fails["sensors"]] == ["failing_sensor"]


def test_reload_after_a_code_change_and_a_broken_location(
    automation_server: DagsterServer, env: dict[str, str], reloadable_dir: Path
) -> None:
    module = reloadable_dir / "reloadable_location.py"
    try:
        module.write_text(RELOADABLE_AFTER)
        result = cli("reload", "reloadable", "--json", env=env)
        assert result.returncode == 0, result.stderr
        assert result.json()["ok"] is True
        assets = cli(
            "discover", "--filter", "assets", "--location", "reloadable", "--json", env=env
        )
        assert "after_reload" in assets.stdout, assets.stdout

        module.write_text(RELOADABLE_BROKEN)
        broken = cli("reload", "reloadable", env=env)
        assert broken.returncode == 3, broken.stderr
        assert "failed to load" in broken.stderr and "SyntaxError" in broken.stderr
        doc = cli("reload", "reloadable", "--json", env=env)
        assert doc.returncode == 3 and doc.json()["ok"] is False

        status = cli("status", "--json", env=env)
        assert status.returncode == 3, status.stderr
        assert "code location reloadable is FAILED" in status.json()["problems"]
        assert "Not healthy" in status.stderr
    finally:
        module.write_text(RELOADABLE_BEFORE)
        restored = cli("reload", "--all", env=env)
    assert restored.returncode == 0, restored.stderr
    unknown = cli("reload", "nowhere", env=env)
    assert unknown.returncode == 2 and "No code location 'nowhere'" in unknown.stderr


def test_status_reports_each_daemon_as_the_server_does(
    automation_server: DagsterServer, env: dict[str, str]
) -> None:
    server = {
        d["daemonType"]: d
        for d in graphql(automation_server, SERVER_DAEMONS)["instance"]["daemonHealth"][
            "allDaemonStatuses"
        ]
    }
    result = cli("status", "--json", env=env)
    doc = result.json()
    mine = {d["daemon_type"]: d for d in doc["daemons"]}
    assert set(mine) == set(server)
    for name, d in server.items():
        assert mine[name]["required"] == d["required"]
    unhealthy = [n for n, d in server.items() if d["required"] and d["healthy"] is not True]
    assert result.returncode == (3 if unhealthy or doc["problems"] else 0), result.stderr
    text = cli("status", env=env).stdout
    assert "Daemons:" in text and "SENSOR:" in text


@pytest.mark.smoke
def test_status_exit_3_when_a_location_is_broken(
    broken_dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = run_cli("status", "--url", broken_dagster_server.url, "--json", env=cli_env)
    assert result.returncode == 3, result.stderr
    assert "code location broken is FAILED" in result.json()["problems"]


async def test_mcp_lists_schedules_and_sensors_and_writes_only_when_allowed(
    automation_server: DagsterServer, env: dict[str, str], tmp_path: Path
) -> None:
    pytest.importorskip("mcp.server")
    from tests.mcp_client import call, call_error, daglab_mcp, tool_names

    server = server_instigators(automation_server, "schedule")
    async with daglab_mcp(env=env, errlog=tmp_path / "read.log") as client:
        names = await tool_names(client)
        assert {"list_schedules", "list_sensors"} <= names and "stop_sensor" not in names
        page = await call(client, "list_schedules", {"status": "running", "limit": 1})
        running = [n for n, s in server.items() if s["scheduleState"]["status"] == "RUNNING"]
        assert [s["name"] for s in page["schedules"]] == running[:1]
        assert page["total"] == len(running) and page["truncated"] is (len(running) > 1)
        sensors = await call(client, "list_sensors", {"pattern": "fail*"})
        assert [s["name"] for s in sensors["sensors"]] == ["failing_sensor"]
    async with daglab_mcp("--allow-writes", env=env, errlog=tmp_path / "write.log") as client:
        stopped = await call(client, "stop_sensor", {"name": "failing_sensor"})
        assert stopped["after"] == "STOPPED" and "declared RUNNING" in stopped["note"]
        assert sensor_state(automation_server, "failing_sensor")["status"] == "STOPPED"
        again = await call_error(client, "stop_sensor", {"name": "failing_sensor"})
        assert "already STOPPED" in again
        started = await call(client, "start_sensor", {"name": "failing_sensor"})
        assert started["after"] == "RUNNING"
        assert sensor_state(automation_server, "failing_sensor")["status"] == "RUNNING"
        reloaded = await call(client, "reload_code_location", {"location": "automation"})
        assert reloaded["ok"] is True and reloaded["locations"][0]["load_status"] == "LOADED"
