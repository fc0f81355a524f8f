"""daglab against the production-shaped Dagster of the harness (daglab.harness.prod):
PostgreSQL storage, one gRPC code server per location, a run queue with a tag limit, the
webserver under /dagster, and a read-only webserver on the same instance.

Every expectation is checked against the server's own record (direct GraphQL).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from typing import Any

import pytest

from daglab.harness.prod import QUEUE_TAG, ProdDagsterServer
from daglab.harness.server import DagsterServer
from tests.conftest import run_cli
from tests.e2e.conftest import graphql, wait_for_run
from tests.e2e.test_run import lost_launch_does_not_launch_twice, run_ids

pytestmark = pytest.mark.e2e

LAUNCH = """
mutation DaglabTestProdLaunch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on Error { message }
  }
}
"""

RUN = """
query DaglabTestProdRun($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { runId status startTime endTime } }
}
"""

LOCATIONS = """
query DaglabTestProdLocations {
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name loadStatus
        locationOrLoadError { __typename }
      }
    }
  }
}
"""


def launch(
    server: DagsterServer, job: str, tags: dict[str, str], seconds: float | None = None
) -> str:
    params: dict[str, Any] = {
        "selector": {
            "repositoryLocationName": "main",
            "repositoryName": "__repository__",
            "jobName": job,
        },
        "runConfigData": {"ops": {"sleep_for": {"config": {"seconds": seconds}}}}
        if seconds is not None
        else {},
        "mode": "default",
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    result = graphql(server, LAUNCH, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    run_id: str = result["run"]["runId"]
    return run_id


def server_run(server: DagsterServer, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = graphql(server, RUN, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run", run
    return run


def locations(server: DagsterServer) -> dict[str, tuple[str, str]]:
    entries = graphql(server, LOCATIONS)["workspaceOrError"]["locationEntries"]
    return {
        e["name"]: (e["loadStatus"], (e["locationOrLoadError"] or {}).get("__typename", "None"))
        for e in entries
    }


def daglab_popen(server: DagsterServer, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "daglab", *args, "--url", server.url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def prod(prod_dagster_server: DagsterServer) -> ProdDagsterServer:
    assert isinstance(prod_dagster_server, ProdDagsterServer)
    return prod_dagster_server


# -- the run queue --------------------------------------------------------------------------------


def test_a_run_held_by_the_tag_limit_is_reported_queued_and_goes_on(
    prod: ProdDagsterServer, cli_env: dict[str, str]
) -> None:
    """Two runs share the limited tag (limit 1): the second waits QUEUED while the first
    runs, daglab says so and why, and it runs once the first ends."""
    value = uuid.uuid4().hex[:8]
    first = launch(prod, "slow_job", {QUEUE_TAG: value}, seconds=8)
    wait_for_run(prod, first, until=lambda s: s == "STARTED", timeout=120)
    watcher = daglab_popen(
        prod,
        cli_env,
        "run",
        "--job",
        "slow_job",
        "--location",
        "main",
        "--config-yaml",
        "ops: {sleep_for: {config: {seconds: 0.5}}}",
        "--tag",
        f"{QUEUE_TAG}={value}",
        "--json",
    )
    try:
        # While the first runs, the server holds the second QUEUED.
        deadline = time.monotonic() + 60
        second: list[str] = []
        while time.monotonic() < deadline and not second:
            second = [
                r for r in run_ids(prod, tags=[{"key": QUEUE_TAG, "value": value}]) if r != first
            ]
            time.sleep(0.3)
        assert len(second) == 1, second
        assert server_run(prod, second[0])["status"] == "QUEUED"
        assert server_run(prod, first)["status"] == "STARTED"
        _out, err = watcher.communicate(timeout=240)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, err
    assert "QUEUED" in err
    assert (
        f"the tag {QUEUE_TAG}={value}" in err and "lets 1 run with that tag go at a time" in err
    ), err
    first_run, second_run = server_run(prod, first), server_run(prod, second[0])
    assert first_run["status"] == second_run["status"] == "SUCCESS"
    # It went on only when the limit freed: it started after the first ended.
    assert second_run["startTime"] >= first_run["endTime"] - 0.5


# -- code servers ---------------------------------------------------------------------------------


def test_a_code_server_killed_and_restarted_under_a_watch_in_another_location(
    prod: ProdDagsterServer, cli_env: dict[str, str]
) -> None:
    """`daglab watch` follows a run of location main while the code server of analytics is
    killed (by its PID) and started again: the watch goes on to the run's end, the server
    saw analytics fail and come back, and main's code server was never touched."""
    main_pid = prod.code_servers["main"].pid
    run_id = launch(prod, "slow_job", {"test/nonce": uuid.uuid4().hex}, seconds=10)
    watcher = daglab_popen(prod, cli_env, "watch", run_id, "--json")
    try:
        wait_for_run(prod, run_id, until=lambda s: s == "STARTED", timeout=120)
        killed = prod.kill_code_server("analytics")
        # The webserver notices the lost server and says so for that location only.
        deadline = time.monotonic() + 60
        seen = locations(prod)
        while time.monotonic() < deadline and seen["analytics"][1] != "PythonError":
            time.sleep(0.5)
            seen = locations(prod)
        assert seen["analytics"][1] == "PythonError", seen
        assert seen["main"] == ("LOADED", "RepositoryLocation"), seen
        restarted = prod.restart_code_server("analytics")
        assert restarted != killed
        out, err = watcher.communicate(timeout=240)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, err
    assert '"status": "SUCCESS"' in out or '"status":"SUCCESS"' in out, out
    assert server_run(prod, run_id)["status"] == "SUCCESS"
    assert prod.code_servers["main"].pid == main_pid
    # The compute log manager kept the step's stderr: on disk, and as daglab shows it.
    line = "daglab fixture: sleeping for 10.0 seconds"
    kept = [
        p
        for p in (prod.dagster_home / "compute_logs").rglob("*")
        if p.is_file() and line in p.read_text(errors="replace")
    ]
    assert kept, sorted(str(p) for p in (prod.dagster_home / "compute_logs").rglob("*"))
    stderr = run_cli(
        "logs", run_id, "--step", "sleep_for", "--stderr", "--url", prod.url, env=cli_env
    )
    assert stderr.returncode == 0, stderr.stderr
    assert line in stderr.stdout
    # The webserver takes the restarted server back without a reload.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and locations(prod)["analytics"][1] != "RepositoryLocation":
        time.sleep(0.5)
    assert locations(prod)["analytics"] == ("LOADED", "RepositoryLocation")


