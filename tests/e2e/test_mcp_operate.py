"""``daglab mcp``'s run-operating tools against real Dagster (the ops location): run history,
one run in full, the event log and a step's captured output (bounded, paged), the failure
summary, and re-execution from the failure. The SDK's client over stdio; every answer
compared with the server's own record (a direct GraphQL query), not with daglab."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp.server")

from daglab.harness.server import DagsterServer
from tests.conftest import isolated_env
from tests.e2e.conftest import OPS_EVENT_PAGE, graphql, launch_job, server_events, wait_for_run
from tests.mcp_client import call, call_error, daglab_mcp, tool_names

pytestmark = pytest.mark.e2e

STDERR_LINES = [f"daglab fixture stderr: line {i} of 3" for i in (1, 2, 3)]
OPERATE_READ = {
    "list_runs",
    "get_run_details",
    "get_run_logs",
    "get_compute_logs",
    "get_failure_summary",
}

SERVER_RUN = """
query DaglabTestRun($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId status jobName parentRunId rootRunId
      tags { key value }
      stepStats { stepKey status }
    }
  }
}
"""

SERVER_RUNS = """
query DaglabTestRuns($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) { ... on Runs { results { runId status } } }
}
"""


def server_run(server: DagsterServer, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = graphql(server, SERVER_RUN, {"runId": run_id})["runOrError"]
    assert run["__typename"] == "Run", run
    return run


def chatty(marker: Path) -> dict[str, Any]:
    return {"ops": {"chatty": {"config": {"pass_if_exists": str(marker)}}}}


@pytest.fixture(scope="module")
def failures(ops_server: DagsterServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three chatty_job runs launched over GraphQL (not by daglab) that failed in step chatty,
    (their marker file missing)."""
    tmp = tmp_path_factory.mktemp("mcp-ops")
    marker = tmp / "pass-marker"
    ids = [
        launch_job(ops_server, "chatty_job", location="ops", run_config=chatty(marker))
        for _ in range(3)
    ]
    for run_id in ids:
        assert wait_for_run(ops_server, run_id) == "FAILURE"
    return {"ids": ids, "marker": marker, "tmp": tmp}


async def test_history_details_logs_and_failure_summary_agree_with_the_server(
    ops_server: DagsterServer, failures: dict[str, Any]
) -> None:
    env = isolated_env(failures["tmp"] / "env", DAGLAB_URL=ops_server.url)
    newest = failures["ids"][-1]
    async with daglab_mcp(env=env, errlog=failures["tmp"] / "server.log") as client:
        names = await tool_names(client)
        assert names >= OPERATE_READ and "reexecute_run" not in names  # read-only by default

        # list_runs: newest first, two at a time, the cursor walks on: the server's order.
        expected = [
            r["runId"]
            for r in graphql(
                ops_server,
                SERVER_RUNS,
                {"filter": {"pipelineName": "chatty_job", "statuses": ["FAILURE"]}, "limit": 1000},
            )["runsOrError"]["results"]
        ]
        seen: list[str] = []
        cursor = None
        for _ in range(100):
            page = await call(
                client,
                "list_runs",
                {"job": "chatty_job", "statuses": ["FAILURE"], "limit": 2, "cursor": cursor},
            )
            assert page["count"] == len(page["runs"]) <= 2
            seen += [r["run_id"] for r in page["runs"]]
            if not page["truncated"]:
                break
            cursor = page["next_cursor"]
        assert seen == expected and newest == seen[0]

        # get_run_details by an 8-character prefix, and by alias: the server's steps.
        run = server_run(ops_server, newest)
        details = await call(client, "get_run_details", {"run": newest[:8]})
        assert details["run_id"] == newest and details["status"] == run["status"] == "FAILURE"
        assert {s["key"]: s["status"] for s in details["steps"]} == {
            s["stepKey"]: s["status"] for s in run["stepStats"]
        }
        assert details["failures"][0]["step"] == "chatty"
        latest = await call(client, "get_run_details", {"run": "last-failure"})
        assert latest["run_id"] == expected[0]
        ambiguous = await call_error(client, "get_run_details", {"run": "0000"})
        assert "[bad input]" in ambiguous and "at least 8" in ambiguous

        # get_run_logs pages through the whole log (the server's page is OPS_EVENT_PAGE).
        events = server_events(ops_server, newest)
        assert len(events) > OPS_EVENT_PAGE
        got: list[tuple[Any, Any]] = []
        cursor = None
        for _ in range(1000):
            page = await call(client, "get_run_logs", {"run": newest, "limit": 7, "cursor": cursor})
            assert len(page["events"]) <= 7
            got += [(e["type"], e["step"]) for e in page["events"]]
            if not page["truncated"]:
                break
            cursor = page["next_cursor"]
        assert got == [(e.get("eventType"), e.get("stepKey")) for e in events]
        only = await call(client, "get_run_logs", {"run": newest, "types": ["STEP_FAILURE"]})
        assert (
            [e["step"] for e in only["events"]]
            == [e["stepKey"] for e in events if e.get("eventType") == "STEP_FAILURE"]
            == ["chatty"]
        )

        # get_compute_logs: the last lines, and from the start in pages of 2 lines.
        tail = await call(client, "get_compute_logs", {"run": newest, "step": "chatty", "lines": 3})
        assert tail["kept"] and tail["stream"] == "stderr" and len(tail["lines"]) == 3
        lines: list[str] = []
        offset = 0
        for _ in range(1000):
            page = await call(
                client,
                "get_compute_logs",
                {"run": newest, "step": "chatty", "from_start": True, "lines": 2, "offset": offset},
            )
            assert len(page["lines"]) <= 2
            lines += page["lines"]
            if not page["truncated"]:
                break
            offset = page["next_offset"]
        assert [ln for ln in lines if "stderr: line" in ln] == STDERR_LINES
        assert tail["lines"] == [ln for ln in lines if ln.strip()][-3:]

        # get_failure_summary: the failing step, its error, the last stderr lines.
        summary = await call(client, "get_failure_summary", {"run": newest})
        assert summary["failed"] and summary["failed_steps"] == ["chatty"]
        assert any("marker file" in c["message"] for c in summary["failures"][0]["causes"])
        assert summary["stderr_tail"]["step"] == "chatty"
        assert summary["stderr_tail"]["lines"][-1] == [ln for ln in lines if ln.strip()][-1]


