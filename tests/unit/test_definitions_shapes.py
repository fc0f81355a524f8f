"""Issue 16 on the client side: key escapes, partition config merging, and the selection
resolver on shapes the fixture's `main` location does not have."""

from __future__ import annotations

import pytest

from daglab.helpers.assetkeys import format_key, parse_key
from daglab.helpers.errors import SelectionError
from daglab.helpers.models import AssetInfo
from daglab.helpers.runs.targets import _load_partition_yaml, merge_run_config
from daglab.helpers.selection import (
    parse_selection,
    resolve_selection_nodes,
    select_assets,
    validate_asset_selection,
)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (["orders", "raw_orders"], "orders/raw_orders"),
        (["backslash/interpretation"], "backslash\\/interpretation"),
        (["a\\b", "c"], "a\\\\b/c"),
        (["x/", "/y"], "x\\//\\/y"),
    ],
)
def test_a_key_has_one_text_form_that_parses_back(path: list[str], text: str) -> None:
    assert format_key(path) == text
    assert parse_key(text) == path


def test_asset_selection_keys_keep_an_escaped_slash_in_one_component() -> None:
    keys = validate_asset_selection("backslash\\/interpretation, orders/raw_orders", "keys")
    assert keys == ["backslash\\/interpretation", "orders/raw_orders"]
    assert [parse_key(k) for k in keys] == [["backslash/interpretation"], ["orders", "raw_orders"]]


