"""Launching, watching and cancelling runs, against the mock Dagster (what real Dagster
cannot do on demand: lost responses, failing polls, a dead daemon)."""

from __future__ import annotations

import json
import time
from typing import Any

import helpers_fakes
import httpx
import pytest

from daglab.commands._options import cli_spelling
from daglab.harness.mock import MockDagster
from daglab.helpers import errors, runs
from daglab.helpers.checks import load_run_config, parse_config_yaml
from daglab.helpers.models import AssetInfo
from daglab.helpers.runs import ProgressEvent, RunTarget
from daglab.helpers.validation import validate_run_config
from tests.conftest import run_cli

fresh_session = helpers_fakes.fresh_session

CONFIG_OK = {"ops": {"process_rows": {"config": {"rows": 3}}}}


@pytest.fixture(autouse=True)
def quick_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look for a lost launch once, without the real grace delays."""
    monkeypatch.setattr(runs.launch, "LOOKUP_DELAYS", (0.0, 0.01))


def job_target(name: str = "config_job") -> RunTarget:
    return RunTarget(name, "main", "__repository__")


# -- targets ------------------------------------------------------------------------------------


async def test_a_job_is_found_without_location_or_repository(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        target = await runs.resolve_job(client, "config_job")
    assert target == RunTarget("config_job", "main", "__repository__")


async def test_a_job_in_two_locations_is_ambiguous_and_lists_both(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.AmbiguousTargetError) as info:
            await runs.resolve_job(client, "shared_job")
        target = await runs.resolve_job(client, "shared_job", location="analytics")
    assert info.value.exit_code == 2
    assert "location main" in info.value.message and "location analytics" in info.value.message
    assert "location=" in str(info.value)  # the library names the setting ...
    assert "--location" in (info.value.render(cli_spelling)[1] or "")  # ... the CLI its flag
    assert target.location == "analytics"


async def test_an_unknown_job_suggests_close_names(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.TargetNotFoundError) as info:
            await runs.resolve_job(client, "config_jbo")
    assert "config_job" in (info.value.hint or "")
    assert info.value.exit_code == 2


async def test_an_unknown_location_is_named(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.TargetNotFoundError, match="No code location named 'nowhere'"):
            await runs.resolve_job(client, "config_job", location="nowhere")


async def test_a_pattern_runs_through_the_implicit_asset_job(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        target = await runs.resolve_assets(client, pattern="orders/*")
    assert target.job == "__ASSET_JOB"
    assert sorted(target.asset_selection) == [
        "orders/cleaned_orders",
        "orders/order_summary",
        "orders/raw_orders",
    ]


async def test_a_selection_across_locations_is_refused(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.SelectionError, match="spans 2 code locations"):
            await runs.resolve_assets(client, keys="orders/raw_orders,analytics/daily_report")


async def test_unknown_asset_key_is_exit_2_with_suggestion(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.TargetNotFoundError) as info:
            await runs.resolve_assets(client, keys="orders/raw_order")
    assert "orders/raw_orders" in (info.value.hint or "")


async def test_a_selection_syntax_error_comes_before_any_request(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.SelectionError, match="column"):
            await runs.resolve_assets(client, select="group:orders and")
    assert mock_app.operations == []


def _asset(key: str, jobs: list[str], partitioned: bool = False) -> AssetInfo:
    return AssetInfo(
        key=key,
        path=key.split("/"),
        group="g",
        repository="__repository__",
        location="main",
        implicit_jobs=jobs,
        partitioned=partitioned,
    )


def test_dagster_1_7_split_asset_jobs_pick_the_common_one_or_explain() -> None:
    both = [_asset("a/x", ["__ASSET_JOB_0"]), _asset("a/y", ["__ASSET_JOB_0"])]
    assert runs.targets._asset_target(both, "selection").job == "__ASSET_JOB_0"
    split = [_asset("a/x", ["__ASSET_JOB_0"]), _asset("e/d", ["__ASSET_JOB_1"], True)]
    with pytest.raises(errors.SelectionError) as info:
        runs.targets._asset_target(split, "selection")
    assert "__ASSET_JOB_0: a/x" in info.value.message
    assert "__ASSET_JOB_1: e/d" in info.value.message
    assert "partitions definitions" in info.value.message


async def test_partitioned_assets_need_a_known_partition(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        target = await runs.resolve_assets(client, keys="events/daily_events")
        assert target.partitioned_assets == ("events/daily_events",)
        with pytest.raises(
            errors.SelectionError, match=r"partition=KEY \(e.g. 2024-01-01\)"
        ) as info:
            await runs.check_partition(client, target, None)
        assert "--partition KEY (e.g. 2024-01-01)" in info.value.render(cli_spelling)[0]
        with pytest.raises(errors.TargetNotFoundError, match="no partition '2030-01-01'"):
            await runs.check_partition(client, target, "2030-01-01")
        await runs.check_partition(client, target, "2024-01-03")
        unpartitioned = await runs.resolve_assets(client, keys="orders/raw_orders")
        with pytest.raises(errors.SelectionError, match="none of the selected assets"):
            await runs.check_partition(client, unpartitioned, "2024-01-03")


def test_run_tags_are_key_value_and_daglab_s_own_are_reserved() -> None:
    assert runs.parse_run_tags(["team=data", "note=a=b"]) == {"team": "data", "note": "a=b"}
    with pytest.raises(errors.BadInputError):
        runs.parse_run_tags(["novalue"])
    with pytest.raises(errors.BadInputError) as info:
        runs.parse_run_tags(["dagster/partition=2024-01-01"])
    assert "--partition KEY" in info.value.render(cli_spelling)[0]
    with pytest.raises(errors.BadInputError):
        runs.parse_run_tags(["daglab/request_id=x"])


def test_run_url_keeps_the_path_prefix() -> None:
    assert runs.get_run_url("https://org.dagster.cloud/prod/", "abc") == (
        "https://org.dagster.cloud/prod/runs/abc"
    )


# -- launching ----------------------------------------------------------------------------------


async def test_launch_tags_the_run_with_a_request_id_and_partition(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        target = await runs.resolve_assets(client, keys="events/daily_events")
        submitted = await runs.launch_run(
            client, target, tags={"team": "data"}, partition="2024-01-02"
        )
    (run,) = mock_app.runs
    assert run.run_id == submitted.run_id
    assert run.tags["daglab/request_id"] == submitted.request_id
    assert run.tags["dagster/partition"] == "2024-01-02"
    assert run.tags["team"] == "data"
    assert run.asset_selection == [("events", "daily_events")]
    assert not submitted.recovered


@pytest.mark.parametrize("mode", ["drop", "hang"])
async def test_a_lost_launch_response_does_not_launch_twice(
    mock_app: MockDagster, mode: str
) -> None:
    mock_app.lose_response("launchRun", mode=mode)  # type: ignore[arg-type]
    async with mock_app.client(timeout=1.0) as client:
        submitted = await runs.launch_run(client, job_target(), run_config=CONFIG_OK)
    assert len(mock_app.runs) == 1
    assert mock_app.runs[0].run_id == submitted.run_id
    assert submitted.recovered
    assert mock_app.operations.count("DaglabLaunchRun") == 1
    assert "DaglabRunsByTag" in mock_app.operations


class _DropFirstLaunch(httpx.AsyncBaseTransport):
    """The first launch's connection drops before the server reads it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.dropped = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.dropped and b"DaglabLaunchRun" in request.content:
            self.dropped = True
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return await self.inner.handle_async_request(request)