# -- no second launch, on PostgreSQL -------------------------------------------------------------


def test_a_lost_launch_response_does_not_launch_twice_on_postgres(
    prod: ProdDagsterServer, cli_env: dict[str, str]
) -> None:
    lost_launch_does_not_launch_twice(prod, cli_env)


# -- the read-only webserver ---------------------------------------------------------------------


def test_launch_and_cancel_against_a_read_only_webserver_exit_5(
    prod: ProdDagsterServer, read_only_dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    read_only = read_only_dagster_server
    nonce = uuid.uuid4().hex
    launched = run_cli(
        "run",
        "--job",
        "tagged_job",
        "--tag",
        f"test/nonce={nonce}",
        "--json",
        "--url",
        read_only.url,
        env=cli_env,
        timeout=300,
    )
    assert launched.returncode == 5, launched.stderr
    assert "is read-only" in launched.stderr
    assert "read-only" in launched.stdout  # the one JSON document says it too
    # No run was made: both webservers read the same instance.
    assert run_ids(prod, tags=[{"key": "test/nonce", "value": nonce}]) == []
    # A run launched on the writable webserver cannot be canceled through the read-only one.
    run_id = launch(prod, "slow_job", {"test/nonce": nonce}, seconds=60)
    wait_for_run(prod, run_id, until=lambda s: s in ("STARTED", "STARTING"), timeout=120)
    canceled = run_cli("cancel", run_id, "--url", read_only.url, env=cli_env, timeout=300)
    assert canceled.returncode == 5, canceled.stderr
    assert "is read-only" in canceled.stderr
    assert server_run(prod, run_id)["status"] in ("STARTING", "STARTED")
    # Through the writable one it can (and the machine is quiet again).
    done = run_cli("cancel", run_id, "--url", prod.url, env=cli_env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert wait_for_run(prod, run_id) == "CANCELED"
    # A reload is refused the same way, and the location stays as it was.
    before = {
        e["name"]: e["loadStatus"]
        for e in graphql(prod, LOCATIONS)["workspaceOrError"]["locationEntries"]
    }
    reload = run_cli("reload", "main", "--json", "--url", read_only.url, env=cli_env, timeout=300)
    assert reload.returncode == 5, reload.stderr
    assert "is read-only" in reload.stderr and reload.json()["error"]["code"] == 5
    after = {
        e["name"]: e["loadStatus"]
        for e in graphql(prod, LOCATIONS)["workspaceOrError"]["locationEntries"]
    }
    assert after == before


# -- daglab dev up --shape prod, daglab status, daglab dev down ----------------------------------

DEPLOYMENT_TRUTH = """
query DaglabTestProdDeployment {
  instance { info runLauncher { name } runQueueConfig { maxConcurrentRuns } }
  workspaceOrError {
    ... on Workspace { locationEntries { name loadStatus displayMetadata { key value } } }
  }
}
"""


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_dev_up_prod_status_shows_storage_and_code_servers_and_down_leaves_nothing(
    dagster_version: str, tmp_path: Any
) -> None:
    """One command gives the prod shape; `daglab status` shows PostgreSQL and each location's
    gRPC server as the server has them; `daglab dev down` leaves no process (PostgreSQL
    included), no listening port and no data directory."""
    import json

    import httpx

    from daglab.harness import procs
    from tests.conftest import isolated_env

    env = isolated_env(tmp_path)
    up = run_cli(
        "dev",
        "up",
        "--shape",
        "prod",
        "--dagster-version",
        dagster_version,
        "--json",
        env=env,
        timeout=900,
    )
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)
    try:
        assert state["shape"] == "prod" and state["url"].endswith("/dagster")
        status = run_cli("status", "--url", state["url"], env=env, timeout=120)
        assert status.returncode == 0, status.stderr
        truth = httpx.post(
            state["url"] + "/graphql", json={"query": DEPLOYMENT_TRUTH}, timeout=60
        ).json()["data"]
        assert "PostgresRunStorage" in truth["instance"]["info"]
        assert (
            "Storage:      postgres (PostgresRunStorage, PostgresEventLogStorage, " in status.stdout
        )
        assert "coordinator QueuedRunCoordinator" in status.stdout, status.stdout
        assert f"launcher {truth['instance']['runLauncher']['name']}" in status.stdout
        assert "at most 8 runs; tag limits daglab/queue: 1" in status.stdout
        for entry in truth["workspaceOrError"]["locationEntries"]:
            meta = {m["key"]: m["value"] for m in entry["displayMetadata"]}
            line = f"  {entry['name']}: grpc {meta['host']}:{meta['port']}, {entry['loadStatus']}"
            assert line in status.stdout, status.stdout
            assert int(meta["port"]) == state["code_servers"][entry["name"]]["port"]
        json_status = json.loads(run_cli("status", "--url", state["url"], "--json", env=env).stdout)
        assert json_status["deployment"]["storage"] == "postgres"
        pids = run_cli("dev", "status", "--json", env=env).json()["pids"]
        assert state["postgres_pid"] in pids
        assert all(cs["pid"] in pids for cs in state["code_servers"].values())
    finally:
        down = run_cli("dev", "down", env=env, timeout=120)
    assert down.returncode == 0, down.stderr
    assert procs.pids_alive(pids) == []
    ports = [state["postgres_port"], *(cs["port"] for cs in state["code_servers"].values())]
    ports.append(int(state["url"].rsplit(":", 1)[1].split("/")[0]))
    assert [p for p in ports if _port_open(p)] == []
    assert [d for d in state["data_dirs"] if os.path.exists(d)] == []
    assert procs.tagged(state["harness_id"]) == []


# -- a deploy: new code on disk, the location's code server restarted, daglab reload ------------

RELOADABLE = """
from dagster import Definitions, asset


@asset(group_name="deployed")
def {name}() -> int:
    return 1


defs = Definitions(assets=[{name}])
"""


def test_reload_after_a_code_change_on_disk_and_a_code_server_restart(
    dagster_version: str, tmp_path_factory: pytest.TempPathFactory, cli_env: dict[str, str]
) -> None:
    from daglab.harness.pytest_plugin import start_server, stop_server

    tmp = tmp_path_factory.mktemp("deploy")
    module = tmp / "deployed.py"
    module.write_text(RELOADABLE.format(name="before_deploy"))
    workspace = tmp / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_file:\n      relative_path: deployed.py\n"
        "      working_directory: .\n      location_name: deployed\n"
    )
    server = start_server(tmp_path_factory, dagster_version, "prod", workspace=workspace)
    try:
        assert isinstance(server, ProdDagsterServer)

        def asset_keys() -> set[str]:
            found = run_cli(
                "discover", "--filter", "assets", "--json", "--url", server.url, env=cli_env
            )
            assert found.returncode == 0, found.stderr
            return {a["key"] for a in found.json()["assets"]}

        assert asset_keys() == {"before_deploy"}
        module.write_text(RELOADABLE.format(name="after_deploy"))
        server.restart_code_server("deployed")  # the deploy: its code server runs the new code
        reloaded = run_cli("reload", "deployed", "--json", "--url", server.url, env=cli_env)
        assert reloaded.returncode == 0, reloaded.stderr
        entries = graphql(server, LOCATIONS)["workspaceOrError"]["locationEntries"]
        assert [(e["name"], e["loadStatus"]) for e in entries] == [("deployed", "LOADED")]
        assert asset_keys() == {"after_deploy"}
    finally:
        stop_server(server)


