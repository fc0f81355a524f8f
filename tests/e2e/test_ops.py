"""Operating runs against a real Dagster server (location ``ops`` of the fixture project):
``daglab runs list|show``, ``daglab logs``, ``daglab rerun``, and the run ids every command
takes (full id, 8+ character prefix, alias).

Each test creates the runs it looks at, and checks daglab's answer against a direct GraphQL
query of the server. Real runs cost seconds of CPU each, so the tests share a few.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from daglab.harness.server import DagsterServer
from tests.conftest import CliResult, run_cli
from tests.e2e.conftest import OPS_EVENT_PAGE, graphql, launch_job, server_events, wait_for_run

pytestmark = pytest.mark.e2e

STDOUT_LINES = [f"daglab fixture stdout: line {i} of 3" for i in (1, 2, 3)]
STDERR_LINES = [f"daglab fixture stderr: line {i} of 3" for i in (1, 2, 3)]

SERVER_RUNS = """
query DaglabTestRuns($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    ... on Runs { results { runId status jobName tags { key value } } }
  }
}
"""

SERVER_RUN = """
query DaglabTestRun($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId status jobName parentRunId rootRunId stepKeysToExecute
      tags { key value }
      stepStats { stepKey status }
    }
  }
}
"""


def daglab(server: DagsterServer, env: dict[str, str], *args: str) -> CliResult:
    return run_cli(*args, "--url", server.url, env=env, timeout=420)


def server_runs(server: DagsterServer, **filter: Any) -> list[dict[str, Any]]:
    data = graphql(server, SERVER_RUNS, {"filter": filter, "limit": 1000})["runsOrError"]
    return list(data["results"])


def server_run(server: DagsterServer, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = graphql(server, SERVER_RUN, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run", run
    return run


def chatty_config(marker: Path) -> str:
    return json.dumps({"ops": {"chatty": {"config": {"pass_if_exists": str(marker)}}}})


@pytest.fixture(scope="module")
def failed_run(
    ops_server: DagsterServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A chatty_job run that failed in step chatty (its marker file missing), launched with
    ``daglab run``; the marker's path, the nonce it is tagged with, the CLI's result."""
    tmp = tmp_path_factory.mktemp("ops")
    from tests.conftest import isolated_env

    env = isolated_env(tmp)
    marker = tmp / "pass-marker"
    nonce = uuid.uuid4().hex
    result = daglab(
        ops_server,
        env,
        "run",
        "--job",
        "chatty_job",
        "--config-yaml",
        chatty_config(marker),
        "--tag",
        f"test/nonce={nonce}",
        "--json",
    )
    assert result.returncode == 1, result.stderr
    return {"run_id": result.json()["run_id"], "marker": marker, "nonce": nonce, "result": result}


