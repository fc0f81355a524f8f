"""The harness itself: real Dagster servers of the requested minor, loaded fixtures, clean teardown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from daglab.harness import FIXTURE_WORKSPACE
from daglab.harness.pytest_plugin import ready_timeout
from daglab.harness.server import DagsterServer
from tests.conftest import isolated_env, run_cli
from tests.e2e.conftest import graphql, launch_job, wait_for_run

pytestmark = pytest.mark.e2e

LOCATIONS = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { repositories { name pipelines { name } } }
          ... on PythonError { message }
        }
      }
    }
  }
}
"""


def _locations(server: DagsterServer) -> dict[str, dict]:
    entries = graphql(server, LOCATIONS)["workspaceOrError"]["locationEntries"]
    return {entry["name"]: entry for entry in entries}


def _gone(processes: list[psutil.Process]) -> list[str]:
    """Descriptions of the processes that still run (zombies count as gone)."""
    alive = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return alive


@pytest.mark.smoke
def test_server_reports_the_requested_dagster_version(
    dagster_server: DagsterServer, dagster_version: str
) -> None:
    reported = graphql(dagster_server, "{ version }")["version"]

    assert reported == dagster_server.version
    assert reported.startswith(f"{dagster_version}.")
    assert dagster_server.minor == dagster_version


@pytest.mark.smoke
def test_both_fixture_locations_load(dagster_server: DagsterServer) -> None:
    locations = _locations(dagster_server)

    assert set(locations) == {"main", "analytics"}
    assert dagster_server.failed_locations == {}
    for entry in locations.values():
        assert entry["loadStatus"] == "LOADED"
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"
    main_jobs = {
        job["name"]
        for job in locations["main"]["locationOrLoadError"]["repositories"][0]["pipelines"]
    }
    assert {"orders_job", "config_job", "failing_job", "slow_job", "tagged_job", "shared_job"} <= (
        main_jobs
    )


@pytest.mark.smoke
def test_a_job_runs_to_success(dagster_server: DagsterServer) -> None:
    run_id = launch_job(dagster_server, "tagged_job")

    assert wait_for_run(dagster_server, run_id) == "SUCCESS"


def test_broken_location_is_reported_and_main_still_loads(
    broken_dagster_server: DagsterServer,
) -> None:
    locations = _locations(broken_dagster_server)

    assert locations["main"]["locationOrLoadError"]["__typename"] == "RepositoryLocation"
    broken = locations["broken"]
    assert broken["loadStatus"] == "LOADED"
    assert broken["locationOrLoadError"]["__typename"] == "PythonError"
    assert (
        "daglab fixture: this location is broken on purpose"
        in (broken["locationOrLoadError"]["message"])
    )
    assert set(broken_dagster_server.failed_locations) == {"broken"}
    assert "broken on purpose" in broken_dagster_server.failed_locations["broken"]


def test_teardown_leaves_no_process_even_with_a_run_in_flight(
    dagster_version: str, tmp_path: Path
) -> None:
    with DagsterServer(
        dagster_version, FIXTURE_WORKSPACE, log_dir=tmp_path, ready_timeout=ready_timeout()
    ) as server:
        before = set(server.pids())
        try:
            run_id = launch_job(
                server, "slow_job", run_config={"ops": {"sleep_for": {"config": {"seconds": 120}}}}
            )
            wait_for_run(server, run_id, until=lambda status: status == "STARTED")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{server.log_tails()}") from None
        processes = [psutil.Process(pid) for pid in server.pids()]
        commands = [" ".join(p.cmdline()) for p in processes]
        home = server.dagster_home

    # The run worker is `dagster api execute_run` or a multiprocessing child of a code server.
    assert {p.pid for p in processes} - before, "no run worker process to tear down"
    assert any("dagster-webserver" in c for c in commands), commands
    assert any("dagster-daemon" in c for c in commands), commands
    assert _gone(processes) == []
    assert server.leftover_pids == []
    assert not home.exists()


def _state_env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path)


def test_dev_up_status_down_round_trip(dagster_version: str, tmp_path: Path) -> None:
    env = _state_env(tmp_path)
    up = run_cli("dev", "up", "--dagster-version", dagster_version, env=env, timeout=900)
    try:
        assert up.returncode == 0, up.stderr
        url = up.stdout.strip()
        assert url.startswith("http://127.0.0.1:")

        status = run_cli("dev", "status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        doc = status.json()
        assert doc["running"] is True
        assert doc["url"] == url
        assert doc["version"].startswith(f"{dagster_version}.")
        assert doc["workspace"] == str(FIXTURE_WORKSPACE)
        processes = [psutil.Process(pid) for pid in doc["pids"]]
        assert len(processes) >= 3  # supervisor, webserver, daemon (+ code servers)

        # Other daglab commands find the dev server when nothing else is configured.
        reached = run_cli("status", "--json", env=env)
        assert reached.returncode == 0, reached.stderr
        assert url in reached.stdout

        human = run_cli("dev", "status", env=env)
        assert url in human.stdout
    finally:
        down = run_cli("dev", "down", env=env)

    assert down.returncode == 0, down.stderr
    assert "Stopped" in down.stdout
    assert _gone(processes) == []
    after = run_cli("dev", "status", "--json", env=env)
    assert after.json() == {"running": False}
    assert not (tmp_path / "state" / "daglab" / "dev.json").exists()


def test_dev_status_and_down_when_nothing_runs(tmp_path: Path) -> None:
    env = _state_env(tmp_path)

    status = run_cli("dev", "status", env=env)
    down = run_cli("dev", "down", env=env)

    assert status.returncode == 0 and "No daglab dev server is running" in status.stdout
    assert down.returncode == 0 and "No daglab dev server is running" in down.stdout


def test_dev_up_rejects_a_project_without_workspace(tmp_path: Path) -> None:
    env = _state_env(tmp_path)

    result = run_cli("dev", "up", str(tmp_path), env=env)

    assert result.returncode == 2
    assert "No workspace.yaml" in result.stderr


def test_plugin_import_is_light() -> None:
    code = (
        "import sys, daglab.harness.pytest_plugin, daglab.commands.dev;"
        "heavy = [m for m in ('httpx', 'psutil', 'daglab.harness.server') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert json.loads(out.stdout.replace("'", '"')) == []


def test_e2e_tests_skip_with_a_reason_when_uv_is_missing(tmp_path: Path) -> None:
    (tmp_path / "test_needs_dagster.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.e2e\n"
        "def test_needs_a_server(dagster_server):\n"
        "    pass\n\n"
        "def test_plain():\n"
        "    pass\n"
    )
    env = {**os.environ, "DAGLAB_HARNESS_UV": str(tmp_path / "no-uv-here")}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 skipped" in result.stdout
    assert "e2e test skipped: DAGLAB_HARNESS_UV=" in result.stdout