def test_user_config_is_deep_merged_over_the_partition_config() -> None:
    partition = {"ops": {"load_day": {"config": {"date": "2024-01-15", "verbose": False}}}}
    user = {"ops": {"load_day": {"config": {"verbose": True}}}, "execution": {"x": 1}}
    assert merge_run_config(partition, user) == {
        "ops": {"load_day": {"config": {"date": "2024-01-15", "verbose": True}}},
        "execution": {"x": 1},
    }
    assert merge_run_config({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}  # lists are replaced


def test_partition_yaml_keeps_dates_as_strings() -> None:
    assert _load_partition_yaml("ops:\n  d:\n    config:\n      date: 2024-01-15\n") == {
        "ops": {"d": {"config": {"date": "2024-01-15"}}}
    }


def node(key: str, deps: tuple[str, ...] = (), location: str = "main", **kw: object) -> AssetInfo:
    return AssetInfo(
        key=key,
        path=parse_key(key),
        group=str(kw.pop("group", "default")),
        repository="__repository__",
        location=location,
        deps=list(deps),
        implicit_jobs=["__ASSET_JOB"],
        **kw,  # type: ignore[arg-type]
    )


CHAIN = [node("a"), node("b", ("a",)), node("c", ("b",)), node("d", ("c",))]


def test_roots_and_sinks_are_transitive_within_the_selection() -> None:
    # a and c are selected; b (outside) joins them: c has a upstream of it, so only a is a root.
    assert select_assets('roots(key:"a" or key:"c")', CHAIN) == ["a"]
    assert select_assets('sinks(key:"a" or key:"c")', CHAIN) == ["c"]


def test_owner_matches_teams_and_emails() -> None:
    assets = [node("x", owners=["team:data", "ada@example.com"]), node("y", owners=["team:ops"])]
    assert select_assets('owner:"team:data"', assets) == ["x"]
    assert select_assets('owner:"ada@example.com"', assets) == ["x"]
    assert select_assets('owner:"team:ops"', assets) == ["y"]


def test_a_key_in_two_locations_is_two_nodes() -> None:
    twins = [
        node("twice/shared", location="defs", tags={"copy": "defs"}),
        node("twice/shared", location="defs_twin", tags={"copy": "twin"}),
    ]
    chosen = resolve_selection_nodes(parse_selection("tag:copy=defs"), twins)
    assert [a.location for a in chosen] == ["defs"]


def test_sources_are_left_out_of_star_not_group_and_tag_but_not_key() -> None:
    assets = [node("src", materializable=False, group="g"), node("m", ("src",), group="g")]
    assert select_assets("*", assets) == ["m"]
    assert select_assets("group:g", assets) == ["m"]
    assert select_assets('not key:"m"', assets) == []
    assert select_assets('key:"src"', assets) == ["src"]
    assert select_assets("is:external", assets) == ["src"]


def test_job_and_partitions_attributes() -> None:
    assets = [
        node("p", partitioned=True, partition_type="TIME_WINDOW", jobs=["daily"]),
        node("q"),
    ]
    assert select_assets("job:daily", assets) == ["p"]
    assert select_assets("partitions:time", assets) == ["p"]
    assert select_assets("partitions:none", assets) == ["q"]
    with pytest.raises(SelectionError):
        parse_selection("partitions:hourly")


def test_key_attribute_matches_a_slash_inside_a_component_as_dagster_does() -> None:
    assets = [node("backslash\\/interpretation"), node("backslash/other")]
    assert select_assets('key:"backslash/interpretation"', assets) == ["backslash\\/interpretation"]
    assert select_assets('key:"backslash/*"', assets) == [
        "backslash\\/interpretation",
        "backslash/other",
    ]


# -- what a run's events say ------------------------------------------------------------------


def _watcher() -> tuple[object, list[object]]:
    from daglab.helpers.graphql import DagsterClient
    from daglab.helpers.runs.watch import RunWatcher

    seen: list[object] = []
    watcher = RunWatcher(DagsterClient("http://127.0.0.1:9"), "r1", on_progress=seen.append)
    return watcher, seen


def _ev(kind: str, step: str | None = None, **extra: object) -> dict[str, object]:
    return {"eventType": kind, "stepKey": step, "message": "", **extra}


def _check(step: str, name: str, passed: bool, severity: str) -> dict[str, object]:
    return _ev(
        "ASSET_CHECK_EVALUATION",
        step,
        evaluation={
            "checkName": name,
            "assetKey": {"path": ["defs", "checked"]},
            "success": passed,
            "severity": severity,
        },
    )


def test_check_results_are_reported_and_check_steps_are_not_asset_steps() -> None:
    from daglab.helpers.runs import describe

    watcher, seen = _watcher()
    watcher._handle_events(  # type: ignore[attr-defined]
        [
            _ev("ASSET_CHECK_EVALUATION_PLANNED", "defs__checked_rows_positive"),
            _ev("STEP_START", "defs__checked"),
            _ev("ASSET_MATERIALIZATION", "defs__checked", assetKey={"path": ["defs", "checked"]}),
            _ev("ASSET_MATERIALIZATION", "defs__checked", assetKey={"path": ["defs", "checked"]}),
            _ev("STEP_SUCCESS", "defs__checked"),
            _ev("STEP_START", "defs__checked_rows_positive"),
            _check("defs__checked_rows_positive", "rows_positive", False, "ERROR"),
            _ev("STEP_SUCCESS", "defs__checked_rows_positive"),
            _check("defs__checked_rows_fresh", "rows_fresh", False, "WARN"),
            _ev("STEP_SKIPPED", "on_no"),
        ]
    )
    result = watcher.result()  # type: ignore[attr-defined]
    assert result.steps_succeeded == ["defs__checked"]
    assert result.materialized == ["defs/checked"]  # two materializations, one asset
    assert result.steps_skipped == ["on_no"]
    doc = result.to_json()
    assert doc["checks"] == [
        {
            "asset": "defs/checked",
            "path": ["defs", "checked"],
            "name": "rows_positive",
            "passed": False,
            "severity": "ERROR",
            "step": "defs__checked_rows_positive",
        },
        {
            "asset": "defs/checked",
            "path": ["defs", "checked"],
            "name": "rows_fresh",
            "passed": False,
            "severity": "WARN",
            "step": "defs__checked_rows_fresh",
        },
    ]
    lines = [describe(e) for e in seen]  # type: ignore[arg-type]
    assert "materialized defs/checked (1)" in lines
    assert "check rows_positive on defs/checked FAILED (ERROR)" in lines
    assert "step on_no skipped" in lines


def test_a_failed_error_check_is_not_ok_a_failed_warn_check_is() -> None:
    from daglab.helpers.models import CheckResult, RunResult

    warn = CheckResult(asset="a", name="w", passed=False, severity="WARN")
    error = CheckResult(asset="a", name="e", passed=False, severity="ERROR")
    assert RunResult(run_id="r", status="SUCCESS", url="u", checks=[warn]).ok
    assert not RunResult(run_id="r", status="SUCCESS", url="u", checks=[warn, error]).ok


def test_a_run_that_died_mid_step_names_that_step() -> None:
    watcher, _ = _watcher()
    watcher._handle_events(  # type: ignore[attr-defined]
        [
            _ev("STEP_START", "sleep_for"),
            _ev(
                "RUN_FAILURE",
                None,
                message="Run worker crashed",
                error={"message": "process exited with -9"},
            ),
        ]
    )
    watcher.state.status = "FAILURE"  # type: ignore[attr-defined]
    result = watcher.result()  # type: ignore[attr-defined]
    assert result.error.step == "sleep_for"
    assert "crashed" in result.error.message


def test_the_one_line_reason_of_a_multi_line_message() -> None:
    from daglab.helpers.text import reason_line

    text = (
        'Error occurred while executing op "explode":\n\n'
        "Traceback (most recent call last):\n"
        '  File "x.py", line 3, in f\n'
        "Exception: daglab fixture failure\n"
    )
    assert reason_line(text) == (
        'Error occurred while executing op "explode": Exception: daglab fixture failure'
    )
    assert reason_line("one line") == "one line"


def test_internal_jobs_are_hidden_and_a_job_in_two_repositories_hints_at_the_repository() -> None:
    from daglab.helpers.discovery import asset_record, is_internal_job

    assert is_internal_job("__anonymous_asset_job_multi_daily")
    assert is_internal_job("__ASSET_JOB_0") and not is_internal_job("orders_job")
    record = asset_record(
        {"assetKey": {"path": ["a"]}, "jobNames": ["__ASSET_JOB", "__anonymous_asset_job_s", "j"]},
        "__repository__",
        "main",
    )
    assert record["jobs"] == ["j"] and record["implicit_jobs"] == ["__ASSET_JOB"]


def test_a_crashed_step_process_is_told_in_the_executors_words_not_the_exception_name() -> None:
    watcher, _ = _watcher()
    crash = {
        "message": "dagster._core...ChildProcessCrashException\n",
        "className": "ChildProcessCrashException",
    }
    watcher._handle_events(  # type: ignore[attr-defined]
        [
            _ev("STEP_START", "crash_step"),
            _ev(
                "ENGINE_EVENT",
                "crash_step",
                message="Multiprocess executor: child process for step crash_step exited with "
                "code 3. This usually indicates ...",
                error=crash,
            ),
            _ev("STEP_FAILURE", "crash_step", error=crash),
        ]
    )
    watcher.state.status = "FAILURE"  # type: ignore[attr-defined]
    error = watcher.result().error  # type: ignore[attr-defined]
    assert (error.step, error.message) == (
        "crash_step",
        "child process for step crash_step exited with code 3",
    )