async def test_a_dropped_launch_that_created_nothing_is_sent_again_once(
    mock_app: MockDagster,
) -> None:
    async with mock_app.client(transport=_DropFirstLaunch(mock_app.transport())) as client:
        submitted = await runs.launch_run(client, job_target(), run_config=CONFIG_OK)
    assert len(mock_app.runs) == 1
    # looked for the run (twice, over the grace period) before sending the launch again
    assert mock_app.operations == [
        "DaglabRunsByTag",
        "DaglabRunsByTag",
        "DaglabLaunchRun",
    ]
    assert mock_app.runs[0].run_id == submitted.run_id


async def test_a_5xx_after_the_launch_went_out_is_not_sent_again(mock_app: MockDagster) -> None:
    mock_app.fail_next(502, operation="launchRun")  # a proxy answered: did Dagster see it?
    async with mock_app.client() as client:
        with pytest.raises(errors.ServerError) as info:
            await runs.launch_run(client, job_target(), run_config=CONFIG_OK, request_id="r-5")
    assert "may exist" in info.value.message
    assert "daglab/request_id=r-5" in info.value.message
    assert mock_app.operations == ["DaglabLaunchRun", "DaglabRunsByTag", "DaglabRunsByTag"]


async def test_when_the_lookup_also_fails_the_user_gets_the_request_id(
    mock_app: MockDagster,
) -> None:
    mock_app.fail_next(502, operation="launchRun")
    mock_app.fail_next(500, n=None, operation="runsOrError")
    async with mock_app.client(max_retries=0) as client:
        with pytest.raises(errors.ServerError) as info:
            await runs.launch_run(client, job_target(), run_config=CONFIG_OK, request_id="req-1")
    assert "daglab/request_id=req-1" in info.value.message
    assert mock_app.operations.count("DaglabLaunchRun") == 1


