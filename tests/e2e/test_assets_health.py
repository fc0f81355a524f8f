"""Asset health and checks against a real Dagster server (location ``health`` of the fixture
project, served with ``ops`` by the session's ``ops_server``): ``daglab assets status``,
``daglab assets history``, ``daglab checks list|run``.

The module materializes and fails things itself (over GraphQL, not through daglab), then
compares daglab's answers with a direct GraphQL query of the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daglab.harness.server import DagsterServer
from tests.conftest import CliResult, isolated_env, run_cli
from tests.e2e.conftest import LAUNCH_RUN, graphql, wait_for_run

pytestmark = pytest.mark.e2e

DAYS = ["2024-04-01", "2024-04-02", "2024-04-03", "2024-04-04", "2024-04-05"]
FAIL_TAG = "daglab_fixture/fail_checks"

SERVER_JOBS = """
query DaglabTestAssetJobs($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) { assetKey { path } jobNames }
}
"""

SERVER_ASSET = """
query DaglabTestAsset($key: AssetKeyInput!) {
  assetOrError(assetKey: $key) {
    __typename
    ... on Asset {
      assetMaterializations { runId timestamp partition metadataEntries { label } }
    }
  }
  assetNodes(assetKeys: [$key]) {
    partitionKeys
    partitionStats { numMaterialized numPartitions numFailed numMaterializing }
    assetPartitionStatuses {
      __typename
      ... on TimePartitionStatuses { ranges { startKey endKey status } }
    }
    staleStatus
    staleCauses { category }
  }
}
"""

SERVER_CHECK_EXECUTIONS = """
query DaglabTestCheckExecutions($key: AssetKeyInput!, $name: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $name, limit: 10) {
    runId status evaluation { success severity }
  }
}
"""


def daglab(server: DagsterServer, env: dict[str, str], *args: str) -> CliResult:
    return run_cli(*args, "--url", server.url, env=env, timeout=420)


def launch_assets(
    server: DagsterServer, keys: list[list[str]], tags: dict[str, str] | None = None
) -> str:
    """Launch a run of ``keys`` over GraphQL, on an implicit asset job that holds them."""
    nodes = graphql(server, SERVER_JOBS, {"keys": [{"path": k} for k in keys]})["assetNodes"]
    jobs = set.intersection(*(set(n["jobNames"]) for n in nodes))
    job = "__ASSET_JOB" if "__ASSET_JOB" in jobs else sorted(j for j in jobs if "ASSET_JOB" in j)[0]
    params = {
        "selector": {
            "repositoryLocationName": "health",
            "repositoryName": "__repository__",
            "jobName": job,
            "assetSelection": [{"path": k} for k in keys],
        },
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
    }
    result = graphql(server, LAUNCH_RUN, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    run_id: str = result["run"]["runId"]
    return run_id


def server_asset(server: DagsterServer, path: list[str]) -> dict[str, Any]:
    data = graphql(server, SERVER_ASSET, {"key": {"path": path}})
    assert data["assetOrError"]["__typename"] == "Asset"
    return {"events": data["assetOrError"]["assetMaterializations"], "node": data["assetNodes"][0]}


def server_checks(server: DagsterServer, name: str) -> list[dict[str, Any]]:
    variables = {"key": {"path": ["health", "checked"]}, "name": name}
    executions: list[dict[str, Any]] = graphql(server, SERVER_CHECK_EXECUTIONS, variables)[
        "assetCheckExecutions"
    ]
    return executions


@pytest.fixture(scope="module")
def materialized(ops_server: DagsterServer) -> dict[str, Any]:
    """Days 1 and 2 of health/daily materialized, day 3 failed (4 and 5 missing);
    health/upstream and health/derived materialized, then health/upstream again with a new
    data version (health/derived is then stale)."""
    days = {
        day: launch_assets(ops_server, [["health", "daily"]], {"dagster/partition": day})
        for day in DAYS[:3]
    }
    both = launch_assets(ops_server, [["health", "upstream"], ["health", "derived"]])
    statuses = {day: wait_for_run(ops_server, run_id) for day, run_id in days.items()}
    assert statuses == {DAYS[0]: "SUCCESS", DAYS[1]: "SUCCESS", DAYS[2]: "FAILURE"}
    assert wait_for_run(ops_server, both) == "SUCCESS"
    again = launch_assets(
        ops_server, [["health", "upstream"]], {"daglab_fixture/data_version": "2"}
    )
    assert wait_for_run(ops_server, again) == "SUCCESS"
    return {"days": days, "both": both, "again": again}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path)


@pytest.fixture(scope="module")
def check_runs(
    ops_server: DagsterServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, CliResult]]:
    """``daglab checks run`` three times: all passing, the WARN check failing, the ERROR
    check failing."""
    env = isolated_env(tmp_path_factory.mktemp("checks"))
    base = ("checks", "run", "--asset-selection", "health/checked", "--json")
    yield {
        "pass": daglab(ops_server, env, *base),
        "warn": daglab(ops_server, env, *base, "--tag", f"{FAIL_TAG}=health_warn"),
        "error": daglab(ops_server, env, *base, "--tag", f"{FAIL_TAG}=health_error"),
    }


def test_checks_run_exit_codes_agree_with_the_server(
    ops_server: DagsterServer, check_runs: dict[str, CliResult]
) -> None:
    passing, warn, error = check_runs["pass"], check_runs["warn"], check_runs["error"]
    assert passing.returncode == 0, passing.stderr
    assert warn.returncode == 0, warn.stderr  # a failed WARN check is a warning
    assert error.returncode == 1, error.stderr
    assert "Check health_warn on health/checked FAILED (severity WARN)" in warn.stderr
    assert "ERROR-severity checks failed: health_error on health/checked" in error.stderr
    # The runs executed the checks only (no materialization), as the server recorded them.
    executions = {name: server_checks(ops_server, name) for name in ("health_error", "health_warn")}
    for outcome, result in check_runs.items():
        doc = result.json()
        assert doc["materialized"] == []
        assert doc["status"] == "SUCCESS"
        by_name = {c["name"]: c for c in doc["checks"]}
        assert set(by_name) == {"health_error", "health_warn"}
        for name, runs in executions.items():
            server = next(e for e in runs if e["runId"] == doc["run_id"])
            assert by_name[name]["passed"] is server["evaluation"]["success"]
            assert by_name[name]["severity"] == server["evaluation"]["severity"]
            assert server["evaluation"]["success"] is (outcome != name.split("_")[1])
    assert executions["health_error"][0]["runId"] == error.json()["run_id"]


def test_checks_list_shows_the_latest_execution(
    ops_server: DagsterServer, env: dict[str, str], check_runs: dict[str, CliResult]
) -> None:
    listed = daglab(ops_server, env, "checks", "list", "key:health/*", "--json")
    assert listed.returncode == 0, listed.stderr
    doc = listed.json()
    assert doc["count"] == 2
    for check in doc["checks"]:
        latest = server_checks(ops_server, check["name"])[0]
        assert check["asset"] == "health/checked" and check["blocking"] is False
        assert (check["run_id"], check["status"]) == (latest["runId"], latest["status"])
        assert check["severity"] == latest["evaluation"]["severity"]
    assert {c["name"]: c["severity"] for c in doc["checks"]} == {
        "health_error": "ERROR",
        "health_warn": "WARN",
    }
    table = daglab(ops_server, env, "checks", "list", "--asset-selection", "health/checked")
    assert table.returncode == 0, table.stderr
    assert table.stdout.split("\n")[0].split() == [
        "asset", "check", "blocking", "latest", "severity", "run", "when",
    ]  # fmt: skip


def test_assets_status_agrees_with_the_server(
    ops_server: DagsterServer,
    env: dict[str, str],
    materialized: dict[str, Any],
    check_runs: dict[str, CliResult],
    dagster_version: str,
) -> None:
    shown = daglab(
        ops_server, env, "assets", "status", "--asset-pattern", "health/*", "--partitions", "--json"
    )
    assert shown.returncode == 0, shown.stderr
    doc = {a["key"]: a for a in shown.json()["assets"]}
    assert set(doc) == {"health/daily", "health/upstream", "health/derived", "health/checked"}

    # health/daily: the latest materialization, counts and keys as the server has them.
    daily, server = doc["health/daily"], server_asset(ops_server, ["health", "daily"])
    newest = server["events"][0]
    latest = daily["latest_materialization"]
    assert (latest["run_id"], latest["timestamp_ms"], latest["partition"]) == (
        newest["runId"],
        int(newest["timestamp"]),
        newest["partition"],
    )
    stats = server["node"]["partitionStats"]
    assert daily["partitions"]["total"] == stats["numPartitions"] == 5
    assert daily["partitions"]["materialized"] == stats["numMaterialized"] == 2
    assert daily["partitions"]["failed"] == stats["numFailed"] == 1
    assert daily["partitions"]["in_progress"] == stats["numMaterializing"] == 0
    assert daily["partitions"]["missing"] == 2
    failed = [
        key
        for r in server["node"]["assetPartitionStatuses"]["ranges"]
        if r["status"] == "FAILED"
        for key in DAYS[DAYS.index(r["startKey"]) : DAYS.index(r["endKey"]) + 1]
    ]
    assert daily["partitions"]["failed_keys"] == failed == [DAYS[2]]
    assert daily["partitions"]["missing_keys"] == DAYS[3:]
    assert daily["latest_run"] == {"run_id": materialized["days"][DAYS[2]], "status": "FAILURE"}
    assert daily["stale_status"] == server["node"]["staleStatus"]

    # health/upstream: its metadata; health/derived: stale since upstream ran again.
    upstream = doc["health/upstream"]
    assert upstream["latest_materialization"]["run_id"] == materialized["again"]
    meta = {m["label"]: m for m in upstream["latest_materialization"]["metadata"]}
    assert meta["rows"]["value"] == "3" and meta["note"]["value"] == "daglab fixture: upstream"
    assert meta["dashboard"]["value"] == "https://example.com/upstream"
    assert {
        m["label"]
        for m in server_asset(ops_server, ["health", "upstream"])["events"][0]["metadataEntries"]
    } == set(meta)
    derived, node = doc["health/derived"], server_asset(ops_server, ["health", "derived"])["node"]
    assert derived["latest_materialization"]["run_id"] == materialized["both"]
    assert derived["stale_status"] == node["staleStatus"] == "STALE"
    assert len(derived["stale_causes"]) == len(node["staleCauses"]) >= 1
    assert "DATA: health/upstream has a new data version" in derived["stale_causes"]
    assert doc["health/upstream"]["stale_status"] == "FRESH"
    assert doc["health/checked"]["partitions"] is None and not doc["health/checked"]["partitioned"]

    # Its checks, with their latest execution (the ERROR check failed last).
    checks = {c["name"]: c for c in doc["health/checked"]["checks"]}
    assert checks["health_error"]["run_id"] == check_runs["error"].json()["run_id"]
    assert checks["health_error"]["passed"] is False

    # The text form says the same, in lines.
    text = daglab(
        ops_server, env, "assets", "status", "--asset-selection", "health/daily", "--partitions"
    )
    assert text.returncode == 0, text.stderr
    assert "partitions: 5 (2 materialized, 1 failed, 0 in progress, 2 missing)" in text.stdout
    assert f"failed: {DAYS[2]}" in text.stdout and f"missing: {DAYS[3]}, {DAYS[4]}" in text.stdout


def test_assets_history_pages_through_the_servers_materializations(
    ops_server: DagsterServer, env: dict[str, str], materialized: dict[str, Any]
) -> None:
    events = server_asset(ops_server, ["health", "daily"])["events"]
    every = daglab(ops_server, env, "assets", "history", "health/daily", "--json")
    assert every.returncode == 0, every.stderr
    got = [
        (m["run_id"], m["timestamp_ms"], m["partition"]) for m in every.json()["materializations"]
    ]
    assert got == [(e["runId"], int(e["timestamp"]), e["partition"]) for e in events]
    assert len(got) == 2  # the failed day has no materialization
    one = daglab(ops_server, env, "assets", "history", "health/daily", "--limit", "1", "--json")
    assert [m["run_id"] for m in one.json()["materializations"]] == [events[0]["runId"]]
    # The library pages with beforeTimestampMillis: one a page gives the same list.
    import asyncio

    from daglab.helpers.assets import iter_materializations
    from daglab.helpers.graphql import DagsterClient

    async def walk() -> list[str]:
        async with DagsterClient(ops_server.url) as client:
            return [
                m.run_id
                async for m in iter_materializations(client, "health/upstream", page_size=1)
            ]

    upstream = server_asset(ops_server, ["health", "upstream"])["events"]
    assert (
        asyncio.run(walk())
        == [e["runId"] for e in upstream]
        == [materialized["again"], materialized["both"]]
    )


@pytest.mark.smoke
def test_bad_selection_is_exit_2_with_one_message(
    ops_server: DagsterServer, env: dict[str, str]
) -> None:
    cases = [
        (("assets", "status", "key:nope/missing"), "matches no asset"),
        (("assets", "status", "key:("), "selection"),
        (("assets", "status", "--asset-selection", "health/nope"), "No asset 'health/nope'"),
        (("assets", "history", "health/nope"), "No asset 'health/nope'"),
        (("checks", "run", "--asset-selection", "health/daily"), "no asset checks"),
        (
            ("checks", "run", "--asset-selection", "health/checked", "--check", "nope"),
            "No check 'nope'",
        ),
    ]
    for args, message in cases:
        result = daglab(ops_server, env, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == ""
        assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
        as_json = daglab(ops_server, env, *args, "--json")
        assert as_json.returncode == 2 and as_json.json()["error"]["code"] == 2


NOTEBOOK_SCRIPT = """
import json, sys
import daglab.helpers.sync as dl

