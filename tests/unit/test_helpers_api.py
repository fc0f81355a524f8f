"""The notebook API: async ``daglab.helpers`` and its blocking twin ``daglab.helpers.sync``."""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
import threading

import helpers_fakes
import pytest
from helpers_fakes import FakeDagster

import daglab.helpers as dl
from daglab.helpers import display, session, sync
from daglab.helpers import progress as live_progress
from daglab.helpers.errors import BadInputError, DaglabError, UnreachableError

FUNCTIONS = sorted(name for name in dl.__all__ if callable(getattr(dl, name)) and name[0].islower())

fresh_session = helpers_fakes.fresh_session
fake_dagster = helpers_fakes.fake_dagster


# -- the public surface ------------------------------------------------------------------------


def test_the_phase_plan_helpers_are_exported() -> None:
    for name in (
        "connect",
        "run_job",
        "run_assets",
        "discover_jobs",
        "discover_assets",
        "validate_config",
        "load_config_from_file",
        "track_performance",
        "get_memory_usage",
        "performance_report",
    ):
        assert name in dl.__all__
        assert callable(getattr(dl, name))


def test_everything_in_all_resolves_and_dir_lists_it() -> None:
    for name in dl.__all__:
        assert getattr(dl, name) is not None
    assert set(dl.__all__) <= set(dir(dl))
    with pytest.raises(AttributeError):
        dl.no_such_helper  # noqa: B018


@pytest.mark.parametrize("name", FUNCTIONS)
def test_sync_twin_has_the_same_function_and_parameters(name: str) -> None:
    async_fn = getattr(dl, name)
    sync_fn = getattr(sync, name)
    async_params = inspect.signature(async_fn).parameters
    sync_params = inspect.signature(sync_fn).parameters
    assert [(p.name, p.kind, p.default, str(p.annotation)) for p in async_params.values()] == [
        (p.name, p.kind, p.default, str(p.annotation)) for p in sync_params.values()
    ]
    assert not inspect.iscoroutinefunction(sync_fn), (
        f"sync.{name} must block, not return a coroutine"
    )


def test_helpers_that_talk_to_the_server_are_async() -> None:
    for name in (
        "connect",
        "discover_jobs",
        "discover_assets",
        "run_job",
        "run_assets",
        "validate_config",
        "track_performance",
        "wait_for_run",
        "get_run",
    ):
        assert inspect.iscoroutinefunction(getattr(dl, name)), name
    for name in ("load_config_from_file", "get_memory_usage", "performance_report"):
        assert not inspect.iscoroutinefunction(getattr(dl, name)), name


def test_sync_exposes_no_name_the_async_api_lacks() -> None:
    extra = {n for n in sync.__all__ if n not in dl.__all__} - {"portal"}
    assert extra == set()
    missing = {n for n in FUNCTIONS if n not in sync.__all__}
    assert missing == set()


def _imported_after(code: str) -> dict[str, object]:
    probe = (
        f"{code}\nimport json, sys\n"
        "print(json.dumps({m: m in sys.modules for m in "
        "('httpx', 'pydantic', 'daglab.helpers.session', 'daglab.notebooks', 'nbformat', 'IPython')}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize(
    "code",
    ["import daglab.helpers", "import daglab.helpers.errors", "from daglab.helpers import config"],
)
def test_importing_the_package_loads_nothing_heavy(code: str) -> None:
    loaded = _imported_after(code)
    assert loaded == {name: False for name in loaded}, loaded


def test_the_notebook_command_module_loads_nothing_heavy() -> None:
    loaded = _imported_after("import daglab.commands.notebook")
    assert loaded == {name: False for name in loaded}, loaded


# -- one pooled client, sync inside a running loop ----------------------------------------------


async def test_async_helpers_share_one_client_across_calls(fake_dagster: FakeDagster) -> None:
    connection = await dl.connect()
    assert connection.url == "http://dagster.test"
    assert connection.version == "1.13.0"
    assert [loc.name for loc in connection.locations] == ["main"]
    await dl.discover_locations()
    await dl.discover_jobs()
    assert fake_dagster.connections_opened == 1
    await dl.close()