async def test_reexecute_from_failure_needs_writes_and_ends_success_once_told_to_pass(
    ops_server: DagsterServer, failures: dict[str, Any]
) -> None:
    env = isolated_env(failures["tmp"] / "env-w", DAGLAB_URL=ops_server.url)
    parent = failures["ids"][0]
    failures["marker"].write_text("pass")
    async with daglab_mcp(
        "--allow-writes", env=env, errlog=failures["tmp"] / "server-w.log"
    ) as client:
        assert "reexecute_run" in await tool_names(client)
        tag = uuid.uuid4().hex
        done = await call(
            client,
            "reexecute_run",
            {
                "run": parent,
                "from_failure": True,
                "tags": {"test/mcp": tag},
                "wait": True,
                "timeout": 240,
            },
        )
        child = server_run(ops_server, done["run_id"])
        assert done["status"] == child["status"] == "SUCCESS" and done["ok"]
        assert done["parent_run_id"] == child["parentRunId"] == parent
        tags = {t["key"]: t["value"] for t in child["tags"]}
        assert tags["test/mcp"] == tag and tags["daglab/request_id"] == done["request_id"]
        # from the failure: only the failed step ran again
        assert [s["stepKey"] for s in child["stepStats"]] == ["chatty"]
        both = await call_error(
            client, "reexecute_run", {"run": parent, "from_failure": True, "steps": ["prepare"]}
        )
        assert "[bad input]" in both
        ended_ok = await call_error(
            client, "reexecute_run", {"run": done["run_id"], "from_failure": True}
        )
        assert "[bad input]" in ended_ok and "ended SUCCESS" in ended_ok
    json.dumps(done)  # the answer is one JSON document


SERVER_BACKFILL = """
query DaglabTestBackfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill { id status partitionNames }
  }
}
"""

SERVER_BACKFILL_RUNS = """
query DaglabTestBackfillRuns($filter: RunsFilter) {
  runsOrError(filter: $filter) { ... on Runs { results { runId status tags { key value } } } }
}
"""


async def test_backfill_tools_launch_once_wait_and_refuse_to_cancel_an_ended_one(
    ops_server: DagsterServer, tmp_path: Path
) -> None:
    env = isolated_env(tmp_path, DAGLAB_URL=ops_server.url)
    async with daglab_mcp("--allow-writes", env=env, errlog=tmp_path / "server.log") as client:
        bad = await call_error(
            client,
            "launch_backfill",
            {"asset_keys": ["ops/daily_numbers"], "partitions": ["2024-02-01", "2024-13-01"]},
        )
        assert "2024-13-01" in bad
        done = await call(
            client,
            "launch_backfill",
            {
                "asset_keys": ["ops/daily_numbers"],
                "partition_range": "2024-02-02...2024-02-03",
                "wait": True,
                "timeout": 300,
            },
        )
        backfill_id = done["backfill_id"]
        server = graphql(ops_server, SERVER_BACKFILL, {"backfillId": backfill_id})
        record = server["partitionBackfillOrError"]
        assert done["status"] == record["status"] and done["finished"]
        assert sorted(done["partitions"]) == sorted(record["partitionNames"])
        runs = graphql(
            ops_server,
            SERVER_BACKFILL_RUNS,
            {"filter": {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}},
        )["runsOrError"]["results"]
        assert len(runs) == 2  # one run per partition, launched once
        by_partition = {
            {t["key"]: t["value"] for t in r["tags"]}["dagster/partition"]: r["status"]
            for r in runs
        }
        assert done["failed_partitions"] == [k for k, v in by_partition.items() if v == "FAILURE"]
        assert done["failed_partitions"] == ["2024-02-03"] and not done["succeeded_all"]
        shown = await call(client, "get_backfill", {"backfill_id": backfill_id})
        assert shown["status"] == record["status"] and shown["succeeded"] == 1
        listed = await call(client, "list_backfills", {"limit": 50})
        assert backfill_id in [b["backfill_id"] for b in listed["backfills"]]
        ended = await call_error(client, "cancel_backfill", {"backfill_id": backfill_id})
        assert "[bad input]" in ended and "already ended" in ended
        after = graphql(ops_server, SERVER_BACKFILL, {"backfillId": backfill_id})
        assert after["partitionBackfillOrError"]["status"] == record["status"]  # unchanged
