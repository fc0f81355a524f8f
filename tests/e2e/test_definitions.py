"""daglab on real-world definition shapes (issue 16): partitioned jobs, partition mistakes,
asset checks, skipped steps, keys with a slash in a component, keys in two locations, a job in
two repositories, internal jobs. Served from ``workspace_defs.yaml`` (locations ``defs`` and
``defs_twin``, see fixtures/dagster_project/README.md) by a server of this module, without the
daemon (runs start directly). Every outcome is compared with the server's own record.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from daglab.harness import FIXTURE_PROJECT
from daglab.harness.pytest_plugin import start_server, stop_server
from daglab.harness.server import DagsterServer
from tests.conftest import CliResult, run_cli
from tests.e2e.conftest import graphql

pytestmark = pytest.mark.e2e

WORKSPACE = FIXTURE_PROJECT / "workspace_defs.yaml"

SERVER_RUN = """
query DaglabTestDefsRun($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId status jobName runConfigYaml
      tags { key value }
      assetSelection { path }
      repositoryOrigin { repositoryLocationName repositoryName }
    }
  }
  logsForRun(runId: $runId) {
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { eventType stepKey }
        ... on AssetCheckEvaluationEvent {
          evaluation { checkName assetKey { path } success severity }
        }
      }
    }
  }
}
"""

RUNS_OF = """
query DaglabTestDefsRuns($filter: RunsFilter) {
  runsOrError(filter: $filter) { ... on Runs { results { runId } } }
}
"""

PIPELINES = """
query DaglabTestDefsPipelines {
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes { name location { name } pipelines { name } assetNodes { assetKey { path } } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def defs_server(
    dagster_version: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterServer]:
    server = start_server(tmp_path_factory, dagster_version, workspace=WORKSPACE, daemon=False)
    yield server
    stop_server(server)


def daglab(server: DagsterServer, env: dict[str, str], *args: str) -> CliResult:
    return run_cli(*args, "--url", server.url, env=env, timeout=420)


def server_run(server: DagsterServer, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = graphql(server, SERVER_RUN, {"runId": run_id})
    run = data["runOrError"]
    assert run["__typename"] == "Run", run
    return run, data["logsForRun"]["events"]


def tags_of(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["tags"]}


def runs_of_job(server: DagsterServer, job: str) -> list[str]:
    data = graphql(server, RUNS_OF, {"filter": {"pipelineName": job}})["runsOrError"]
    return [r["runId"] for r in data["results"]]


# -- 1. partitioned jobs ------------------------------------------------------------------------


def test_a_partitioned_job_runs_with_its_partitions_config_and_tags(
    defs_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    # The user's config is deep-merged over the partition's: scale is the user's, region the
    # partition's.
    result = daglab(
        defs_server,
        cli_env,
        "run",
        "--job",
        "region_job",
        "--partition",
        "us",
        "--config-yaml",
        "ops: {load_region: {config: {scale: 5}}}",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    doc = result.json()
    run, _ = server_run(defs_server, doc["run_id"])
    assert run["status"] == "SUCCESS"
    tags = tags_of(run)
    assert tags["dagster/partition"] == "us"
    assert tags["region"] == "us"  # the job's tags_for_partition_key_fn
    assert tags["dagster/partition_set"] == "region_job_partition_set"
    assert yaml.safe_load(run["runConfigYaml"])["ops"]["load_region"]["config"] == {
        "region": "us",
        "scale": 5,
    }

    # The documentation's own example: a daily-partitioned config, no config given.
    daily = daglab(defs_server, cli_env, "run", "--job", "daily_job", "--partition", "2024-01-15")
    assert daily.returncode == 0, daily.stderr
    run_id = runs_of_job(defs_server, "daily_job")[0]
    run, _ = server_run(defs_server, run_id)
    assert run["status"] == "SUCCESS"
    assert tags_of(run)["dagster/partition"] == "2024-01-15"
    config = yaml.safe_load(run["runConfigYaml"])["ops"]["load_day"]["config"]
    assert str(config["date"]) == "2024-01-15" and config["verbose"] is False


# -- 2. partition mistakes are exit 2, before anything is launched ------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--job", "branching_job", "--partition", "2024-01-01"), "has no partitions"),
        (("--job", "region_job", "--partition", "mars"), "has no partition 'mars'"),
        (("--job", "region_job"), "is partitioned"),
        (("--job", "tenant_job", "--partition", "acme"), "no partition keys yet"),
        (("--asset-selection", "defs/tenant_report", "--partition", "acme"), "no partition keys"),
        (
            ("--asset-selection", "defs/color_tenant", "--partition", "red|acme"),
            "no partition keys",
        ),
    ],
)
def test_partition_mistakes_are_exit_2_and_launch_nothing(
    defs_server: DagsterServer, cli_env: dict[str, str], args: tuple[str, ...], words: str
) -> None:
    before = {job: len(runs_of_job(defs_server, job)) for job in ("branching_job", "tenant_job")}
    result = daglab(defs_server, cli_env, "run", *args)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    if "mars" in args:
        assert "eu, us, apac" in result.stderr  # the candidates
    after = {job: len(runs_of_job(defs_server, job)) for job in before}
    assert after == before


# -- 3. asset checks ---------------------------------------------------------------------------


def _server_checks(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "asset": "/".join(e["evaluation"]["assetKey"]["path"]),
            "name": e["evaluation"]["checkName"],
            "passed": e["evaluation"]["success"],
            "severity": e["evaluation"]["severity"],
        }
        for e in events
        if e.get("__typename") == "AssetCheckEvaluationEvent"
    ]


def _check_run(
    server: DagsterServer, env: dict[str, str], failing: str
) -> tuple[CliResult, dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    result = daglab(
        server,
        env,
        "run",
        "--job",
        "checks_job",
        "--tag",
        f"daglab_fixture/fail_checks={failing}",
        "--json",
    )
    doc = result.json()
    run, events = server_run(server, doc["run_id"])
    return result, doc, run, events


def test_a_failed_error_check_is_reported_and_exits_1(
    defs_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result, doc, run, events = _check_run(defs_server, cli_env, "rows_positive")
    assert run["status"] == "SUCCESS"  # Dagster's verdict on the run ...
    assert result.returncode == 1, result.stderr  # ... and daglab's on the outcome
    reported = [{k: c[k] for k in ("asset", "name", "passed", "severity")} for c in doc["checks"]]
    assert sorted(reported, key=str) == sorted(_server_checks(events), key=str)
    assert {"asset": "defs/checked", "name": "rows_positive", "passed": False,
            "severity": "ERROR"} in reported  # fmt: skip
    assert doc["ok"] is False and doc["status"] == "SUCCESS"
    check_steps = {e["stepKey"] for e in events if e.get("eventType") == "ASSET_CHECK_EVALUATION"}
    assert check_steps and not check_steps & set(doc["steps_succeeded"])
    assert "check rows_positive on defs/checked FAILED (ERROR)" in result.stderr
    assert "ERROR-severity checks failed: rows_positive on defs/checked" in result.stderr


def test_a_failed_warn_check_is_a_warning_and_a_blocking_one_fails_the_run(
    defs_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    warn, doc, run, events = _check_run(defs_server, cli_env, "rows_fresh")
    assert run["status"] == "SUCCESS"
    assert warn.returncode == 0, warn.stderr
    assert doc["ok"] is True
    assert "Check rows_fresh on defs/checked FAILED (severity WARN)" in warn.stderr
    assert sorted(map(str, _server_checks(events))) == sorted(
        str({k: c[k] for k in ("asset", "name", "passed", "severity")}) for c in doc["checks"]
    )

    blocked, doc, run, events = _check_run(defs_server, cli_env, "gate_open")
    assert run["status"] == "FAILURE"
    assert blocked.returncode == 1
    failed_steps = [e["stepKey"] for e in events if e.get("eventType") == "STEP_FAILURE"]
    assert doc["steps_failed"] == failed_steps == ["defs__gated_gate_open"]
    assert {"name": "gate_open", "passed": False} in [
        {"name": c["name"], "passed": c["passed"]} for c in doc["checks"]
    ]


# -- 6. skipped steps, internal jobs, a job in two repositories -------------------------------


def test_skipped_conditional_steps_are_reported(
    defs_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = daglab(defs_server, cli_env, "run", "--job", "branching_job", "--json")
    assert result.returncode == 0, result.stderr
    doc = result.json()
    _, events = server_run(defs_server, doc["run_id"])
    skipped = [e["stepKey"] for e in events if e.get("eventType") == "STEP_SKIPPED"]
    assert doc["steps_skipped"] == skipped == ["on_no"]
    assert "step on_no skipped" in result.stderr


def test_discover_hides_internal_jobs_and_a_twin_job_hints_at_the_repository(
    defs_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    nodes = graphql(defs_server, PIPELINES)["repositoriesOrError"]["nodes"]
    on_server = {
        (n["location"]["name"], n["name"], p["name"]) for n in nodes for p in n["pipelines"]
    }
    listed = daglab(defs_server, cli_env, "discover", "--filter", "jobs", "--json")
    assert listed.returncode == 0, listed.stderr
    jobs = {(j["location"], j["repository"], j["name"]) for j in listed.json()["jobs"]}
    internal = {j for j in on_server if j[2].startswith(("__ASSET_JOB", "__anonymous_asset_job"))}
    assert jobs == on_server - internal
    assert ("defs_twin", "second_repo", "twin_job") in jobs

    ambiguous = daglab(defs_server, cli_env, "run", "--job", "twin_job", "--validate-only")
    assert ambiguous.returncode == 2
    assert "--repo" in ambiguous.stderr and "first_repo, second_repo" in ambiguous.stderr
    picked = daglab(
        defs_server, cli_env, "run", "--job", "twin_job", "--repo", "second_repo", "--validate-only"
    )
    assert picked.returncode == 0, picked.stderr


# -- 5. a slash inside a key component --------------------------------------------------------


def test_a_key_component_with_a_slash_is_shown_escaped_and_launched_exactly(
    defs_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    listed = daglab(defs_server, cli_env, "discover", "--filter", "assets", "--json")
    assets = {tuple(a["path"]): a for a in listed.json()["assets"]}
    assert assets[("backslash/interpretation",)]["key"] == "backslash\\/interpretation"

    result = daglab(
        defs_server, cli_env, "run", "--asset-selection", "backslash\\/interpretation", "--json"
    )
    assert result.returncode == 0, result.stderr
    run, _ = server_run(defs_server, result.json()["run_id"])
    assert run["status"] == "SUCCESS"
    assert [k["path"] for k in run["assetSelection"]] == [["backslash/interpretation"]]
    assert result.json()["materialized"] == ["backslash\\/interpretation"]

    # A pattern that matches it launches it too (it used to break the whole run).
    nonce = uuid.uuid4().hex
    pattern = daglab(
        defs_server, cli_env, "run", "--asset-pattern", "backslash*", "--tag", f"n={nonce}",
        "--no-wait", "--json",
    )  # fmt: skip
    assert pattern.returncode == 0, pattern.stderr
    run, _ = server_run(defs_server, pattern.json()["run_id"])
    assert [k["path"] for k in run["assetSelection"]] == [["backslash/interpretation"]]


# -- 4. selection on the server's definitions: owners, two locations --------------------------


def test_selection_uses_owners_and_keeps_a_key_of_two_locations_apart(
    defs_server: DagsterServer,
) -> None:
    from daglab.helpers import errors
    from daglab.helpers.graphql import DagsterClient
    from daglab.helpers.runs.targets import resolve_assets

    async def resolve(text: str) -> Any:
        async with DagsterClient(defs_server.url) as client:
            return await resolve_assets(client, select=text)

    owned = asyncio.run(resolve('owner:"team:data"'))
    assert list(owned.asset_selection) == ["defs/checked"]
    twin = asyncio.run(resolve("tag:copy=twin"))
    assert (twin.location, twin.repository, twin.asset_selection) == (
        "defs_twin",
        "first_repo",
        ("twice/shared",),
    )
    with pytest.raises(errors.SelectionError, match="spans 2 code locations"):
        asyncio.run(resolve('key:"twice/shared"'))


SERVER_INSTIGATORS = """
query DaglabTestInstigators {
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        assetNodes {
          assetKey { path }
          targetingInstigators { __typename ... on Sensor { name } ... on Schedule { name } }
        }
      }
    }
  }
}
"""


def test_sensor_and_schedule_selections_pick_what_the_server_says_they_target(
    defs_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    targeted: dict[tuple[str, str], set[str]] = {}
    for repo in graphql(defs_server, SERVER_INSTIGATORS)["repositoriesOrError"]["nodes"]:
        for node in repo["assetNodes"]:
            for instigator in node["targetingInstigators"]:
                kind = "sensor" if instigator["__typename"] == "Sensor" else "schedule"
                name = (kind, instigator["name"])
                targeted.setdefault(name, set()).add("/".join(node["assetKey"]["path"]))
    assert targeted[("sensor", "checks_sensor")] == {
        "defs/checked",
        "defs/gated",
        "defs/behind_gate",
    }
    for (kind, name), keys in targeted.items():
        shown = daglab(
            defs_server, cli_env, "run", "--select", f"{kind}:{name}", "--validate-only", "--json"
        )
        assert shown.returncode == 0, shown.stderr
        assert set(shown.json()["asset_selection"]) == keys, (kind, name)
    both = daglab(
        defs_server,
        cli_env,
        "run",
        "--select",
        'sensor:checks_sensor and not key:"defs/gated"',
        "--validate-only",
        "--json",
    )
    assert set(both.json()["asset_selection"]) == {"defs/checked", "defs/behind_gate"}
    nothing = daglab(defs_server, cli_env, "run", "--select", "schedule:no_such", "--validate-only")
    assert nothing.returncode == 2 and "matches no materializable asset" in nothing.stderr
    ui_only = daglab(defs_server, cli_env, "run", "--select", "status:HEALTHY", "--validate-only")
    assert ui_only.returncode == 2 and "only in the Dagster UI" in ui_only.stderr