INSTIGATOR_STATES = """
query DaglabTestInstigatorStates($schedule: ScheduleSelector!, $sensor: SensorSelector!) {
  scheduleOrError(scheduleSelector: $schedule) {
    ... on Schedule { scheduleState { status } }
  }
  sensorOrError(sensorSelector: $sensor) {
    ... on Sensor { sensorState { status } }
  }
}
"""


def test_schedule_and_sensor_changes_against_a_read_only_webserver_exit_5(
    dagster_version: str, tmp_path_factory: pytest.TempPathFactory, cli_env: dict[str, str]
) -> None:
    from daglab.harness import FIXTURE_PROJECT
    from daglab.harness.pytest_plugin import start_server, stop_server

    tmp = tmp_path_factory.mktemp("read-only-automation")
    workspace = tmp / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_file:\n"
        f"      relative_path: {FIXTURE_PROJECT / 'automation_location.py'}\n"
        f"      working_directory: {FIXTURE_PROJECT}\n"
        "      location_name: automation\n"
    )
    writable = start_server(tmp_path_factory, dagster_version, "prod", workspace=workspace)
    read_only = start_server(
        tmp_path_factory,
        dagster_version,
        "prod",
        workspace=workspace,
        read_only=True,
        daemon=False,
        postgres=getattr(writable, "postgres", None),
    )
    repo = {"repositoryLocationName": "automation", "repositoryName": "__repository__"}
    selectors = {
        "schedule": {**repo, "scheduleName": "hourly_schedule"},
        "sensor": {**repo, "sensorName": "failing_sensor"},
    }
    try:
        before = graphql(writable, INSTIGATOR_STATES, selectors)
        assert before["scheduleOrError"]["scheduleState"]["status"] == "STOPPED"
        assert before["sensorOrError"]["sensorState"]["status"] == "RUNNING"
        for args in (
            ("schedules", "start", "hourly_schedule"),
            ("sensors", "stop", "failing_sensor"),
        ):
            refused = run_cli(*args, "--json", "--url", read_only.url, env=cli_env, timeout=300)
            assert refused.returncode == 5, (args, refused.stderr)
            assert "is read-only" in refused.stderr and refused.json()["error"]["code"] == 5
        assert graphql(writable, INSTIGATOR_STATES, selectors) == before  # nothing changed
    finally:
        stop_server(read_only)
        stop_server(writable)