@pytest.mark.smoke
def test_a_failed_run_ends_with_its_stderr_and_show_tells_why(
    ops_server: DagsterServer, cli_env: dict[str, str], failed_run: dict[str, Any]
) -> None:
    run_id = failed_run["run_id"]
    launched: CliResult = failed_run["result"]
    # `daglab run` ended with the error, the last lines of the step's stderr, and the command.
    assert "Failed step: chatty" in launched.stderr
    assert "Last lines of the stderr of step chatty:" in launched.stderr
    assert f"daglab logs {run_id} --stderr --step chatty" in launched.stderr

    # `runs show` by an 8-character prefix, and by alias, say the same as the server.
    shown = daglab(ops_server, cli_env, "runs", "show", run_id[:8], "--json")
    assert shown.returncode == 0, shown.stderr
    doc = shown.json()
    run = server_run(ops_server, run_id)
    assert doc["run_id"] == run_id and doc["status"] == run["status"] == "FAILURE"
    assert (
        {s["key"]: s["status"] for s in doc["steps"]}
        == {s["stepKey"]: s["status"] for s in run["stepStats"]}
        == {"prepare": "SUCCESS", "chatty": "FAILURE"}
    )
    assert doc["failures"][0]["step"] == "chatty"
    causes = doc["failures"][0]["causes"]  # Dagster's wrapper, then the op's own exception
    assert any("marker file" in c["message"] and c["class_name"] == "Exception" for c in causes)
    assert doc["url"] == f"{ops_server.url}/runs/{run_id}"
    assert doc["tags"]["test/nonce"] == failed_run["nonce"]
    text = daglab(ops_server, cli_env, "runs", "show", "last-failure", "--job", "chatty_job")
    assert text.returncode == 0, text.stderr
    assert f"Run       {run_id}" in text.stdout and "Failed step: chatty" in text.stdout
    assert "caused by Exception: daglab fixture failure: the marker file" in text.stdout
    too_short = daglab(ops_server, cli_env, "runs", "show", run_id[:5])
    assert too_short.returncode == 2 and "at least 8" in too_short.stderr
    unknown = daglab(ops_server, cli_env, "runs", "show", "0000000000")
    assert unknown.returncode == 2

    # The captured stdout and stderr of the step, whole.
    err = daglab(ops_server, cli_env, "logs", run_id[:12], "--stderr", "--step", "chatty")
    assert err.returncode == 0, err.stderr
    assert [line for line in err.stdout.splitlines() if "stderr: line" in line] == STDERR_LINES
    tail = [line for line in err.stdout.splitlines() if line.strip()][-3:]
    assert all(f"| {line}" in launched.stderr for line in tail), (tail, launched.stderr)
    out = daglab(ops_server, cli_env, "logs", run_id, "--stdout", "--json")  # the failed step
    assert out.returncode == 0, out.stderr
    captured = out.json()
    assert captured["step"] == "chatty" and captured["stream"] == "stdout" and captured["kept"]
    assert [ln for ln in captured["text"].splitlines() if "stdout: line" in ln] == STDOUT_LINES

    # The structured log, filtered by type, against the server's event log.
    failures = daglab(ops_server, cli_env, "logs", run_id, "--type", "STEP_FAILURE", "--json")
    assert failures.returncode == 0, failures.stderr
    events = server_events(ops_server, run_id)
    assert len(events) > OPS_EVENT_PAGE  # more than one of the server's pages
    whole = daglab(ops_server, cli_env, "logs", run_id, "--json")  # every page, in order
    assert whole.returncode == 0, whole.stderr
    assert [(e["type"], e["step"]) for e in whole.json()["events"]] == [
        (e.get("eventType"), e.get("stepKey")) for e in events
    ]
    expected = [e["stepKey"] for e in events if e.get("eventType") == "STEP_FAILURE"]
    assert [e["step"] for e in failures.json()["events"]] == expected == ["chatty"]
    assert failures.json()["events"][0]["error"]["message"]
    followed = daglab(ops_server, cli_env, "logs", run_id, "--follow")  # ended: exit as watch
    assert followed.returncode == 1
    assert "RUN_FAILURE" in followed.stdout


