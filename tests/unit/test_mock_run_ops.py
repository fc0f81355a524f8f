"""Run operations driven against the mock, for what real Dagster cannot show: a re-execution
or backfill whose response is lost after the server made it, a captured-logs read that fails,
and the mock's own run-operation answers (paging, step stats, captured-log cursors, backfill
progress) checked against its state, so the tests that rely on them rely on something true."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from daglab.harness.mock import MockDagster
from daglab.helpers import errors, runs
from daglab.helpers import queries as q
from daglab.helpers.runs import RunTarget, backfills, history, logs, reexecute
from tests.conftest import REPO, isolated_env

CONFIG_OK = {"ops": {"process_rows": {"config": {"rows": 3}}}}
DAILY = ("events/daily_events",)


def job(name: str) -> RunTarget:
    return RunTarget(name, "main", "__repository__")


def daily_events() -> RunTarget:
    return RunTarget("__ASSET_JOB", "main", "__repository__", DAILY, DAILY)


async def failed_run(mock: MockDagster) -> str:
    async with mock.client() as client:
        submitted = await runs.launch_run(client, job("failing_job"))
    mock.finish_runs()
    return submitted.run_id


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path, PYTHONPATH=str(REPO), DAGLAB_KEYRING="0")


def daglab(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daglab", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=90,
    )


# -- re-execution: never twice ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["drop", "error500"])
async def test_a_lost_rerun_response_is_found_by_request_id_without_a_second_run(
    mock_app: MockDagster, mode: str
) -> None:
    parent = await failed_run(mock_app)
    mock_app.lose_response("launchRunReexecution", mode=mode)  # type: ignore[arg-type]
    async with mock_app.client() as client:
        submitted = await reexecute.reexecute_run(
            client, parent, strategy=reexecute.FROM_FAILURE, request_id="rq-rerun"
        )
    assert len(mock_app.runs) == 2  # the parent and one re-execution, never a second
    child = mock_app.runs[1]
    assert submitted.recovered and submitted.run_id == child.run_id
    assert mock_app.operations.count("DaglabLaunchReexecution") == 1
    assert child.parent_run_id == child.root_run_id == parent
    assert child.tags["daglab/request_id"] == "rq-rerun"
    assert child.tags["dagster/is_resume_retry"] == "true"
    assert child.step_keys_to_execute == ["explode"]


async def test_a_rerun_whose_run_never_shows_says_it_may_exist(
    mock_app: MockDagster, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = await failed_run(mock_app)
    monkeypatch.setattr(runs.launch, "LOOKUP_DELAYS", (0.0, 0.05))
    mock_app.lag_run_lookups(60.0)  # the run never shows within the lookups
    mock_app.lose_response("launchRunReexecution", mode="error500")
    async with mock_app.client() as client:
        with pytest.raises(errors.ServerError) as info:
            await reexecute.reexecute_run(client, parent, request_id="rq-lag")
    assert "may exist" in info.value.message
    assert "daglab/request_id=rq-lag" in info.value.message
    assert len(mock_app.runs) == 2  # made once, never re-sent
    assert mock_app.operations.count("DaglabLaunchReexecution") == 1


async def test_rerun_of_chosen_steps_runs_those_and_keeps_the_lineage(
    mock_app: MockDagster,
) -> None:
    async with mock_app.client() as client:
        first = await runs.launch_run(client, RunTarget("orders_job", "main", "__repository__"))
        mock_app.finish_runs()
        second = await reexecute.reexecute_run(client, first.run_id)
        mock_app.finish_runs()
        third = await reexecute.reexecute_run(
            client, second.run_id, steps=["orders__cleaned_orders"]
        )
        mock_app.finish_runs()
        details = await logs.get_run_details(client, third.run_id)
    assert details.parent_run_id == second.run_id
    assert details.root_run_id == first.run_id  # the root of the chain, not the parent
    assert [s.key for s in details.steps] == ["orders__cleaned_orders"]
    assert [m.key for m in details.materializations] == ["orders/cleaned_orders"]
    rec = mock_app.state.runs[third.run_id]
    assert rec.tags["dagster/step_selection"] == "orders__cleaned_orders"
    assert rec.tags["dagster/parent_run_id"] == second.run_id


async def test_rerun_from_failure_of_a_run_that_succeeded_is_exit_2_and_launches_nothing(
    mock_app: MockDagster,
) -> None:
    async with mock_app.client() as client:
        done = await runs.launch_run(client, job("config_job"), run_config=CONFIG_OK)
        mock_app.finish_runs()
        with pytest.raises(errors.BadInputError, match="ended SUCCESS"):
            await reexecute.reexecute_run(client, done.run_id, strategy=reexecute.FROM_FAILURE)
    assert len(mock_app.runs) == 1


# -- run details and ids ----------------------------------------------------------------------


async def test_run_details_show_each_step_and_the_failure(mock_app: MockDagster) -> None:
    parent = await failed_run(mock_app)
    async with mock_app.client() as client:
        details = await logs.get_run_details(client, parent)
    rec = mock_app.state.runs[parent]
    assert [(s.key, s.status) for s in details.steps] == [("explode", "FAILURE")]
    step = details.steps[0]
    assert step.started_at is not None and step.ended_at is not None
    assert rec.created_at <= step.started_at < step.ended_at <= (rec.end_time(time.time()) or 0)
    assert details.failure is not None and details.failure.step == "explode"
    assert "the explode op always fails" in details.failure.message


async def test_a_prefix_is_found_by_paging_run_ids_by_cursor(
    mock_app: MockDagster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "ID_PAGE_SIZE", 3)
    async with mock_app.client() as client:
        made = [
            (await runs.launch_run(client, job("config_job"), run_config=CONFIG_OK)).run_id
            for _ in range(8)
        ]
        oldest = made[0]
        found = await history.resolve_run_ref(client, oldest[:8])
    assert found == oldest
    pages = mock_app.operations.count("DaglabRunIdsPage")
    print(f"\n  8 runs, pages of 3: the oldest found after {pages} pages")
    assert pages == 3  # 3 + 3 + 2 ids, newest first, each page after the last id


# -- captured logs ----------------------------------------------------------------------------


async def test_captured_logs_read_in_chunks_give_the_whole_stream_once(
    mock_app: MockDagster,
) -> None:
    parent = await failed_run(mock_app)
    rec = mock_app.state.runs[parent]
    whole = rec.captured_bytes("explode", "stderr", time.time())
    assert whole is not None and b"the explode op always fails" in whole
    async with mock_app.client() as client:
        info, log_key = await logs.captured_log_info(client, parent, "explode", "stderr")
        chunks = [t async for t in logs.read_captured(client, log_key, "stderr", chunk_bytes=50)]
        rest = [t async for t in logs.read_captured(client, log_key, "stderr", offset=40)]
        _info, tail = await logs.tail_captured(client, parent, None, "stderr", lines=2)
    assert info.kept and info.file_key == "explode" and info.location is not None
    assert info.location.endswith(f"/{parent}/compute_logs/explode.err")
    assert "".join(chunks).encode() == whole
    assert len(chunks) == -(-len(whole) // 50)
    assert "".join(rest).encode() == whole[40:]
    assert tail[-1] == "Exception: daglab fixture failure: the explode op always fails"


async def test_captured_logs_cursor_is_byte_offsets_of_both_streams(
    mock_app: MockDagster,
) -> None:
    parent = await failed_run(mock_app)
    rec = mock_app.state.runs[parent]
    out = rec.captured_bytes("explode", "stdout", time.time()) or b""
    err = rec.captured_bytes("explode", "stderr", time.time()) or b""
    key = [parent, "compute_logs", "explode"]
    async with mock_app.client() as client:
        first = (await client.execute(q.CAPTURED_LOGS, {"logKey": key, "limit": 10}))[
            "capturedLogs"
        ]
        again = (
            await client.execute(q.CAPTURED_LOGS, {"logKey": key, "cursor": "10:10", "limit": None})
        )["capturedLogs"]
        past = (
            await client.execute(q.CAPTURED_LOGS, {"logKey": key, "cursor": "9999:5", "limit": 3})
        )["capturedLogs"]
        missing = (
            await client.execute(q.CAPTURED_LOGS, {"logKey": [parent, "compute_logs", "nosuch"]})
        )["capturedLogs"]
    assert (first["stdout"], first["stderr"], first["cursor"]) == (
        out[:10].decode(),
        err[:10].decode(),
        "10:10",
    )
    assert again["stdout"].encode() == out[10:] and again["stderr"].encode() == err[10:]
    assert again["cursor"] == f"{len(out)}:{len(err)}"
    # past the end: nothing, and the offset stays where it was (Dagster's seek and tell)
    assert (past["stdout"], past["stderr"], past["cursor"]) == (None, err[5:8].decode(), "9999:8")
    assert (missing["stdout"], missing["stderr"], missing["cursor"]) == (None, None, "0:0")


def test_a_500_on_captured_logs_is_exit_3_naming_the_read(
    mock_dagster: MockDagster, env: dict[str, str]
) -> None:
    result = daglab("run", "--job", "failing_job", "--url", mock_dagster.url, "--json", env=env)
    assert result.returncode == 1, result.stderr
    run_id = mock_dagster.runs[0].run_id
    mock_dagster.fail_next(500, operation="DaglabCapturedLogs")
    failed = daglab(
        "logs",
        run_id,
        "--step",
        "explode",
        "--stderr",
        "--url",
        mock_dagster.url,
        "--json",
        env=env,
    )
    assert failed.returncode == 3, failed.stderr
    assert "DaglabCapturedLogs (HTTP 500)" in failed.stdout
    assert "Traceback" not in failed.stderr
    ok = daglab(
        "logs",
        run_id,
        "--step",
        "explode",
        "--stderr",
        "--url",
        mock_dagster.url,
        "--json",
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    assert "the explode op always fails" in ok.stdout


# -- backfills --------------------------------------------------------------------------------


class Clock:
    """A clock the test moves by hand: the backfill daemon's ticks, exactly."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(mock_app: MockDagster) -> Clock:
    c = Clock()
    mock_app.use_clock(c)
    return c


