"""``daglab run``, ``watch`` and ``cancel`` against a real Dagster server (fixture project).

Real runs cost seconds of CPU each, so the suite launches few of them and checks several
things about each: the exit code, the line a user sees, and the run as the server has it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from daglab.harness.server import DagsterServer
from tests.conftest import CliResult, run_cli
from tests.e2e._proxy import DroppingProxy
from tests.e2e.conftest import graphql, wait_for_run

pytestmark = pytest.mark.e2e

FAILURE_MESSAGE = "daglab fixture failure: the explode op always fails"
ORDERS = ["orders/cleaned_orders", "orders/order_summary", "orders/raw_orders"]

SERVER_RUN = """
query DaglabTestRun($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId status jobName endTime
      tags { key value }
      assetSelection { path }
    }
  }
}
"""

RUNS_OF_JOB = """
query DaglabTestRunsOfJob($filter: RunsFilter) {
  runsOrError(filter: $filter) { ... on Runs { results { runId } } }
}
"""


def server_run(server: DagsterServer, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = graphql(server, SERVER_RUN, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run", run
    return run


def selection_of(run: dict[str, Any]) -> list[str]:
    return sorted("/".join(k["path"]) for k in run["assetSelection"] or [])


def tags_of(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["tags"]}


def run_ids(server: DagsterServer, **filter: Any) -> list[str]:
    data = graphql(server, RUNS_OF_JOB, {"filter": filter})["runsOrError"]
    return [r["runId"] for r in data["results"]]


def daglab(server: DagsterServer, env: dict[str, str], *args: str) -> CliResult:
    return run_cli(*args, "--url", server.url, env=env, timeout=420)


# -- jobs ---------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_job_with_valid_config_succeeds(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    nonce = uuid.uuid4().hex
    result = daglab(
        dagster_server,
        cli_env,
        "run",
        "--job",
        "config_job",
        "--config-yaml",
        "ops: {process_rows: {config: {rows: 3, label: e2e}}}",
        "--tag",
        f"test/nonce={nonce}",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["status"] == "SUCCESS"
    assert (doc["job"], doc["location"], doc["repository"]) == (
        "config_job",
        "main",
        "__repository__",
    )
    assert doc["url"] == f"{dagster_server.url}/runs/{doc['run_id']}"
    assert doc["duration_s"] is not None and doc["duration_s"] >= 0
    assert doc["error"] is None
    assert "step process_rows succeeded" in result.stderr
    assert doc["url"] in result.stderr
    run = server_run(dagster_server, doc["run_id"])
    assert run["status"] == "SUCCESS"
    assert tags_of(run)["test/nonce"] == nonce
    assert tags_of(run)["daglab/request_id"]
    assert run_ids(dagster_server, tags=[{"key": "test/nonce", "value": nonce}]) == [doc["run_id"]]


def test_failing_job_exits_1_and_shows_the_error(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = daglab(dagster_server, cli_env, "run", "--job", "failing_job", "--json")
    assert result.returncode == 1, result.stderr
    assert "Failed step: explode" in result.stderr
    # Told once (the step's own captured stderr, quoted "  | ...", is another thing).
    told = [line for line in result.stderr.splitlines() if not line.startswith("  |")]
    assert sum(FAILURE_MESSAGE in line for line in told) == 1, result.stderr
    assert "Traceback" not in result.stderr
    doc = result.json()  # the document comes whatever the outcome
    assert doc["status"] == "FAILURE"
    assert doc["error"]["step"] == "explode" and FAILURE_MESSAGE in doc["error"]["message"]
    # Attaching to the finished run tells the same story; it cannot be canceled any more.
    watched = daglab(dagster_server, cli_env, "watch", doc["run_id"])
    assert watched.returncode == 1
    assert FAILURE_MESSAGE in watched.stderr
    finished = daglab(dagster_server, cli_env, "cancel", doc["run_id"])
    assert finished.returncode == 2
    assert "cannot be canceled" in finished.stderr
    unknown = daglab(dagster_server, cli_env, "watch", str(uuid.uuid4()))
    assert unknown.returncode == 2


def test_an_ambiguous_job_lists_both_locations(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    before = run_ids(dagster_server, pipelineName="shared_job")
    result = daglab(dagster_server, cli_env, "run", "--job", "shared_job")
    assert result.returncode == 2
    assert "location main" in result.stderr and "location analytics" in result.stderr
    assert "--location" in result.stderr
    unknown = daglab(dagster_server, cli_env, "run", "--job", "no_such_job")
    assert unknown.returncode == 2
    assert "No job 'no_such_job'" in unknown.stderr
    unknown_asset = daglab(dagster_server, cli_env, "run", "--asset-selection", "orders/nope")
    assert unknown_asset.returncode == 2
    assert "No asset 'orders/nope'" in unknown_asset.stderr
    assert run_ids(dagster_server, pipelineName="shared_job") == before


def test_validate_only_says_valid_or_lists_problems_and_launches_nothing(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    before = run_ids(dagster_server, pipelineName="config_job")
    valid = daglab(
        dagster_server,
        cli_env,
        "run",
        "--job",
        "config_job",
        "--config-yaml",
        "ops: {process_rows: {config: {rows: 1}}}",
        "--validate-only",
    )
    assert valid.returncode == 0, valid.stderr
    assert "valid" in valid.stdout
    invalid = daglab(
        dagster_server,
        cli_env,
        "run",
        "--job",
        "config_job",
        "--config-yaml",
        "ops: {process_rows: {config: {rows: many, colour: red}}}",
        "--validate-only",
        "--json",
    )
    assert invalid.returncode == 2
    doc = invalid.json()
    assert doc["valid"] is False
    wheres = [e["where"] for e in doc["errors"]]
    assert any(w.startswith("root:ops:process_rows:config") for w in wheres), doc
    assert len(doc["errors"]) >= 2  # every problem, not just the first
    assert "root:ops:process_rows:config" in invalid.stderr
    # Without --validate-only an invalid config is reported the same way, before any run.
    launched = daglab(
        dagster_server, cli_env, "run", "--job", "config_job", "--config-yaml", "ops: {}"
    )
    assert launched.returncode == 2
    assert "not valid for job config_job" in launched.stderr
    assert run_ids(dagster_server, pipelineName="config_job") == before


def test_malformed_yaml_names_the_file_and_line(
    dagster_server: DagsterServer, cli_env: dict[str, str], tmp_path: Any
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("ops:\n  process_rows:\n    config: {rows: 3\n")
    result = daglab(
        dagster_server, cli_env, "run", "--job", "config_job", "--run-config", str(config)
    )
    assert result.returncode == 2
    assert str(config) in result.stderr and "line 4" in result.stderr


# -- assets -------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_asset_selection_materializes_exactly_those_assets(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    chosen = ["customers/raw_customers", "orders/raw_orders"]
    result = daglab(dagster_server, cli_env, "run", "--asset-selection", ",".join(chosen), "--json")
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["status"] == "SUCCESS"
    assert doc["job"].startswith("__ASSET_JOB")
    assert sorted(doc["asset_selection"]) == chosen
    assert sorted(doc["materialized"]) == chosen
    assert "(2 of 2)" in result.stderr
    assert selection_of(server_run(dagster_server, doc["run_id"])) == chosen


def test_asset_pattern_materializes_the_matching_assets(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = daglab(dagster_server, cli_env, "run", "--asset-pattern", "orders/*", "--json")
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert selection_of(server_run(dagster_server, doc["run_id"])) == ORDERS
    assert sorted(doc["materialized"]) == ORDERS


def test_select_with_traversal_no_wait_and_cancel(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = daglab(
        dagster_server,
        cli_env,
        "run",
        "--select",
        '1+key:"customers/customer_ltv"',
        "--no-wait",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["status"] in ("QUEUED", "STARTING", "NOT_STARTED", "STARTED")
    assert f"daglab watch {doc['run_id']}" in result.stderr
    expected = ["customers/customer_ltv", "customers/raw_customers", "orders/cleaned_orders"]
    assert selection_of(server_run(dagster_server, doc["run_id"])) == expected
    canceled = daglab(dagster_server, cli_env, "cancel", doc["run_id"], "--force", "--json")
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.json()["status"] == "CANCELED"
    assert wait_for_run(dagster_server, doc["run_id"]) == "CANCELED"


def test_no_wait_prints_the_run_id_on_stdout_for_a_script(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    """``RID=$(daglab run ... --no-wait)`` holds the run id, as with ``gh``."""
    nonce = uuid.uuid4().hex
    result = daglab(
        dagster_server, cli_env, "run", "--job", "slow_job", "--config-yaml", SLOW,
        "--tag", f"test/nonce={nonce}", "--no-wait",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip()
    assert run_ids(dagster_server, tags=[{"key": "test/nonce", "value": nonce}]) == [run_id]
    canceled = daglab(dagster_server, cli_env, "cancel", run_id, "--force")
    assert canceled.returncode == 0, canceled.stderr
    assert wait_for_run(dagster_server, run_id) == "CANCELED"


def test_a_partitioned_asset_runs_one_partition(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    missing = daglab(dagster_server, cli_env, "run", "--asset-selection", "events/daily_events")
    assert missing.returncode == 2
    assert "--partition" in missing.stderr
    result = daglab(
        dagster_server,
        cli_env,
        "run",
        "--asset-selection",
        "events/daily_events",
        "--partition",
        "2024-01-03",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["partition"] == "2024-01-03"
    run = server_run(dagster_server, doc["run_id"])
    assert tags_of(run)["dagster/partition"] == "2024-01-03"
    assert selection_of(run) == ["events/daily_events"]


# -- timeouts and cancelling --------------------------------------------------------------------

SLOW = "ops: {sleep_for: {config: {seconds: 20}}}"


def test_timeout_leaves_the_run_going_and_says_how_to_reattach(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = daglab(
        dagster_server,
        cli_env,
        "run",
        "--job",
        "slow_job",
        "--config-yaml",
        SLOW,
        "--timeout",
        "3",
        "--json",
    )
    assert result.returncode == 4, result.stderr
    doc = result.json()
    run_id = doc["run_id"]
    assert doc["timed_out"] is True
    assert "The run goes on" in result.stderr
    assert f"daglab watch {run_id}" in result.stderr and f"daglab cancel {run_id}" in result.stderr
    assert server_run(dagster_server, run_id)["status"] not in ("CANCELED", "CANCELING")
    # Cancel it with daglab (and leave the machine quiet for the next test).
    canceled = daglab(dagster_server, cli_env, "cancel", run_id)
    assert canceled.returncode == 0, canceled.stderr
    assert wait_for_run(dagster_server, run_id) == "CANCELED"
    # A run that already ended CANCELED cannot be canceled: exit 2, as `cancel --help` says.
    again = daglab(dagster_server, cli_env, "cancel", run_id)
    assert again.returncode == 2, again.stderr
    assert "it already ended CANCELED" in again.stderr
    assert server_run(dagster_server, run_id)["status"] == "CANCELED"


def test_timeout_with_cancel_ends_the_run_canceled(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = daglab(
        dagster_server,
        cli_env,
        "run",
        "--job",
        "slow_job",
        "--config-yaml",
        SLOW,
        "--timeout",
        "3",
        "--cancel-on-timeout",
        "--json",
    )
    assert result.returncode == 4, result.stderr
    doc = result.json()
    assert doc["timed_out"] is True and doc["canceled_by_daglab"] is True
    assert wait_for_run(dagster_server, doc["run_id"]) == "CANCELED"


# -- runs daglab did not start, and lost launch responses ---------------------------------------


def test_a_lost_launch_response_does_not_launch_twice(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    """A proxy in front of the real webserver drops the first launch response after the
    server created the run; daglab finds the run by its request id instead of re-sending."""
    host, port = dagster_server.url.removeprefix("http://").split(":")
    nonce = uuid.uuid4().hex
    with DroppingProxy(host, int(port), marker=b"DaglabLaunchRun") as proxy:
        result = run_cli(
            "run",
            "--job",
            "tagged_job",
            "--tag",
            f"test/nonce={nonce}",
            "--no-wait",
            "--json",
            "--url",
            proxy.url,
            env=cli_env,
            timeout=300,
        )
    assert proxy.dropped == 1
    assert result.returncode == 0, result.stderr
    assert "found the run by its request id" in result.stderr
    doc = result.json()
    assert run_ids(dagster_server, tags=[{"key": "test/nonce", "value": nonce}]) == [doc["run_id"]]
    # Follow that run with `daglab watch`, as for any run daglab did not start.
    watched = daglab(dagster_server, cli_env, "watch", doc["run_id"], "--json")
    assert watched.returncode == 0, watched.stderr
    assert watched.json()["status"] == "SUCCESS"


# -- many runs at once, through the async helpers ------------------------------------------------


def test_concurrent_runs_without_a_view_share_status_polls_and_keep_their_results(
    dagster_server: DagsterServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from daglab.helpers import connect, run_assets
    from daglab.helpers.graphql import DagsterClient

    sent: list[tuple[str, dict[str, Any]]] = []
    execute = DagsterClient.execute

    async def recording(
        self: DagsterClient, document: Any, variables: Any = None, **kw: Any
    ) -> Any:
        sent.append((getattr(document, "name", "?"), dict(variables or {})))
        return await execute(self, document, variables, **kw)

    monkeypatch.setattr(DagsterClient, "execute", recording)

    async def main() -> list[Any]:
        await connect(dagster_server.url)
        return await asyncio.gather(
            *(run_assets("orders/raw_orders", progress=False, timeout=300) for _ in range(3))
        )

    results = asyncio.run(main())

    for result in results:
        assert server_run(dagster_server, result.run_id)["status"] == "SUCCESS"
        assert result.status == "SUCCESS"
        assert result.materialized == ["orders/raw_orders"]  # read from the event log at the end
        assert result.steps_succeeded
    names = [name for name, _ in sent]
    assert "DaglabRunProgress" not in names  # no per-run event polling without a view
    batches = [v["filter"]["runIds"] for name, v in sent if name == "DaglabRunsStatus"]
    assert max(len(ids) for ids in batches) == 3  # one query carried every run
    assert len({r.run_id for r in results}) == 3