def test_runs_list_filters_and_pages_like_the_server(
    ops_server: DagsterServer, cli_env: dict[str, str], failed_run: dict[str, Any]
) -> None:
    nonce = uuid.uuid4().hex
    ok = daglab(
        ops_server,
        cli_env,
        "run",
        "--job",
        "chatty_job",
        "--config-yaml",
        chatty_config(Path("")),
        "--tag",
        f"test/nonce={nonce}",
        "--json",
    )
    assert ok.returncode == 0, ok.stderr
    outside = launch_job(ops_server, "chatty_job", location="ops")  # not launched by daglab
    assert wait_for_run(ops_server, outside) == "SUCCESS"

    listed = daglab(ops_server, cli_env, "runs", "list", "--job", "chatty_job", "--json")
    assert listed.returncode == 0, listed.stderr
    expected = [r["runId"] for r in server_runs(ops_server, pipelineName="chatty_job")][:20]
    assert [r["run_id"] for r in listed.json()["runs"]] == expected  # newest first
    assert listed.json()["runs"][0]["run_id"] == outside

    def ids(*args: str) -> list[str]:
        result = daglab(ops_server, cli_env, "runs", "list", "--json", *args)
        assert result.returncode == 0, result.stderr
        return [r["run_id"] for r in result.json()["runs"]]

    assert ids("--tag", f"test/nonce={nonce}") == [ok.json()["run_id"]]
    failures = ids("--status", "FAILURE", "--job", "chatty_job")
    assert failures == [
        r["runId"] for r in server_runs(ops_server, pipelineName="chatty_job", statuses=["FAILURE"])
    ]
    assert failed_run["run_id"] in failures
    assert outside not in ids("--daglab", "--job", "chatty_job")
    assert ids("--not-daglab", "--job", "chatty_job")[0] == outside
    assert ids("--before", "2020-01-01") == []
    assert outside in ids("--since", "1h", "--location", "ops")
    assert ids("--location", "elsewhere") == []
    # Paging: --limit 1 walks one run a page; --all streams JSON lines, one per run.
    every = daglab(ops_server, cli_env, "runs", "list", "--all", "--json")
    assert every.returncode == 0, every.stderr
    lines = [json.loads(line) for line in every.stdout.splitlines()]
    assert [r["run_id"] for r in lines] == [r["runId"] for r in server_runs(ops_server)]
    table = daglab(ops_server, cli_env, "runs", "list", "--limit", "2")
    assert table.returncode == 0, table.stderr
    head = table.stdout.splitlines()
    assert head[0].split() == ["run", "id", "job", "or", "assets", "status", "started", "duration"]
    assert len(head) == 4 and head[2].startswith(outside[:8])
    assert "more with" in table.stderr


