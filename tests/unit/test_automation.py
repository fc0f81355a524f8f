"""The pure parts of helpers/automation.py: error text, health problems, instigator parsing.
Their behaviour against a server is tested on real Dagster (tests/e2e/test_automation.py)."""

from __future__ import annotations

import pytest

from daglab.helpers import errors
from daglab.helpers.automation import (
    ERROR_CHARS,
    check_reload,
    error_text,
    health_problems,
    instigator_of,
)
from daglab.helpers.models import DaemonInfo, LocationInfo, ReloadResult


def test_error_text_keeps_the_root_cause_cleaned_and_bounded() -> None:
    error = {
        "message": "DagsterUserCodeLoadError: Error occurred\nduring loading\x1b[31m",
        "causes": [{"message": "SyntaxError: invalid syntax\n", "className": "SyntaxError"}],
    }
    text = error_text(error)
    assert text == (
        "DagsterUserCodeLoadError: Error occurred during loading\n"
        "Caused by SyntaxError: invalid syntax"
    )
    huge = error_text({"message": "x" * 10 * ERROR_CHARS})
    assert huge is not None and len(huge) == ERROR_CHARS and huge.endswith("…")
    assert error_text(None) is None


def test_a_failed_location_or_an_unhealthy_required_daemon_is_a_problem() -> None:
    ok = LocationInfo(name="main", load_status="LOADED", loaded=True)
    bad = LocationInfo(name="broken", load_status="FAILED", loaded=False, error="boom")
    daemons = [
        DaemonInfo(daemon_type="SENSOR", required=True, healthy=False),
        DaemonInfo(daemon_type="ASSET", required=False, healthy=None),
        DaemonInfo(daemon_type="SCHEDULER", required=True, healthy=True),
    ]
    assert health_problems([ok], daemons[1:]) == []
    assert health_problems([ok, bad], daemons) == [
        "code location broken is FAILED",
        "required daemon SENSOR is not healthy",
    ]
    assert health_problems([ok], None) == []  # daemons not reported: not a failure


def test_check_reload_raises_exit_3_with_the_load_error_and_its_root_cause() -> None:
    failed = LocationInfo(
        name="reloadable",
        load_status="FAILED",
        loaded=False,
        error="DagsterUserCodeLoadError: Error\nCaused by SyntaxError: invalid syntax",
    )
    with pytest.raises(errors.ServerError) as caught:
        check_reload(ReloadResult(locations=[failed], waited_s=1.0))
    assert caught.value.exit_code == 3
    assert "'reloadable' failed to load: DagsterUserCodeLoadError: Error" in caught.value.message
    assert caught.value.hint == "Caused by SyntaxError: invalid syntax"
    check_reload(ReloadResult(locations=[], waited_s=0.0))


def test_a_stopped_schedule_has_no_next_tick() -> None:
    raw = {
        "name": "nightly",
        "cronSchedule": "0 3 * * *",
        "pipelineName": "job",
        "defaultStatus": "RUNNING",
        "scheduleState": {"id": "x", "status": "STOPPED"},
        "futureTicks": {"results": [{"timestamp": 1.0}]},
    }
    info = instigator_of("schedule", raw, "loc", "__repository__")
    assert (info.status, info.default_status, info.next_tick) == ("STOPPED", "RUNNING", None)
    running = instigator_of(
        "schedule", {**raw, "scheduleState": {"id": "x", "status": "RUNNING"}}, "loc", "r"
    )
    assert running.next_tick == 1.0 and running.ticks is None