async def test_a_backfill_submits_one_run_per_partition_and_completes(
    mock_app: MockDagster, clock: Clock
) -> None:
    tick = mock_app.config.run_step_seconds
    async with mock_app.client() as client:
        keys = await backfills.choose_partitions(
            client, daily_events(), partition_range="2024-01-02...2024-01-04"
        )
        launched = await backfills.launch_backfill(client, daily_events(), keys)
        made_at_launch = len(mock_app.runs)
        clock.now += tick * 1.5  # the daemon's first tick: one partition's run
        first = await backfills.get_backfill(client, launched.backfill_id)
        clock.now += 60
        done = await backfills.watch_backfill(client, launched.backfill_id, timeout=5)
        listed = await backfills.list_backfills(client, status="COMPLETED_SUCCESS")
        running = await backfills.list_backfills(client, status="REQUESTED")
    assert keys == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert (launched.status, launched.requested, made_at_launch) == ("REQUESTED", 3, 0)
    assert (first.status, first.in_progress, first.succeeded) == ("REQUESTED", 1, 0)
    assert done.status == "COMPLETED_SUCCESS", done
    assert (done.requested, done.succeeded, done.failed, done.in_progress) == (3, 3, 0, 0)
    assert [b.backfill_id for b in listed] == [launched.backfill_id] and not running
    made = mock_app.runs
    assert [r.tags["dagster/partition"] for r in made] == keys  # one per tick, in order
    assert {r.tags["dagster/backfill"] for r in made} == {launched.backfill_id}
    assert [r.created_at - made[0].created_at for r in made] == pytest.approx([0, tick, 2 * tick])
    ends = [r.end_time(clock.now) or 0 for r in made]
    assert done.created_at is not None and done.ended_at == max(ends)
    materialized = [e.partition for r in made for e in r.events if e.partition]
    assert materialized == keys


