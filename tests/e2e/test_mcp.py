"""``daglab mcp`` against a real Dagster server: the SDK's own client over stdio, the server
a ``python -m daglab mcp`` subprocess, every answer compared with the server's own record
(a direct GraphQL query, not daglab)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp.server")

from daglab.harness.server import DagsterServer
from tests.conftest import isolated_env
from tests.e2e.conftest import graphql, wait_for_run
from tests.mcp_client import call, daglab_mcp, tool_names

pytestmark = pytest.mark.e2e

WRITE_TOOLS = {
    "launch_job",
    "launch_assets",
    "cancel_run",
    "reexecute_run",
    "launch_backfill",
    "cancel_backfill",
    "resume_backfill",
}

REPOSITORIES = """
query DaglabTestRepositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        jobs { name }
        assetNodes { assetKey { path } groupName }
      }
    }
  }
}
"""

CONFIG_VALID = """
query DaglabTestConfigValid($selector: PipelineSelector!, $config: RunConfigData) {
  isPipelineConfigValid(pipeline: $selector, mode: "default", runConfigData: $config) {
    __typename
    ... on RunConfigValidationInvalid { errors { message reason } }
  }
}
"""

RUN = """
query DaglabTestRun($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status jobName tags { key value } }
  }
}
"""


def repositories(server: DagsterServer) -> list[dict[str, Any]]:
    data = graphql(server, REPOSITORIES)["repositoriesOrError"]
    assert data["__typename"] == "RepositoryConnection", data
    nodes: list[dict[str, Any]] = data["nodes"]
    return nodes


def server_run(server: DagsterServer, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = graphql(server, RUN, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run", run
    return run


def mcp_env(tmp_path: Path, server: DagsterServer) -> dict[str, str]:
    return isolated_env(tmp_path, DAGLAB_URL=server.url)


async def test_read_only_server_discovers_what_the_server_has(
    dagster_server: DagsterServer, tmp_path: Path
) -> None:
    env = mcp_env(tmp_path, dagster_server)
    async with daglab_mcp(env=env, errlog=tmp_path / "server.log") as client:
        names = await tool_names(client)
        jobs = await call(client, "discover_jobs", {"limit": 1000})
        assets = await call(client, "discover_assets", {"limit": 1000})
        orders = await call(client, "discover_assets", {"groups": ["orders"], "limit": 1000})
        upstream = await call(
            client, "discover_assets", {"select": '+key:"orders/order_summary"', "limit": 1000}
        )
    assert not names & WRITE_TOOLS
    assert {"list_locations", "discover_jobs", "discover_assets", "get_run"} <= names

    repos = repositories(dagster_server)
    server_jobs = sorted(
        (r["location"]["name"], j["name"])
        for r in repos
        for j in r["jobs"]
        if not j["name"].startswith("__ASSET_JOB")
    )
    assert sorted((j["location"], j["name"]) for j in jobs["jobs"]) == server_jobs
    assert jobs["total"] == len(server_jobs) and not jobs["truncated"]

    server_assets = {
        ("/".join(a["assetKey"]["path"]), r["location"]["name"], a["groupName"])
        for r in repos
        for a in r["assetNodes"]
    }
    assert {(a["key"], a["location"], a["group"]) for a in assets["assets"]} == server_assets
    assert {a["key"] for a in orders["assets"]} == {k for k, _, g in server_assets if g == "orders"}
    assert {a["key"] for a in upstream["assets"]} == {
        "orders/raw_orders",
        "orders/cleaned_orders",
        "orders/order_summary",
    }


async def test_an_invalid_config_comes_back_with_every_problem_and_its_path(
    dagster_server: DagsterServer, tmp_path: Path
) -> None:
    config = {"ops": {"process_rows": {"config": {"rows": "many", "colour": "red"}}}}
    env = mcp_env(tmp_path, dagster_server)
    async with daglab_mcp(env=env, errlog=tmp_path / "server.log") as client:
        verdict = await call(
            client, "validate_run_config", {"job": "config_job", "run_config": config}
        )
        valid = await call(
            client,
            "validate_run_config",
            {"job": "config_job", "run_config": {"ops": {"process_rows": {"config": {"rows": 1}}}}},
        )
    selector = {
        "repositoryLocationName": "main",
        "repositoryName": "__repository__",
        "pipelineName": "config_job",
    }
    truth = graphql(dagster_server, CONFIG_VALID, {"selector": selector, "config": config})
    server_errors = truth["isPipelineConfigValid"]["errors"]
    assert verdict["valid"] is False and valid["valid"] is True
    assert sorted(e["message"] for e in verdict["errors"]) == sorted(
        e["message"] for e in server_errors
    )
    assert all(e["where"].startswith("root:ops:process_rows:config") for e in verdict["errors"])
    assert all(e["path"][:3] == ["ops", "process_rows", "config"] for e in verdict["errors"])


@pytest.mark.smoke
async def test_launch_and_wait_then_get_run_agree_with_the_server(
    dagster_server: DagsterServer, tmp_path: Path
) -> None:
    env = mcp_env(tmp_path, dagster_server)
    async with daglab_mcp("--allow-writes", env=env, errlog=tmp_path / "server.log") as client:
        assert await tool_names(client) >= WRITE_TOOLS
        run = await call(
            client,
            "launch_job",
            {
                "job": "config_job",
                "run_config": {"ops": {"process_rows": {"config": {"rows": 3}}}},
                "tags": {"origin": "mcp-test"},
                "wait": True,
                "timeout": 300,
            },
        )
        again = await call(client, "get_run", {"run_id": run["run_id"]})
    truth = server_run(dagster_server, run["run_id"])
    assert run["status"] == truth["status"] == "SUCCESS"
    assert run["stop_reason"] == "ended" and run["timed_out"] is False
    assert run["steps_succeeded"] == ["process_rows"]
    tags = {t["key"]: t["value"] for t in truth["tags"]}
    assert tags["origin"] == "mcp-test"
    assert tags["daglab/request_id"] == run["request_id"]
    assert again["status"] == "SUCCESS" and again["job"] == truth["jobName"] == "config_job"


async def test_cancel_a_slow_run(dagster_server: DagsterServer, tmp_path: Path) -> None:
    env = mcp_env(tmp_path, dagster_server)
    async with daglab_mcp("--allow-writes", env=env, errlog=tmp_path / "server.log") as client:
        launched = await call(
            client,
            "launch_job",
            {"job": "slow_job", "run_config": {"ops": {"sleep_for": {"config": {"seconds": 120}}}}},
        )
        assert launched["stop_reason"] == "not_waiting"
        run_id = launched["run_id"]
        wait_for_run(dagster_server, run_id, until=lambda s: s in ("STARTED", "CANCELED"))
        canceled = await call(client, "cancel_run", {"run_id": run_id})
    final = wait_for_run(dagster_server, run_id, timeout=120)
    assert final == "CANCELED"
    assert canceled["run_id"] == run_id and canceled["force"] is False
    assert canceled["status"] in ("CANCELING", "CANCELED")