async def test_invalid_config_creates_no_run_and_names_each_path(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.ConfigValidationError) as info:
            await runs.launch_run(
                client, job_target(), run_config={"ops": {"process_rows": {"config": {}}}}
            )
    assert mock_app.runs == []
    assert info.value.exit_code == 2
    assert any("process_rows" in where for where, _ in info.value.errors)


async def test_validate_run_config_reports_valid_and_invalid(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        good = await validate_run_config(client, "config_job", "main", "__repository__", CONFIG_OK)
        bad = await validate_run_config(
            client,
            "config_job",
            "main",
            "__repository__",
            {"ops": {"process_rows": {"config": {"rows": "many"}}}},
        )
    assert good.valid and good.errors == []
    assert not bad.valid
    assert bad.errors and bad.errors[0].where.startswith("root:ops:process_rows")
    assert mock_app.runs == []


def test_yaml_errors_name_the_file_and_line(tmp_path: Any) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("ops:\n  process_rows:\n    config: {rows: 3\n")
    with pytest.raises(errors.ConfigFileError) as info:
        load_run_config(path)
    assert str(path) in info.value.message and "line" in info.value.message
    assert info.value.exit_code == 2
    json_file = tmp_path / "run.json"
    json_file.write_text('{"ops": {\n "x": }\n}')
    with pytest.raises(errors.ConfigFileError, match="line 2"):
        load_run_config(json_file)
    assert parse_config_yaml("") == {}
    with pytest.raises(errors.ConfigFileError, match="mapping"):
        parse_config_yaml("- a\n- b\n")


# -- watching -----------------------------------------------------------------------------------


async def _launch(client: Any, name: str = "config_job", **kw: Any) -> str:
    submitted = await runs.launch_run(client, job_target(name), **kw)
    return submitted.run_id


async def test_watch_reports_progress_and_notices_the_end_quickly(mock_app: MockDagster) -> None:
    seen: list[ProgressEvent] = []
    async with mock_app.client() as client:
        run_id = await _launch(client, "orders_job")
        result = await runs.monitor_run(client, run_id, timeout=20, on_progress=seen.append)
        noticed = time.time()
    assert result.status == "SUCCESS" and result.succeeded
    assert result.ended_at is not None and noticed - result.ended_at < 0.5
    kinds = [e.kind for e in seen]
    assert kinds.index("step_started") < kinds.index("step_succeeded")
    statuses = [e.status for e in seen if e.kind == "status"]
    assert statuses[0] == "STARTING" and statuses[-1] == "SUCCESS"
    done = [e for e in seen if e.kind == "materialized"]
    assert [(e.done, e.total) for e in done] == [(1, 3), (2, 3), (3, 3)]
    assert sorted(result.materialized) == [
        "orders/cleaned_orders",
        "orders/order_summary",
        "orders/raw_orders",
    ]


async def test_a_failed_run_carries_the_step_and_the_error(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        run_id = await _launch(client, "failing_job")
        result = await runs.monitor_run(client, run_id, timeout=20)
    assert result.status == "FAILURE"
    assert result.error is not None
    assert result.error.step == "explode"
    assert "daglab fixture failure: the explode op always fails" in result.error.message


def test_the_users_exception_is_preferred_over_dagsters_wrapper() -> None:
    event = {
        "error": {
            "message": 'DagsterExecutionStepExecutionError: Error occurred while executing op "explode":\n',
            "className": "DagsterExecutionStepExecutionError",
            "cause": {"message": "Exception: boom\n", "className": "Exception"},
        }
    }
    assert runs.events.error_of(event) == ("Exception: boom", "Exception")


async def test_timeout_leaves_the_run_alone(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        run_id = await _launch(
            client, "slow_job", run_config={"ops": {"sleep_for": {"config": {"seconds": 30}}}}
        )
        started = time.monotonic()
        result = await runs.monitor_run(client, run_id, timeout=0.5)
        took = time.monotonic() - started
        still = await runs.get_run(client, run_id)
    assert result.timed_out and not result.canceled_by_daglab
    assert 0.4 < took < 2.0
    assert still.status == "STARTED"


async def test_timeout_with_cancel_ends_canceled(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        run_id = await _launch(
            client, "slow_job", run_config={"ops": {"sleep_for": {"config": {"seconds": 30}}}}
        )
        result = await runs.monitor_run(client, run_id, timeout=0.5, cancel_on_timeout=True)
    assert result.timed_out and result.canceled_by_daglab
    assert result.status == "CANCELED"
    assert mock_app.operations.count("DaglabTerminateRun") == 1


async def test_a_few_failed_polls_do_not_end_the_watch(mock_app: MockDagster) -> None:
    seen: list[ProgressEvent] = []
    async with mock_app.client(max_retries=0) as client:
        run_id = await _launch(client, "orders_job")
        mock_app.fail_next(502, n=2, operation="DaglabRunProgress")
        result = await runs.monitor_run(client, run_id, timeout=20, on_progress=seen.append)
    assert result.status == "SUCCESS"
    assert [e.kind for e in seen].count("poll_failed") == 2
    assert "contact_restored" in [e.kind for e in seen]


async def test_many_failed_polls_in_a_row_lose_contact(mock_app: MockDagster) -> None:
    async with mock_app.client(max_retries=0) as client:
        run_id = await _launch(client, "orders_job")
        mock_app.fail_next(503, n=None, operation="DaglabRunProgress")
        with pytest.raises(errors.LostContactError) as info:
            await runs.monitor_run(client, run_id, timeout=30, max_poll_failures=3)
    assert info.value.exit_code == 3
    assert info.value.run_id == run_id
    assert info.value.url and info.value.url.endswith(f"/runs/{run_id}")


async def test_auth_failure_while_watching_is_not_retried(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        run_id = await _launch(client, "orders_job")
        mock_app.require_bearer("s3cret")
        with pytest.raises(errors.AuthError):
            await runs.monitor_run(client, run_id, timeout=10)


async def test_a_run_stuck_in_the_queue_warns_about_the_daemon(mock_app: MockDagster) -> None:
    mock_app.config.run_queue = True
    mock_app.config.daemon_healthy = False
    mock_app.config.run_step_seconds = 10
    seen: list[ProgressEvent] = []
    async with mock_app.client() as client:
        run_id = await _launch(client, run_config=CONFIG_OK)
        result = await runs.monitor_run(
            client, run_id, timeout=0.6, queued_warning_after=0.2, on_progress=seen.append
        )
    warnings = [e for e in seen if e.kind == "queued_warning"]
    assert len(warnings) == 1
    assert "dagster-daemon" in (warnings[0].message or "")
    assert result.status == "QUEUED" and result.timed_out


async def test_an_unknown_run_is_exit_2(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.TargetNotFoundError):
            await runs.monitor_run(client, "no-such-run", timeout=5)


# -- cancelling ---------------------------------------------------------------------------------


async def test_cancel_rereads_the_run_after_terminating(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        run_id = await _launch(
            client, "slow_job", run_config={"ops": {"sleep_for": {"config": {"seconds": 30}}}}
        )
        result = await runs.cancel_run(client, run_id, force=True, wait=2)
    assert result.status == "CANCELED"
    assert mock_app.operations[-1] == "DaglabRun"


async def test_cancelling_a_finished_run_is_bad_input(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        run_id = await _launch(client, "orders_job")
        mock_app.finish_runs()
        with pytest.raises(errors.BadInputError, match="cannot be canceled"):
            await runs.cancel_run(client, run_id)
        with pytest.raises(errors.TargetNotFoundError):
            await runs.cancel_run(client, "no-such-run")


# -- the CLI over HTTP (exit codes, JSON) -------------------------------------------------------


def test_cli_json_document_on_success(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    result = run_cli(
        "run", "--asset-pattern", "orders/*", "--url", mock_dagster.url, "--json", env=cli_env
    )
    assert result.returncode == 0, result.stderr
    doc = result.json()
    for key in ("run_id", "status", "url", "job", "location", "repository", "asset_selection"):
        assert key in doc
    for key in ("started_at", "ended_at", "duration_s", "error"):
        assert key in doc
    assert doc["status"] == "SUCCESS"
    assert doc["url"] == f"{mock_dagster.url}/runs/{doc['run_id']}"
    assert "materialized orders/raw_orders" in result.stderr


def test_cli_failure_exit_1_with_the_error(
    mock_dagster: MockDagster, cli_env: dict[str, str]
) -> None:
    result = run_cli("run", "--job", "failing_job", "--url", mock_dagster.url, env=cli_env)
    assert result.returncode == 1
    assert "explode" in result.stderr
    assert "daglab fixture failure: the explode op always fails" in result.stderr


def test_cli_timeout_exit_4_still_prints_json(
    mock_dagster: MockDagster, cli_env: dict[str, str]
) -> None:
    result = run_cli(
        "run",
        "--job",
        "slow_job",
        "--config-yaml",
        "ops: {sleep_for: {config: {seconds: 30}}}",
        "--timeout",
        "0.5",
        "--json",
        "--url",
        mock_dagster.url,
        env=cli_env,
    )
    assert result.returncode == 4
    doc = result.json()
    assert doc["timed_out"] is True and doc["status"] == "STARTED"
    assert f"daglab watch {doc['run_id']}" in result.stderr
    assert f"daglab cancel {doc['run_id']}" in result.stderr


def test_cli_lost_contact_exit_3_names_the_run(
    mock_dagster: MockDagster, cli_env: dict[str, str]
) -> None:
    mock_dagster.config.run_step_seconds = 5
    mock_dagster.fail_next(503, n=None, operation="DaglabRunProgress")
    result = run_cli("run", "--job", "tagged_job", "--url", mock_dagster.url, env=cli_env)
    assert result.returncode == 3
    (run,) = mock_dagster.runs
    assert run.run_id in result.stderr.splitlines()[-2] + result.stderr.splitlines()[-1]
    assert f"/runs/{run.run_id}" in result.stderr


def test_cli_auth_failure_exit_5(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    mock_dagster.require_bearer("s3cret")
    result = run_cli(
        "run",
        "--job",
        "tagged_job",
        "--url",
        mock_dagster.url,
        "--auth-token",
        "wrong",
        env=cli_env,
    )
    assert result.returncode == 5
    assert "wrong" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--job", "a", "--asset-pattern", "b"),
        ("--job", "config_job", "--tag", "novalue"),
        ("--job", "config_job", "--config-yaml", "ops: [", "--validate-only"),
        ("--select", "group:orders and"),
    ],
)
def test_cli_bad_input_is_exit_2_before_launching(
    mock_dagster: MockDagster, cli_env: dict[str, str], args: tuple[str, ...]
) -> None:
    result = run_cli("run", *args, "--url", mock_dagster.url, env=cli_env)
    assert result.returncode == 2, result.stderr
    assert mock_dagster.runs == []
    assert "Traceback" not in result.stderr


def test_cli_duplicate_safe_launch(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    mock_dagster.lose_response("launchRun", mode="drop")
    result = run_cli(
        "run", "--job", "tagged_job", "--no-wait", "--url", mock_dagster.url, env=cli_env
    )
    assert result.returncode == 0, result.stderr
    assert len(mock_dagster.runs) == 1
    assert "found the run by its request id" in result.stderr


def test_config_problem_paths_come_from_the_stack_or_the_message() -> None:
    from daglab.helpers.validation import config_problems

    payload = {
        "errors": [
            {
                "message": 'Invalid scalar at path root:ops:process_rows:config:rows. Value "x"',
                "path": [],
                "reason": "RUNTIME_TYPE_MISMATCH",
                "stack": {
                    "entries": [
                        {"__typename": "EvaluationStackPathEntry", "fieldName": "ops"},
                        {"__typename": "EvaluationStackPathEntry", "fieldName": "process_rows"},
                        {"__typename": "EvaluationStackPathEntry", "fieldName": "config"},
                        {"__typename": "EvaluationStackPathEntry", "fieldName": "rows"},
                    ]
                },
            },
            {
                "message": 'Received unexpected config entry "x" at path root:ops:a. Expected',
                "path": [],
                "reason": "FIELD_NOT_DEFINED",
                "stack": {"entries": []},
            },
        ]
    }
    first, second = config_problems(payload)
    assert first.where == "root:ops:process_rows:config:rows"
    assert second.path == ["ops", "a"]


@pytest.mark.parametrize(("grace", "policies"), [(5.0, ["SAFE_TERMINATE"] * 2), (0.0, None)])
async def test_a_run_not_yet_cancelable_is_retried_then_marked(
    mock_app: MockDagster,
    monkeypatch: pytest.MonkeyPatch,
    grace: float,
    policies: list[str] | None,
) -> None:
    """Real Dagster refuses a safe terminate while a run is STARTING (the mock does not):
    daglab tries again once the run can be canceled, or marks it canceled after a grace."""
    real = runs.control._terminate
    sent: list[str] = []

    async def refuse_first(client: Any, run_id: str, policy: str) -> Any:
        sent.append(policy)
        if len(sent) == 1:
            return {"__typename": "TerminateRunFailure", "message": "status STARTING"}
        return await real(client, run_id, policy)

    monkeypatch.setattr(runs.control, "_terminate", refuse_first)
    if grace == 0.0:
        mock_app.config.run_step_seconds = 30  # still STARTING when the grace ends
    async with mock_app.client() as client:
        run_id = await _launch(
            client, "slow_job", run_config={"ops": {"sleep_for": {"config": {"seconds": 30}}}}
        )
        result = await runs.cancel_run(client, run_id, wait=2, starting_grace=grace)
    assert result.status == "CANCELED"
    if policies is not None:
        assert sent == policies
    else:
        assert sent == ["SAFE_TERMINATE", "MARK_AS_CANCELED_IMMEDIATELY"]


def test_cli_ctrl_c_prints_the_run_and_leaves_it_alone(
    mock_dagster: MockDagster, cli_env: dict[str, str]
) -> None:
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "daglab", "run", "--job", "slow_job", "--json"),
            *("--config-yaml", "ops: {sleep_for: {config: {seconds: 30}}}"),
            *("--url", mock_dagster.url),
        ],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = ""
    while "status" not in seen:
        line = proc.stderr.readline()
        assert line, f"daglab ended early: {seen}"
        seen += line
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=60)
    (run,) = mock_dagster.runs
    assert proc.returncode == 130
    assert f"Run {run.run_id} was left alone" in rest
    assert f"daglab watch {run.run_id}" in rest
    assert f"/runs/{run.run_id}" in rest
    assert json.loads(out)["run_id"] == run.run_id
    assert run.status(mock_dagster.state.now()) not in ("CANCELED", "CANCELING")
    assert "DaglabTerminateRun" not in mock_dagster.operations


async def test_an_unreachable_server_is_reported_plainly() -> None:
    from daglab.helpers.graphql import DagsterClient

    async with DagsterClient("http://127.0.0.1:9", max_retries=0, backoff_base=0.01) as client:
        with pytest.raises(errors.UnreachableError, match="Cannot reach"):
            await runs.launch_run(client, job_target(), run_config=CONFIG_OK)


async def test_the_helpers_and_the_cli_agree_on_a_timeout_that_canceled_the_run(
    mock_dagster: MockDagster, cli_env: dict[str, str], fresh_session: None
) -> None:
    """One workflow: ``run_job(timeout=, cancel_on_timeout=True)`` raises the same
    RunTimeoutError (exit 4) that ``daglab run --timeout --cancel-on-timeout`` exits with."""
    import daglab.helpers as dl

    slow = {"ops": {"sleep_for": {"config": {"seconds": 30}}}}
    await dl.connect(mock_dagster.url)
    with pytest.raises(errors.RunTimeoutError) as info:
        await dl.run_job("slow_job", run_config=slow, timeout=0.5, cancel_on_timeout=True)
    assert info.value.exit_code == 4
    assert info.value.result is not None and info.value.result.status == "CANCELED"
    assert info.value.result.stop_reason == "canceled_on_timeout"
    assert "it was canceled (now CANCELED)" in str(info.value)
    server = await dl.get_run(info.value.result.run_id)
    assert server.status == "CANCELED"
    await dl.close()

    cli = run_cli(
        "run",
        "--job",
        "slow_job",
        "--config-yaml",
        json.dumps(slow),
        "--timeout",
        "0.5",
        "--cancel-on-timeout",
        "--json",
        "--url",
        mock_dagster.url,
        env=cli_env,
    )
    assert cli.returncode == 4, cli.stderr
    assert cli.json()["canceled_by_daglab"] is True and cli.json()["status"] == "CANCELED"
    assert "it was canceled (now CANCELED)" in cli.stderr


async def test_a_timeout_says_how_long_it_waited_and_names_the_settings_of_each_face(
    mock_app: MockDagster,
) -> None:
    async with mock_app.client() as client:
        request = runs.RunRequest(
            job="slow_job", run_config={"ops": {"sleep_for": {"config": {"seconds": 30}}}}
        )
        with pytest.raises(errors.RunTimeoutError) as info:
            await runs.RunWorkflow(client, request).run(timeout=0.5)
    result = info.value.result
    assert result is not None and result.stop_reason == "timed_out"
    assert result.waited_s is not None and 0.4 < result.waited_s < 3.0
    assert info.value.run_id == result.run_id
    library = str(info.value)
    assert f"wait_for_run('{result.run_id}')" in library and "daglab" not in library
    _, hint = info.value.render(cli_spelling)
    assert f"`daglab watch {result.run_id}`" in (hint or "")
    assert f"`daglab cancel {result.run_id}`" in (hint or "")


def test_every_launch_selector_keeps_a_key_component_with_a_slash_whole() -> None:
    """Launches and re-executions build one selector: a ``\\/`` in the text form is a slash
    inside one component, not a second component."""
    from daglab.helpers.runs.launch import run_selector

    target = RunTarget("__ASSET_JOB", "defs", "__repository__", ("backslash\\/interpretation",))
    assert run_selector(target)["assetSelection"] == [{"path": ["backslash/interpretation"]}]