def test_rerun_from_failure_ends_success_once_the_fixture_passes(
    ops_server: DagsterServer, cli_env: dict[str, str], failed_run: dict[str, Any]
) -> None:
    parent = failed_run["run_id"]
    failed_run["marker"].write_text("pass\n")
    result = daglab(
        ops_server,
        cli_env,
        "rerun",
        parent[:8],
        "--from-failure",
        "--tag",
        "test/rerun=yes",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["status"] == "SUCCESS" and doc["steps_succeeded"] == ["chatty"]
    child = server_run(ops_server, doc["run_id"])
    assert child["status"] == "SUCCESS"
    assert child["parentRunId"] == parent and child["rootRunId"] == parent
    assert child["stepKeysToExecute"] == ["chatty"]
    tags = {t["key"]: t["value"] for t in child["tags"]}
    assert tags["test/rerun"] == "yes" and tags["daglab/request_id"]
    assert tags["test/nonce"] == failed_run["nonce"]  # the parent's tags carry over
    # A run that did not fail cannot be re-executed from its failure.
    again = daglab(ops_server, cli_env, "rerun", doc["run_id"], "--from-failure")
    assert again.returncode == 2 and "only a failed or canceled run" in again.stderr
    steps = daglab(ops_server, cli_env, "rerun", doc["run_id"], "--steps", "prepare", "--json")
    assert steps.returncode == 0, steps.stderr
    assert server_run(ops_server, steps.json()["run_id"])["stepKeysToExecute"] == ["prepare"]
    # --no-wait: the child's id on stdout, for RID=$(daglab rerun ... --no-wait).
    quick = daglab(ops_server, cli_env, "rerun", doc["run_id"], "--steps", "prepare", "--no-wait")
    assert quick.returncode == 0, quick.stderr
    child_id = quick.stdout.strip()
    assert server_run(ops_server, child_id)["parentRunId"] == doc["run_id"]
    wait_for_run(ops_server, child_id)


def test_cancel_watch_and_logs_take_an_alias_and_a_prefix(
    ops_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    launched = daglab(
        ops_server,
        cli_env,
        "run",
        "--job",
        "ops_slow_job",
        "--config-yaml",
        "ops: {ops_sleep: {config: {seconds: 60}}}",
        "--no-wait",
        "--json",
    )
    assert launched.returncode == 0, launched.stderr
    run_id = launched.json()["run_id"]
    assert wait_for_run(ops_server, run_id, until=lambda s: s == "STARTED") == "STARTED"
    latest = daglab(ops_server, cli_env, "runs", "show", "latest", "--status", "STARTED", "--json")
    assert latest.json()["run_id"] == run_id
    canceled = daglab(ops_server, cli_env, "cancel", run_id[:10], "--json")
    assert canceled.returncode == 0, canceled.stderr
    assert wait_for_run(ops_server, run_id) == "CANCELED"
    watched = daglab(ops_server, cli_env, "watch", run_id[:8], "--json")
    assert watched.returncode == 1 and watched.json()["status"] == "CANCELED"
    followed = daglab(ops_server, cli_env, "logs", run_id[:8], "--follow", "--json")
    assert followed.returncode == 1
    assert followed.json()["status"] == "CANCELED"
    assert run_id in [
        r["run_id"]
        for r in daglab(
            ops_server, cli_env, "runs", "list", "--status", "CANCELED", "--json"
        ).json()["runs"]
    ]


SERVER_BACKFILL_RUNS = """
query DaglabTestBackfillRuns($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId status tags { key value } } }
  }
}
"""


def test_a_backfill_over_a_range_with_one_failing_partition_exits_1(
    ops_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    bad = daglab(
        ops_server,
        cli_env,
        "run",
        "--asset-selection",
        "ops/daily_numbers",
        "--partitions",
        "2024-02-01,2024-13-01",
    )
    assert bad.returncode == 2 and "No partition '2024-13-01'" in bad.stderr
    unpartitioned = daglab(
        ops_server, cli_env, "run", "--job", "chatty_job", "--partition-range", "a...b"
    )
    assert unpartitioned.returncode == 2 and "not partitioned" in unpartitioned.stderr
    result = daglab(
        ops_server,
        cli_env,
        "run",
        "--asset-selection",
        "ops/daily_numbers",
        "--partition-range",
        "2024-02-01...2024-02-05",
        "--timeout",
        "400",
        "--json",
    )
    assert result.returncode == 1, result.stderr
    doc = result.json()
    backfill_id = doc["backfill_id"]
    assert doc["partitions"] == [f"2024-02-0{i}" for i in range(1, 6)]
    assert (doc["requested"], doc["succeeded"], doc["failed"]) == (5, 4, 1)
    assert doc["failed_partitions"] == ["2024-02-03"] and doc["succeeded_all"] is False
    assert "4 succeeded, 1 failed" in result.stderr  # the progress lines
    runs = graphql(
        ops_server,
        SERVER_BACKFILL_RUNS,
        {"filter": {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}},
    )["runsOrError"]["results"]
    by_partition = {
        {t["key"]: t["value"] for t in r["tags"]}["dagster/partition"]: r["status"] for r in runs
    }
    assert by_partition == {
        f"2024-02-0{i}": ("FAILURE" if i == 3 else "SUCCESS") for i in range(1, 6)
    }
    shown = daglab(ops_server, cli_env, "backfills", "show", backfill_id, "--json")
    assert shown.returncode == 0 and shown.json()["failed"] == 1
    listed = daglab(ops_server, cli_env, "backfills", "list", "--json")
    assert backfill_id in [b["backfill_id"] for b in listed.json()["backfills"]]
    waited = daglab(ops_server, cli_env, "backfills", "show", backfill_id, "--wait")
    assert waited.returncode == 1 and "2024-02-03" in waited.stderr


SERVER_BACKFILL = """
query DaglabTestBackfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill { id status }
  }
}
"""


def server_backfill_status(server: DagsterServer, backfill_id: str) -> str:
    data = graphql(server, SERVER_BACKFILL, {"backfillId": backfill_id})["partitionBackfillOrError"]
    assert data["__typename"] == "PartitionBackfill", data
    return str(data["status"])


def test_a_backfill_canceled_while_it_runs_then_resumed(
    ops_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    launched = daglab(
        ops_server,
        cli_env,
        "run",
        "--asset-selection",
        "ops/slow_days",
        "--partition-range",
        "2024-03-01...2024-03-03",
        "--no-wait",
        "--json",
    )
    assert launched.returncode == 0, launched.stderr
    backfill_id = launched.json()["backfill_id"]
    never = daglab(ops_server, cli_env, "backfills", "resume", backfill_id)  # still running
    assert never.returncode == 2 and "only a FAILED or CANCELED backfill" in never.stderr
    assert server_backfill_status(ops_server, backfill_id) not in ("FAILED", "CANCELED")

    canceled = daglab(ops_server, cli_env, "backfills", "cancel", backfill_id, "--json")
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.json()["status"] in ("CANCELING", "CANCELED")
    waited = daglab(
        ops_server,
        cli_env,
        "backfills",
        "show",
        backfill_id,
        "--wait",
        "--timeout",
        "300",
        "--json",
    )
    assert waited.returncode == 1, waited.stderr  # ended, not every partition succeeded
    assert waited.json()["status"] == server_backfill_status(ops_server, backfill_id) == "CANCELED"
    runs = graphql(
        ops_server,
        SERVER_BACKFILL_RUNS,
        {"filter": {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}},
    )["runsOrError"]["results"]
    assert all(r["status"] in ("SUCCESS", "CANCELED", "FAILURE") for r in runs), runs
    assert waited.json()["succeeded"] == sum(r["status"] == "SUCCESS" for r in runs) < 3
    again = daglab(ops_server, cli_env, "backfills", "cancel", backfill_id)
    assert again.returncode == 2 and "already ended CANCELED" in again.stderr

    resumed = daglab(ops_server, cli_env, "backfills", "resume", backfill_id, "--json")
    if tuple(int(p) for p in ops_server.minor.split(".")) < (1, 11):  # needs a partition set
        assert resumed.returncode == 2 and "cannot resume an asset backfill" in resumed.stderr
        # The hint launches exactly the partitions whose runs did not succeed, as the server
        # records them.
        succeeded = {
            t["value"]
            for r in runs
            if r["status"] == "SUCCESS"
            for t in r["tags"]
            if t["key"] == "dagster/partition"
        }
        left = [p for p in ("2024-03-01", "2024-03-02", "2024-03-03") if p not in succeeded]
        assert left  # canceled while it ran: fewer than 3 succeeded (asserted above)
        assert (
            f"`daglab run --asset-selection ops/slow_days --partitions {','.join(left)}`"
            in " ".join(resumed.stderr.split())
        ), resumed.stderr
        assert server_backfill_status(ops_server, backfill_id) == "CANCELED"
        return
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.json()["status"] == "REQUESTED"
    done = daglab(
        ops_server,
        cli_env,
        "backfills",
        "show",
        backfill_id,
        "--wait",
        "--timeout",
        "300",
        "--json",
    )
    doc = done.json()
    status = server_backfill_status(ops_server, backfill_id)
    assert doc["status"] == status and status not in ("REQUESTED", "CANCELING"), doc
    assert done.returncode == (0 if doc["succeeded_all"] else 1), (done.returncode, doc)


def test_a_step_whose_worker_was_killed_is_named_with_the_crash(
    ops_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = daglab(ops_server, cli_env, "run", "--job", "crash_job", "--json")
    assert result.returncode == 1, result.stderr
    doc = result.json()
    run = server_run(ops_server, doc["run_id"])
    assert doc["status"] == run["status"] == "FAILURE"
    assert {s["stepKey"]: s["status"] for s in run["stepStats"]} == {"crash_step": "FAILURE"}
    # Dagster's own words, from the executor's engine event, not the bare exception name
    crash = [
        e
        for e in server_events(ops_server, doc["run_id"])
        if e.get("eventType") == "ENGINE_EVENT" and e.get("stepKey") == "crash_step"
    ]
    assert crash, "the server logged no crash of the step"
    assert crash[0]["message"].startswith(f"Multiprocess executor: {doc['error']['message']}")
    assert doc["error"]["step"] == "crash_step"
    assert doc["error"]["class_name"] == "ChildProcessCrashException"
    assert doc["error"]["message"] == (
        "child process for step crash_step was terminated by signal 9 (SIGKILL)"
    )
    assert "terminated by signal 9 (SIGKILL)" in result.stderr