def test_sync_helpers_block_and_share_one_client(fake_dagster: FakeDagster) -> None:
    connection = sync.connect()
    jobs = sync.discover_jobs()
    again = sync.discover_jobs(pattern="orders_*")
    assert connection.version == "1.13.0"
    assert [j.name for j in jobs] == ["orders_job", "config_job"]
    assert again.names() == ["orders_job"]
    assert fake_dagster.connections_opened == 1


async def test_sync_works_inside_a_running_event_loop(fake_dagster: FakeDagster) -> None:
    # As in a Jupyter cell: a loop is running in this thread, and no nest_asyncio.
    asyncio.get_running_loop()
    jobs = sync.discover_jobs(location="main")
    assert jobs.names() == ["orders_job", "config_job"]


def test_sync_runs_on_one_background_loop_thread(fake_dagster: FakeDagster) -> None:
    threads: set[str] = set()

    async def where() -> str:
        return threading.current_thread().name

    for _ in range(3):
        threads.add(sync.portal.call(where))
    assert threads == {"daglab-helpers-loop"}


def test_the_same_script_works_with_asyncio_run_and_with_sync(fake_dagster: FakeDagster) -> None:
    async def script() -> list[str]:
        return (await dl.discover_jobs()).names()

    assert asyncio.run(script()) == sync.discover_jobs().names()


def test_helpers_raise_daglab_errors_with_a_clear_message(fake_dagster: FakeDagster) -> None:
    import httpx

    fake_dagster.fail_with = httpx.ConnectError
    with pytest.raises(
        UnreachableError, match=r"Cannot reach the Dagster server at http://dagster\.test"
    ):
        sync.discover_jobs()


def test_an_unknown_location_is_bad_input(fake_dagster: FakeDagster) -> None:
    with pytest.raises(DaglabError) as caught:
        sync.discover_jobs(location="nowhere")
    assert caught.value.exit_code == 2
    assert "nowhere" in caught.value.message


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"asset_selection": ["a/b"], "pattern": "a/*"}, {"pattern": "a/*", "select": "group:x"}],
)
def test_run_assets_needs_exactly_one_kind_of_target(
    fake_dagster: FakeDagster, kwargs: dict[str, object]
) -> None:
    with pytest.raises(BadInputError, match="exactly one"):
        sync.run_assets(**kwargs)  # type: ignore[arg-type]
    assert "DaglabLaunchRun" not in fake_dagster.requests


