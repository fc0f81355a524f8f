"""Session state: saved next to the notebook, recovered after a restart, reset, and a corrupt
file set aside instead of breaking the notebook."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import helpers_fakes
import pytest
from helpers_fakes import FakeDagster

from daglab.helpers import state, sync
from daglab.helpers.models import RunResult, RunSubmitResult

fresh_session = helpers_fakes.fresh_session
fake_dagster = helpers_fakes.fake_dagster


def _submitted(run_id: str, status: str = "QUEUED") -> RunSubmitResult:
    return RunSubmitResult(
        run_id=run_id,
        url=f"http://dagster.test/runs/{run_id}",
        status=status,
        job="orders_job",
        location="main",
        repository="__repository__",
        asset_selection=["orders/raw_orders"],
        request_id="req",
    )


def _saved_with_runs(path: Path, **runs: str) -> None:
    for run_id, status in runs.items():
        state.remember_run(_submitted(run_id, status))
    state.save(path)


@pytest.mark.usefixtures("fresh_session")
def test_save_and_read_round_trip(tmp_path: Path) -> None:
    file = tmp_path / "nb" / "state.json"
    _saved_with_runs(file, run1="QUEUED", run2="SUCCESS")
    state.remember_discovered(jobs=["main/__repository__/orders_job"], assets=["orders/raw_orders"])
    state.save()

    loaded = state.read(file)
    assert loaded.problem is None
    assert sorted(loaded.runs) == ["run1", "run2"]
    assert loaded.runs["run1"].asset_selection == ["orders/raw_orders"]
    assert [r.run_id for r in loaded.in_flight] == ["run1"]
    assert loaded.assets == ["orders/raw_orders"]
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600


@pytest.mark.usefixtures("fresh_session")
def test_a_missing_file_is_an_empty_state(tmp_path: Path) -> None:
    loaded = state.load(tmp_path / "nothing-here.json")
    assert loaded.runs == {} and loaded.problem is None


@pytest.mark.usefixtures("fresh_session")
@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"format": "something-else"}',
        '{"format": "daglab-session-state", "version": 1, "runs": [{"run_id": 5}]}',
        '{"format": "daglab-session-state", "version": 99}',
        "[]",
    ],
)
def test_a_corrupt_file_is_reported_and_set_aside(tmp_path: Path, content: str) -> None:
    file = tmp_path / "state.json"
    file.write_text(content)
    with pytest.warns(state.StateFileWarning, match="unusable"):
        loaded = state.load(file)
    assert loaded.runs == {}
    assert loaded.problem and str(file) in loaded.problem
    assert not file.exists()
    assert loaded.set_aside is not None and loaded.set_aside.read_text() == content
    assert loaded.set_aside.name.startswith("state.json.corrupt-")
    # and the session goes on: the next save writes a good file
    state.remember_run(_submitted("after"))
    state.save()
    assert state.read(file).runs.keys() == {"after"}


@pytest.mark.usefixtures("fresh_session")
def test_binary_garbage_is_set_aside_too(tmp_path: Path) -> None:
    file = tmp_path / "state.json"
    file.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.warns(state.StateFileWarning):
        loaded = state.load(file)
    assert loaded.problem and not file.exists()


def test_load_recovers_in_flight_runs_and_refreshes_them(
    fake_dagster: FakeDagster, tmp_path: Path
) -> None:
    file = tmp_path / "state.json"
    _saved_with_runs(file, running="STARTED", queued="QUEUED", done="SUCCESS", gone="STARTED")
    # a kernel restart: the process forgets everything
    state._replace(state.SessionState())
    fake_dagster.run_statuses = {"running": "STARTED", "queued": "SUCCESS", "done": "SUCCESS"}

    loaded = state.load(file)
    assert loaded.problem is None
    assert {r.run_id for r in loaded.in_flight} == {"running"}
    assert loaded.runs["queued"].status == "SUCCESS"
    assert loaded.runs["gone"].status == state.NOT_FOUND
    assert "DaglabRun" in fake_dagster.requests
    assert "done" not in json.dumps(fake_dagster.requests)  # finished runs are not re-read


def test_resume_watches_in_flight_runs_to_the_end(
    fake_dagster: FakeDagster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from daglab.helpers import runs

    file = tmp_path / "state.json"
    _saved_with_runs(file, a="STARTED", b="SUCCESS")
    state._replace(state.SessionState())
    fake_dagster.run_statuses = {"a": "STARTED", "b": "SUCCESS"}
    watched: list[str] = []

    async def fake_watch(watcher: runs.RunWatcher, *args: object, **kw: object) -> RunResult:
        run_id = watcher.run_id
        watched.append(run_id)
        return RunResult(run_id=run_id, status="SUCCESS", url=f"http://dagster.test/runs/{run_id}")

    monkeypatch.setattr(runs.RunWatcher, "watch", fake_watch)
    loaded = state.load(file)
    results = loaded.resume(progress=False)
    assert watched == ["a"]
    assert [r.status for r in results] == ["SUCCESS"]
    assert state.current().in_flight == []
    assert state.read(file).runs["a"].status == "SUCCESS"


def test_an_unreachable_server_does_not_break_load(
    fake_dagster: FakeDagster, tmp_path: Path
) -> None:
    import httpx

    file = tmp_path / "state.json"
    _saved_with_runs(file, running="STARTED")
    state._replace(state.SessionState())
    fake_dagster.fail_with = httpx.ConnectError
    with pytest.warns(state.StateFileWarning, match="Could not refresh"):
        loaded = state.load(file)
    assert loaded.runs["running"].status == "STARTED"
    assert loaded.problem and "Cannot reach" in loaded.problem


def test_load_restores_the_target(
    fake_dagster: FakeDagster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "state.json"
    sync.connect("http://saved.test:3000", check=False)
    state.save(file)
    # restart, without DAGLAB_URL this time
    from daglab.helpers import session

    monkeypatch.delenv("DAGLAB_URL")
    monkeypatch.setattr(session, "_session", session.Session())
    state._replace(state.SessionState())
    state.load(file)
    assert session.get_session().settings().url == "http://saved.test:3000"


@pytest.mark.usefixtures("fresh_session")
def test_reset_forgets_everything_and_deletes_the_file(tmp_path: Path) -> None:
    file = tmp_path / "state.json"
    _saved_with_runs(file, r1="STARTED")
    cleared = state.reset()
    assert cleared.runs == {} and cleared.jobs == []
    assert not file.exists()
    assert state.current() is cleared


@pytest.mark.usefixtures("fresh_session")
def test_state_autosaves_once_a_path_is_chosen(tmp_path: Path) -> None:
    file = tmp_path / "auto.json"
    state.remember_run(_submitted("before"))
    assert not file.exists()  # a plain script writes nothing by itself
    state.set_path(file)
    state.remember_run(_submitted("r1"))
    assert set(state.read(file).runs) == {"before", "r1"}
    state.remember_status("r1", "SUCCESS")
    assert state.read(file).runs["r1"].status == "SUCCESS"


@pytest.mark.usefixtures("fresh_session")
def test_state_file_env_var_chooses_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "from-env.json"
    monkeypatch.setenv("DAGLAB_STATE_FILE", str(file))
    state.remember_run(_submitted("r1"))
    assert file.exists()


@pytest.mark.usefixtures("fresh_session")
def test_saved_next_to_the_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = tmp_path / "work" / "demo.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    assert state.default_path() == notebook.with_name(".demo.daglab-state.json")
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert state.default_path() == tmp_path / ".daglab-state.json"


@pytest.mark.usefixtures("fresh_session")
def test_no_credentials_are_saved(tmp_path: Path) -> None:
    from daglab.helpers.config import resolve_connection

    settings = resolve_connection(url="https://host.test/dagster", auth_token="tok-123456")
    state.remember_target(settings)
    file = state.save(tmp_path / "s.json")
    text = file.read_text()
    assert "tok-123456" not in text
    assert json.loads(text)["target"] == {
        "url": "https://host.test/dagster",
        "url_source": "flag --url",
        "profile": None,
    }


@pytest.mark.usefixtures("fresh_session")
def test_a_target_that_cannot_be_restored_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "state.json"
    file.write_text(
        json.dumps(
            {
                "format": "daglab-session-state",
                "version": 1,
                "target": {"url": "http://saved.test", "url_source": "flag --url", "profile": None},
                "runs": [],
            }
        )
    )
    monkeypatch.setenv("DAGLAB_PROFILE", "no-such-profile")
    with pytest.warns(state.StateFileWarning, match="Could not restore the saved target"):
        loaded = state.load(file)
    assert loaded.problem and "no-such-profile" in loaded.problem
