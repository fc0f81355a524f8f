"""A built wheel is self-sufficient: installed in a fresh venv, away from any checkout, the
README's quickstart works from it: ``daglab dev up`` serves the fixture project the wheel
carries, ``discover`` lists what the server itself reports, ``run --asset-pattern "orders/*"``
materializes what the server records for that run, and ``dev down`` stops it.

Runs once, on the newest minor (CI's e2e-ci runs every suite there); it reuses the cached
Dagster venv of that minor.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from daglab.harness.envs import NEWEST
from tests.conftest import REPO, isolated_env

pytestmark = pytest.mark.e2e

JOBS = "{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } } }"
RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status assetSelection { path } } } }"""


def _run(*args: str, env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    proc = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_dev_up_discover_down_from_a_built_wheel(tmp_path: Path, dagster_version: str) -> None:
    if dagster_version != NEWEST:
        pytest.skip("the wheel is checked once, on the newest minor")
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    env = isolated_env(tmp_path)
    env.pop("PYTHONPATH", None)  # nothing of the checkout on the path
    away = tmp_path / "elsewhere"  # no workspace.yaml, no checkout around
    away.mkdir()
    _run(uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(REPO), env=env, cwd=away)
    (wheel,) = (tmp_path / "dist").glob("daglab-*.whl")
    venv = tmp_path / "venv"
    _run(uv, "venv", "-q", str(venv), env=env, cwd=away)
    python = str(venv / "bin" / "python")
    _run(uv, "pip", "install", "-q", "--python", python, f"{wheel}[harness]", env=env, cwd=away)
    daglab = str(venv / "bin" / "daglab")
    where = _run(python, "-c", "import daglab; print(daglab.__file__)", env=env, cwd=away)
    assert where.startswith(str(venv)), where  # the wheel's daglab, not the checkout's

    up = json.loads(
        _run(daglab, "dev", "up", "--dagster-version", NEWEST, "--json", env=env, cwd=away)
    )
    try:
        assert up["running"] and up["workspace"].startswith(str(venv))
        listed = json.loads(
            _run(daglab, "discover", "--filter", "jobs", "--json", env=env, cwd=away)
        )
        truth = httpx.post(up["url"] + "/graphql", json={"query": JOBS}, timeout=60).json()
        server_jobs = {
            job["name"]
            for node in truth["data"]["repositoriesOrError"]["nodes"]
            for job in node["jobs"]
        }
        user_jobs = {name for name in server_jobs if not name.startswith("__ASSET_JOB")}
        assert user_jobs  # the fixture project has jobs
        assert {job["name"] for job in listed["jobs"]} == user_jobs

        ran = json.loads(
            _run(daglab, "run", "--asset-pattern", "orders/*", "--json", env=env, cwd=away)
        )
        record = httpx.post(
            up["url"] + "/graphql",
            json={"query": RUN, "variables": {"id": ran["run_id"]}},
            timeout=60,
        ).json()["data"]["runOrError"]
        assert record["status"] == ran["status"] == "SUCCESS"
        selected = sorted("/".join(key["path"]) for key in record["assetSelection"])
        assert selected == sorted(ran["asset_selection"])
        assert selected and all(key.startswith("orders/") for key in selected)
    finally:
        down = json.loads(_run(daglab, "dev", "down", "--json", env=env, cwd=away))
    assert down["stopped"] is True