def test_connect_uses_the_cli_resolution(
    fake_dagster: FakeDagster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGLAB_URL", "http://from-env.test:3333/prefix/")
    connection = sync.connect(check=False)
    assert (connection.url, connection.url_source) == (
        "http://from-env.test:3333/prefix",
        "env DAGLAB_URL",
    )
    explicit = sync.connect("http://dagster.test", check=False)
    assert explicit.url_source == "flag --url"


def test_connection_never_shows_the_token(fake_dagster: FakeDagster) -> None:
    connection = sync.connect(auth_token="s3cret-token-value")
    shown = repr(connection) + str(connection) + connection._repr_html_()
    assert "s3cret-token-value" not in shown
    assert "s3cret-token-value" not in json.dumps(dl.state.current().to_json())


def test_a_sync_call_from_inside_an_async_helper_is_refused(fake_dagster: FakeDagster) -> None:
    async def inner() -> None:
        sync.discover_jobs()

    with pytest.raises(RuntimeError, match="use the async API"):
        sync.portal.call(inner)


# -- display -------------------------------------------------------------------------------------


def test_job_lists_render_as_escaped_html_and_text(fake_dagster: FakeDagster) -> None:
    jobs = sync.discover_jobs()
    html = jobs._repr_html_()
    assert "<table" in html and "orders_job" in html
    assert "Orders &lt;b&gt;" in html and "Orders <b>" not in html
    text = repr(jobs)
    assert text.splitlines()[0] == "2 jobs"
    assert "orders_job" in text and "<table" not in text
    assert isinstance(jobs[:1], display.JobList)


def test_lists_filter_without_another_request(fake_dagster: FakeDagster) -> None:
    jobs = sync.discover_jobs()
    before = len(fake_dagster.requests)
    assert jobs.filter(tags={"team": "data"}).names() == ["orders_job"]
    assert jobs.filter("config_*").names() == ["config_job"]
    assert len(fake_dagster.requests) == before


def test_run_results_render_escaped() -> None:
    from daglab.helpers.models import RunError, RunResult

    result = RunResult(
        run_id="abc123",
        status="FAILURE",
        url="http://h/runs/abc123",
        job="<script>alert(1)</script>",
        started_at=10.0,
        ended_at=12.5,
        error=RunError(message="boom <img>", step="explode"),
    )
    html = display.run_result_html(result)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "boom &lt;img&gt;" in html and "explode" in html
    assert 'href="http://h/runs/abc123"' in html
    text = display.run_result_text(result)
    assert "FAILURE" in text and "2.50 s" in text


def test_a_javascript_url_is_never_a_link() -> None:
    html = display.html_table(["name", "url"], [["x", "javascript:alert(1)"]], links={0: 1})
    assert "<a " not in html


def test_terminal_progress_writes_status_lines(capsys: pytest.CaptureFixture[str]) -> None:
    view = live_progress.Progress("job orders_job", mode="terminal")
    view.update(status="STARTED", run_id="abc", detail="step raw started")
    view.update(status="STARTED", run_id="abc", detail="step raw started")  # no repeat
    view.update(status="SUCCESS", run_id="abc", detail="done")
    view.finish()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("job orders_job · STARTED")
    assert "step raw started" in lines[0]
    assert sum("step raw started" in line for line in lines) == 1
    assert "SUCCESS" in lines[-1]


def test_progress_is_off_when_nobody_watches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert live_progress.progress_mode(None) == "off"
    assert live_progress.progress_mode(False) == "off"
    assert live_progress.progress_mode(True) == "terminal"


def test_sync_progress_is_drawn_by_the_calling_thread(fake_dagster: FakeDagster) -> None:
    drawn_in: list[str] = []

    class Recorder(live_progress.Progress):
        def _show(self, *, final: bool) -> None:
            drawn_in.append(threading.current_thread().name)

    async def work() -> None:
        queue = live_progress.caller_queue.get()
        assert queue is not None
        view = live_progress._QueuedProgress(Recorder("x", mode="terminal"), queue)
        view.update(status="STARTED")
        await asyncio.sleep(0.01)
        view.finish()

    sync.portal.call(work)
    assert drawn_in and set(drawn_in) == {threading.current_thread().name}


def test_session_core_exports_match_the_package() -> None:
    for name in session.__all__:
        assert getattr(dl, name) is getattr(session, name)


def test_finished_progress_sums_up_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    from daglab.helpers.models import RunResult

    view = live_progress.Progress("3 assets", mode="terminal")
    view.update(status="STARTED", run_id="abc", detail="step x succeeded")
    view.finish(
        RunResult(
            run_id="abc", status="SUCCESS", url="http://h/runs/abc", materialized=["a", "b", "c"]
        )
    )
    last = capsys.readouterr().err.splitlines()[-1]
    assert "SUCCESS" in last and "3 assets materialized" in last


def test_connection_prints_plainly(fake_dagster: FakeDagster) -> None:
    connection = sync.connect()
    assert (
        repr(connection).splitlines()[0] == "Connected to http://dagster.test (from env DAGLAB_URL)"
    )
    assert "main: LOADED" in repr(connection)


def test_importing_the_client_does_not_import_httpx_cli() -> None:
    """httpx's CLI (rich syntax, pygments) costs ~150 ms at import; daglab never uses it."""
    import subprocess
    import sys

    code = (
        "import sys, daglab.helpers.graphql, httpx; "
        "print('rich.syntax' in sys.modules, 'pygments' in sys.modules, callable(httpx.main))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]
