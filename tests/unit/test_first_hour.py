"""A new user's first hour (issue 17): what each of the rough edges now does, on the mock.

Behaviour real Dagster shows (cancel of a finished run, ``--no-wait`` on stdout) is tested
on real Dagster too, in tests/e2e/test_run.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from daglab.harness.mock import MockDagster
from tests.conftest import isolated_env, run_cli
from tests.unit.helpers_fakes import fresh_session  # noqa: F401 (a fixture)


def daglab(mock: MockDagster, tmp_path: Path, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return run_cli(*args, "--url", mock.url, env=isolated_env(tmp_path, **env), timeout=120)


# -- did you mean: close names only -------------------------------------------------------------


def test_an_unknown_job_far_from_every_name_points_to_the_job_list(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    result = daglab(mock_dagster, tmp_path, "run", "--job", "nosuchjob")
    assert result.returncode == 2
    assert "Did you mean" not in result.stderr
    assert "List the jobs with `daglab discover --filter jobs`." in result.stderr
    assert "shared_job" not in result.stderr and "orders_job" not in result.stderr


def test_a_misspelt_job_is_offered_only_its_close_names(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    result = daglab(mock_dagster, tmp_path, "run", "--job", "confg_job")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "Did you mean: config_job?"
    prefix = daglab(mock_dagster, tmp_path, "run", "--job", "slow")
    assert prefix.stderr.strip().splitlines()[-1] == "Did you mean: slow_job?"


# -- discover --pattern shows what matched ------------------------------------------------------


def test_a_pattern_for_asset_keys_prints_only_the_assets(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    result = daglab(mock_dagster, tmp_path, "discover", "--pattern", "orders/*")
    assert result.returncode == 0, result.stderr
    assert "none match" not in result.stdout
    assert result.stdout.lstrip().startswith("Assets (3)")
    assert result.stdout.rstrip().splitlines()[-1] == "3 assets"
    everything = daglab(
        mock_dagster, tmp_path, "discover", "--pattern", "orders/*", "--filter", "all"
    )
    assert "Jobs: none match." in everything.stdout  # asked for every type: told of each
    nothing = daglab(mock_dagster, tmp_path, "discover", "--pattern", "zzz*")
    assert nothing.stdout.strip() == "Nothing matches."
    doc = daglab(mock_dagster, tmp_path, "discover", "--pattern", "orders/*", "--json").json()
    assert set(doc) == {"locations", "repositories", "jobs", "assets"}  # the contract holds


@pytest.mark.parametrize(
    "args",
    [["--pattern", "orders/*"], ["--filter", "jobs"], ["--filter", "assets"]],
    ids=["orders-assets", "jobs", "all-assets"],
)
def test_tags_are_never_cut_inside_a_tag_at_60_columns(
    args: list[str], mock_dagster: MockDagster, tmp_path: Path
) -> None:
    doc = daglab(mock_dagster, tmp_path, "discover", *args, "--json").json()
    tags = {
        f"{k}={v}" for rows in doc.values() for row in rows for k, v in row.get("tags", {}).items()
    }
    result = daglab(mock_dagster, tmp_path, "discover", *args, COLUMNS="60")
    assert result.returncode == 0, result.stderr
    shown = {w for line in result.stdout.splitlines() for w in line.split() if "=" in w}
    assert shown <= tags, result.stdout  # every k=v shown is a whole tag
    if args[0] == "--pattern":  # room enough: all of them, whole
        assert shown == tags, result.stdout


# -- scripting ------------------------------------------------------------------------------------


def test_no_wait_prints_the_run_id_on_stdout(mock_dagster: MockDagster, tmp_path: Path) -> None:
    result = daglab(mock_dagster, tmp_path, "run", "--job", "config_job", "--no-wait",
                    "--config-yaml", "ops: {process_rows: {config: {rows: 3}}}")  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", run_id), result.stdout
    assert [r.run_id for r in mock_dagster.runs] == [run_id]
    assert f"daglab watch {run_id}" in result.stderr


def test_timeout_0_waits_without_limit(mock_dagster: MockDagster, tmp_path: Path) -> None:
    config = "ops: {sleep_for: {config: {seconds: 1.5}}}"
    result = daglab(
        mock_dagster, tmp_path, "run", "--job", "slow_job", "--config-yaml", config,
        "--timeout", "0", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.json()["status"] == "SUCCESS" and result.json()["timed_out"] is False
    helps = run_cli("run", "--help", env=isolated_env(tmp_path)).stdout
    assert "0 waits without limit" in " ".join(helps.split())


def test_cancel_of_a_finished_run_exits_2_as_its_help_says(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    launched = daglab(mock_dagster, tmp_path, "run", "--job", "slow_job", "--no-wait")
    run_id = launched.stdout.strip()
    first = daglab(mock_dagster, tmp_path, "cancel", run_id)
    assert first.returncode == 0, first.stderr
    again = daglab(mock_dagster, tmp_path, "cancel", run_id)
    assert again.returncode == 2, again.stderr
    assert "it already ended CANCELED" in again.stderr
    helps = run_cli("cancel", "--help", env=isolated_env(tmp_path)).stdout
    assert "2 if it already finished" in " ".join(helps.split())


@pytest.mark.parametrize("name", ["json", "csv", "out.txt"])
def test_output_needs_a_json_or_csv_file_name(
    name: str, mock_dagster: MockDagster, tmp_path: Path
) -> None:
    cwd = tmp_path / "here"
    cwd.mkdir()
    result = run_cli(
        "discover", "--output", name, "--url", mock_dagster.url, env=isolated_env(tmp_path),
        cwd=cwd,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--output takes a file name ending in .json or .csv" in result.stderr
    assert "--json" in result.stderr
    assert list(cwd.iterdir()) == []


# -- notebooks ------------------------------------------------------------------------------------


def test_notebook_create_refuses_a_file_that_is_not_ipynb(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    result = run_cli("notebook", "create", str(target), "-t", "explore", env=isolated_env(tmp_path))
    assert result.returncode == 2
    assert "A notebook is a .ipynb file" in result.stderr and "x.ipynb" in result.stderr
    assert not target.exists()


def test_open_it_with_jupyter_lab_only_when_it_is_installed(tmp_path: Path) -> None:
    import sys

    if (Path(sys.executable).parent / "jupyter-lab").exists():
        pytest.skip("JupyterLab is installed beside this Python")
    bare = tmp_path / "bin"
    bare.mkdir()
    env = isolated_env(tmp_path, PATH=str(bare))
    without = run_cli("notebook", "create", str(tmp_path / "a"), "-t", "explore", env=env)
    assert without.returncode == 0, without.stderr
    assert "pip install jupyterlab" in without.stderr
    fake = bare / "jupyter-lab"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    with_lab = run_cli("notebook", "create", str(tmp_path / "b"), "-t", "explore", env=env)
    assert f"Open it with: jupyter lab {tmp_path / 'b.ipynb'}" in with_lab.stderr
    assert "pip install" not in with_lab.stderr


def test_headless_notebooks_in_one_folder_keep_one_state_file_each(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_session: None,  # noqa: F811
) -> None:
    from daglab.helpers import memory, state
    from daglab.notebooks import write_notebook

    folder = tmp_path / "nb"
    for name in ("orders", "customers"):
        write_notebook(folder / name, "explore")
    sources = {}
    for name in ("orders", "customers"):
        cells = json.loads((folder / f"{name}.ipynb").read_text())["cells"]
        sources[name] = next(
            "".join(c["source"]) for c in cells if "dl.connect(" in "".join(c["source"])
        )
    # A kernel started by nbclient/papermill: IPython, but no front end to name the notebook.
    monkeypatch.setattr(memory, "ipython_shell", lambda: object())
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(folder)
    paths = {}
    for name, source in sources.items():
        setup = "\n".join(line for line in source.splitlines() if "name_notebook" in line)
        exec(setup, {"state": state})  # the generated cell's own call
        paths[name] = state.state_path()
    state.name_notebook(None)
    assert paths == {
        "orders": folder / ".orders.daglab-state.json",
        "customers": folder / ".customers.daglab-state.json",
    }
    monkeypatch.setenv("DAGLAB_STATE_FILE", str(tmp_path / "chosen.json"))
    state.name_notebook("orders.ipynb")
    assert state.state_path() == tmp_path / "chosen.json"  # a chosen file still wins
    state.name_notebook(None)


async def test_notebook_progress_shows_statuses_in_the_order_they_happen(
    mock_dagster: MockDagster,
    capsys: pytest.CaptureFixture[str],
    fresh_session: None,  # noqa: F811
) -> None:
    """The live line starts from the server's first status (QUEUED here), never from a
    guessed STARTING that the server then contradicts."""
    import daglab.helpers as dl

    mock_dagster.config.run_queue = True
    await dl.connect(mock_dagster.url)
    result = await dl.run_job(
        "config_job", run_config={"ops": {"process_rows": {"config": {"rows": 2}}}}, progress=True
    )
    await dl.close()
    assert result.status == "SUCCESS"
    order = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "SUCCESS"]
    shown = [
        next(p for p in line.split(" · ") if p in order)
        for line in capsys.readouterr().err.splitlines()
        if any(f" · {s} · " in line for s in order)
    ]
    assert shown and shown[0] == "QUEUED", shown
    assert shown == sorted(shown, key=order.index), shown
    assert shown[-1] == "SUCCESS"


def test_materialized_progress_never_says_2_of_1() -> None:
    from daglab.helpers.runs import ProgressEvent, describe

    def line(done: int, total: int | None) -> str | None:
        return describe(
            ProgressEvent(kind="materialized", elapsed=0.0, asset="a/b", done=done, total=total)
        )

    assert line(1, 2) == "materialized a/b (1 of 2)"
    assert line(2, 1) == "materialized a/b (2)"  # more than were planned: no total
    assert line(1, None) == "materialized a/b (1)"


@pytest.mark.parametrize("template", ["explore", "run-job", "assets", "performance"])
def test_every_template_names_its_own_state_file(template: str, tmp_path: Path) -> None:
    from daglab.notebooks import NotebookOptions, write_notebook

    needs = {"run-job": {"job": "a_job"}, "performance": {"job": "a_job"}}
    options = NotebookOptions(
        **needs.get(template, {"asset_pattern": "x/*"} if template == "assets" else {})
    )
    path = write_notebook(tmp_path / f"my-{template}", template, options)
    code = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
    assert f"state.name_notebook('my-{template}.ipynb')" in code