async def test_a_canceled_backfill_resumes_its_remaining_partitions(
    mock_app: MockDagster, clock: Clock
) -> None:
    tick = mock_app.config.run_step_seconds
    async with mock_app.client() as client:
        keys = await backfills.partition_keys(client, daily_events())
        launched = await backfills.launch_backfill(client, daily_events(), keys)
        clock.now += tick * 2.5  # two runs submitted, the first one STARTED
        canceling = await backfills.cancel_backfill(client, launched.backfill_id)
        clock.now += tick * 3  # the daemon cancels the runs in flight, and they stop
        canceled = await backfills.get_backfill(client, launched.backfill_id)
        made_before = len(mock_app.runs)
        with pytest.raises(errors.BadInputError, match="already ended CANCELED"):
            await backfills.cancel_backfill(client, launched.backfill_id)
        resumed = await backfills.resume_backfill(client, launched.backfill_id)
        clock.now += 60
        done = await backfills.get_backfill(client, launched.backfill_id)
    assert canceling.status == "CANCELING"
    assert canceled.status == "CANCELED"
    first_two = mock_app.runs[:2]
    assert canceled.ended_at == max(r.end_time(clock.now) or 0 for r in first_two)
    assert made_before == 2  # the daemon stopped submitting
    assert resumed.status == "REQUESTED"
    statuses = {r.tags["dagster/partition"]: r.status(clock.now) for r in mock_app.runs}
    assert len(mock_app.runs) == len(keys) and sorted(statuses) == keys  # one run each
    assert [statuses[k] for k in keys[:2]] == ["CANCELED", "CANCELED"]
    assert {statuses[k] for k in keys[2:]} == {"SUCCESS"}
    assert done.status == "COMPLETED_FAILED"
    assert (done.succeeded, done.failed) == (len(keys) - 2, 2)


async def test_a_lost_backfill_response_is_found_by_request_id(mock_app: MockDagster) -> None:
    mock_app.lose_response("launchPartitionBackfill", mode="drop")
    async with mock_app.client() as client:
        found = await backfills.launch_backfill(
            client, daily_events(), ["2024-01-01"], request_id="rq-bf"
        )
    assert list(mock_app.state.backfills) == [found.backfill_id]
    assert found.tags["daglab/request_id"] == "rq-bf"
    assert mock_app.operations.count("DaglabLaunchBackfill") == 1


async def test_unknown_partitions_and_unpartitioned_jobs_are_refused(
    mock_app: MockDagster,
) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.TargetNotFoundError):
            await backfills.choose_partitions(client, daily_events(), ["2023-12-31"])
        with pytest.raises(errors.BadInputError, match="not partitioned"):
            await backfills.partition_keys(client, job("config_job"))
        with pytest.raises(errors.TargetNotFoundError, match="Unknown partitions"):
            await backfills.launch_backfill(client, daily_events(), ["2023-12-31"])
        with pytest.raises(errors.TargetNotFoundError, match="No backfill"):
            await backfills.get_backfill(client, "nosuchid")
    assert not mock_app.state.backfills and not mock_app.runs
