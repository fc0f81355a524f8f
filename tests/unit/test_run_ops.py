"""Run operations on an in-process fake endpoint: run references, history paging, captured
logs an instance does not keep, backfill outcomes, and the ``--json`` shapes the README
documents (``daglab runs``, ``logs``, ``rerun``, ``backfills``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from daglab.helpers import errors
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.models import BackfillInfo, CapturedLogInfo, RunDetails, RunEvent, RunSummary
from daglab.helpers.runs import history, logs
from daglab.helpers.runs.backfills import backfill_error, parse_range

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]


def client_for(
    handler: Handler, sent: list[tuple[str, dict[str, Any]]] | None = None
) -> DagsterClient:
    def respond(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if sent is not None:
            sent.append((body.get("operationName"), body.get("variables") or {}))
        return httpx.Response(
            200, json={"data": handler(body.get("operationName"), body.get("variables") or {})}
        )

    return DagsterClient(
        "http://dagster.test", transport=httpx.MockTransport(respond), max_retries=0
    )


def run_record(run_id: str, status: str = "SUCCESS", **tags: str) -> dict[str, Any]:
    return {
        "id": run_id,
        "runId": run_id,
        "status": status,
        "jobName": "job",
        "creationTime": 1.0,
        "startTime": 2.0,
        "endTime": 5.5,
        "tags": [{"key": k, "value": v} for k, v in tags.items()],
        "assetSelection": None,
        "repositoryOrigin": {"repositoryName": "__repository__", "repositoryLocationName": "loc"},
    }


def ids_server(ids: list[str]) -> Handler:
    def handle(name: str, variables: dict[str, Any]) -> dict[str, Any]:
        assert name == "DaglabRunIdsPage"
        start = ids.index(variables["cursor"]) + 1 if variables["cursor"] else 0
        return {
            "runIdsOrError": {
                "__typename": "RunIds",
                "results": ids[start : start + variables["limit"]],
            }
        }

    return handle


def test_an_ambiguous_prefix_is_exit_2_with_the_candidates() -> None:
    ids = [
        "abcdef12-0000-0000-0000-000000000001",
        "abcdef12-0000-0000-0000-000000000002",
        "ffff0000-0000-0000-0000-000000000000",
    ]
    client = client_for(ids_server(ids))
    with pytest.raises(errors.AmbiguousTargetError) as caught:
        asyncio.run(history.resolve_run_ref(client, "abcdef12"))
    assert caught.value.exit_code == 2 and caught.value.candidates == ids[:2]
    assert ids[0] in str(caught.value)
    assert asyncio.run(history.resolve_run_ref(client, "FFFF0000")) == ids[2]
    assert asyncio.run(history.resolve_run_ref(client, ids[1].upper())) == ids[1]
    with pytest.raises(errors.BadInputError, match="at least 8"):
        asyncio.run(history.resolve_run_ref(client, "abcdef1"))
    with pytest.raises(errors.TargetNotFoundError):
        asyncio.run(history.resolve_run_ref(client, "12345678"))


def test_a_prefix_is_looked_up_page_by_page_over_every_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "ID_PAGE_SIZE", 2)
    ids = [f"{i:08x}-0000-0000-0000-000000000000" for i in range(7)]
    sent: list[tuple[str, dict[str, Any]]] = []
    client = client_for(ids_server(ids), sent)
    assert asyncio.run(history.resolve_run_ref(client, ids[6][:8])) == ids[6]
    assert [v["cursor"] for _, v in sent] == [None, ids[1], ids[3], ids[5]]


def test_history_pages_with_the_last_id_as_cursor_and_filters_client_side() -> None:
    records = [
        run_record(
            f"{i:08x}-0000-0000-0000-000000000000", **({"daglab/request_id": "x"} if i % 2 else {})
        )
        for i in range(5)
    ]
    sent: list[tuple[str, dict[str, Any]]] = []

    def handle(name: str, variables: dict[str, Any]) -> dict[str, Any]:
        ids = [r["runId"] for r in records]
        start = ids.index(variables["cursor"]) + 1 if variables["cursor"] else 0
        return {
            "runsOrError": {
                "__typename": "Runs",
                "results": records[start : start + variables["limit"]],
            }
        }

    client = client_for(handle, sent)

    async def collect(filters: history.RunFilter, **kw: Any) -> list[str]:
        return [r.run_id async for r in history.iter_runs(client, filters, **kw)]

    assert len(asyncio.run(collect(history.RunFilter(), page_size=2))) == 5
    assert [v["cursor"] for _, v in sent] == [None, records[1]["runId"], records[3]["runId"]]
    daglab_runs = asyncio.run(collect(history.RunFilter(launched_by_daglab=True), page_size=2))
    assert daglab_runs == [records[1]["runId"], records[3]["runId"]]
    sent.clear()
    assert (
        len(asyncio.run(collect(history.RunFilter(job="job", statuses=("failure",)), limit=2))) == 2
    )
    assert sent[0][1]["limit"] == 2 and sent[0][1]["filter"] == {
        "statuses": ["FAILURE"],
        "pipelineName": "job",
    }


def test_times_are_durations_ago_or_iso_dates() -> None:
    assert history.parse_time("2h", now=10_000.0) == 10_000.0 - 7200
    assert history.parse_time("2024-01-01T00:00:00Z") == 1704067200.0
    with pytest.raises(errors.BadInputError, match="since=yesterday"):
        history.parse_time("yesterday")
    assert parse_range("2024-01-01...2024-01-07") == ("2024-01-01", "2024-01-07")
    with pytest.raises(errors.BadInputError):
        parse_range("2024-01-01")


def test_an_instance_that_keeps_no_compute_logs_says_so() -> None:
    """NoOpComputeLogManager: no LogsCapturedEvent, no data, no metadata."""

    def handle(name: str, variables: dict[str, Any]) -> dict[str, Any]:
        if name == "DaglabRunLogPage":
            return {
                "runOrError": {"__typename": "Run", "runId": "r", "status": "FAILURE"},
                "logsForRun": {
                    "__typename": "EventConnection",
                    "events": [],
                    "cursor": "0",
                    "hasMore": False,
                },
            }
        assert name == "DaglabCapturedLogs"
        return {
            "capturedLogs": {"stdout": None, "stderr": None, "cursor": None},
            "capturedLogsMetadata": {
                "stdoutDownloadUrl": None,
                "stdoutLocation": None,
                "stderrDownloadUrl": None,
                "stderrLocation": None,
            },
        }

    info, key = asyncio.run(logs.captured_log_info(client_for(handle), "r", "step", "stderr"))
    assert info.kept is False and key == ["r", "compute_logs", "step"]


def test_captured_logs_are_read_in_bounded_chunks_of_one_stream() -> None:
    text = "x" * 10 + "\n"
    sent: list[tuple[str, dict[str, Any]]] = []

    def handle(name: str, variables: dict[str, Any]) -> dict[str, Any]:
        offset = int((variables["cursor"] or "0:0").split(":")[0])
        chunk = text[offset : offset + variables["limit"]]
        return {
            "capturedLogs": {"stdout": chunk, "stderr": "", "cursor": f"{offset + len(chunk)}:0"},
            "capturedLogsMetadata": {},
        }

    async def read() -> list[str]:
        return [
            c
            async for c in logs.read_captured(
                client_for(handle, sent), ["r", "compute_logs", "s"], "stdout", chunk_bytes=4
            )
        ]

    assert "".join(asyncio.run(read())) == text
    assert all(v["limit"] == 4 for _, v in sent) and len(sent) == 3


def test_a_backfill_succeeds_only_when_every_partition_did() -> None:
    base = {"backfill_id": "b", "status": "COMPLETED_SUCCESS", "url": "u", "requested": 2}
    assert backfill_error(BackfillInfo(**base, succeeded=2)) is None
    failed = backfill_error(
        BackfillInfo(
            **base | {"status": "COMPLETED_FAILED"}, succeeded=1, failed=1, failed_partitions=["p2"]
        )
    )
    assert isinstance(failed, errors.RunFailedError) and "p2" in failed.message
    timed_out = backfill_error(
        BackfillInfo(**base | {"status": "REQUESTED"}, timed_out=True, waited_s=3.0)
    )
    assert isinstance(timed_out, errors.RunTimeoutError) and timed_out.exit_code == 4


# -- the --json shapes (README: "JSON documents") -------------------------------------------------

RUN_SUMMARY_KEYS = [
    "run_id",
    "status",
    "url",
    "job",
    "location",
    "repository",
    "asset_selection",
    "partition",
    "tags",
    "created_at",
    "started_at",
    "ended_at",
    "duration_s",
    "launched_by_daglab",
]


def test_json_shapes_stay_as_documented() -> None:
    summary = RunSummary(
        run_id="r",
        status="SUCCESS",
        url="u",
        started_at=1.0,
        ended_at=3.0,
        tags={"daglab/request_id": "x"},
    )
    assert list(summary.to_json()) == RUN_SUMMARY_KEYS
    assert (
        summary.to_json()["duration_s"] == 2.0 and summary.to_json()["launched_by_daglab"] is True
    )
    details = RunDetails(run=summary).to_json()
    assert list(details) == [
        *RUN_SUMMARY_KEYS,
        "parent_run_id",
        "root_run_id",
        "steps",
        "materializations",
        "failures",
        "run_error",
    ]
    assert list(RunEvent(type="STEP_START").to_json()) == [
        "type",
        "level",
        "step",
        "timestamp",
        "message",
        "error",
    ]
    assert list(CapturedLogInfo(run_id="r", step="s", stream="stdout").to_json()) == [
        "run_id",
        "step",
        "stream",
        "file_key",
        "kept",
        "external_url",
        "location",
        "download_url",
        "bytes",
    ]
    assert list(BackfillInfo(backfill_id="b", status="REQUESTED", url="u").to_json()) == [
        "backfill_id",
        "status",
        "url",
        "partitions",
        "requested",
        "in_progress",
        "succeeded",
        "failed",
        "is_asset_backfill",
        "job",
        "asset_selection",
        "tags",
        "error",
        "failed_partitions",
        "timed_out",
        "waited_s",
        "created_at",
        "ended_at",
        "finished",
        "succeeded_all",
    ]