dl.connect(sys.argv[1])
health = dl.asset_status(pattern="health/*", partitions=True)
text = repr(health)
checks = dl.list_checks("health/checked")
result = dl.run_checks(
    "health/checked", checks=["health_error"], tags={"daglab_fixture/fail_checks": "all"},
    progress=False,
)
history = dl.asset_history("health/daily", limit=None)
print(json.dumps({
    "table": text,
    "health": [h.to_json() for h in health],
    "checks": [c.to_json() for c in checks],
    "run": result.to_json(),
    "history": [m.run_id for m in history],
}))
"""


def test_the_notebook_helpers_say_the_same(
    ops_server: DagsterServer, tmp_path: Path, materialized: dict[str, Any]
) -> None:
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", NOTEBOOK_SCRIPT, ops_server.url],
        env=isolated_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["table"].startswith("4 assets\n")
    assert out["table"].split("\n")[1].split()[:3] == ["asset", "materialized", "run"]
    daily = next(h for h in out["health"] if h["key"] == "health/daily")
    assert daily["partitions"]["failed_keys"] == [DAYS[2]]
    assert sorted(c["name"] for c in out["checks"]) == ["health_error", "health_warn"]
    run = out["run"]
    assert run["ok"] is False and run["status"] == "SUCCESS"
    assert [(c["name"], c["passed"]) for c in run["checks"]] == [("health_error", False)]
    server = server_checks(ops_server, "health_error")
    assert server[0]["runId"] == run["run_id"] and server[0]["evaluation"]["success"] is False
    events = server_asset(ops_server, ["health", "daily"])["events"]
    assert out["history"] == [e["runId"] for e in events]


async def test_mcp_asset_tools_say_what_the_server_says(
    ops_server: DagsterServer,
    tmp_path: Path,
    materialized: dict[str, Any],
    check_runs: dict[str, CliResult],
) -> None:
    pytest.importorskip("mcp.server")
    from tests.mcp_client import call, call_error, daglab_mcp

    env = isolated_env(tmp_path, DAGLAB_URL=ops_server.url)
    async with daglab_mcp(env=env, errlog=tmp_path / "server.log") as client:
        status = await call(
            client,
            "get_asset_status",
            {"asset_keys": ["health/daily"], "partitions": True},
        )
        (daily,) = status["assets"]
        server = server_asset(ops_server, ["health", "daily"])
        stats = server["node"]["partitionStats"]
        assert (daily["partitions"]["materialized"], daily["partitions"]["failed"]) == (
            stats["numMaterialized"],
            stats["numFailed"],
        )
        assert daily["latest_materialization"]["run_id"] == server["events"][0]["runId"]
        assert daily["partitions"]["failed_keys"] == [DAYS[2]]
        capped = await call(client, "get_asset_status", {"asset_pattern": "health/*", "limit": 2})
        assert (len(capped["assets"]), capped["total"], capped["truncated"]) == (2, 4, True)

        history = await call(client, "get_asset_history", {"asset_key": "health/daily", "limit": 1})
        assert [m["run_id"] for m in history["materializations"]] == [server["events"][0]["runId"]]
        assert history["truncated"] == (len(server["events"]) > 1)

        checks = await call(client, "list_checks", {"asset_keys": ["health/checked"]})
        by_name = {c["name"]: c for c in checks["checks"]}
        newest_error = server_checks(ops_server, "health_error")[0]
        assert by_name["health_error"]["run_id"] == newest_error["runId"]
        assert by_name["health_error"]["passed"] is newest_error["evaluation"]["success"] is False

        unknown = await call_error(client, "get_asset_status", {"asset_keys": ["health/nope"]})
        assert "[bad input]" in unknown and "health/nope" in unknown
