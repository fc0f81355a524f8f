"""The documentation's examples, executed: the README quickstart and every Python block in
README.md and docs/. A block preceded by ``<!-- not run: reason -->`` is skipped with that
reason, so nothing is left out silently."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from daglab.harness.envs import NEWEST
from daglab.harness.server import DagsterServer
from tests.conftest import REPO, isolated_env

pytestmark = pytest.mark.e2e

FENCE = re.compile(r"(?:<!--\s*(not run[^>]*)-->\s*\n)?```(\w+)\n(.*?)\n```", re.S)

RUNNER = """
import ast, asyncio, sys
source = sys.stdin.read()
code = compile(source, sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__"})
if asyncio.iscoroutine(result):
    asyncio.run(result)
"""


def blocks(path: Path, language: str) -> list[tuple[str, str, str | None]]:
    """(id, code, skip reason) of each ``language`` block in ``path``."""
    found = []
    for i, match in enumerate(FENCE.finditer(path.read_text())):
        skip, lang, code = match.groups()
        if lang == language:
            found.append((f"{path.relative_to(REPO)}#{i}", code, skip))
    return found


PYTHON_BLOCKS = [
    pytest.param(code, skip, id=ident)
    for doc in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    for ident, code, skip in blocks(doc, "python")
]


def test_every_doc_has_its_python_examples_collected() -> None:
    assert len(PYTHON_BLOCKS) >= 10


@pytest.mark.parametrize(("code", "skip"), PYTHON_BLOCKS)
def test_python_example_runs(
    code: str, skip: str | None, dagster_server: DagsterServer, tmp_path: Path
) -> None:
    if skip:
        pytest.skip(skip)
    env = isolated_env(tmp_path, DAGLAB_URL=dagster_server.url)
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, "<doc example>"],
        input=code,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def quickstart() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    [(_, code, _)] = blocks_in(section, "bash")
    return code


def blocks_in(text: str, language: str) -> list[tuple[str, str, str | None]]:
    return [
        (str(i), c, s) for i, (s, lang, c) in enumerate(FENCE.findall(text)) if lang == language
    ]


def test_readme_quickstart_runs_as_written(dagster_version: str, tmp_path: Path) -> None:
    """Every line of the quickstart, for real: the embedded Dagster comes up, discover lists
    it, the orders assets materialize, and it goes down. (The venv and ``pip install`` are
    what put daglab in this test's environment already.)"""
    if dagster_version != NEWEST:
        pytest.skip(
            f"the quickstart's `daglab dev up` serves Dagster {NEWEST}; it runs in that session"
        )
    lines = [line for line in quickstart().splitlines() if line.strip()]
    assert lines[0].startswith("python3 -m venv ")  # PEP 668: a system Python refuses pip
    assert lines[1].startswith("python3 -m pip install -e ")
    lines = lines[1:]
    assert lines[1:] == [
        "daglab dev up",
        "daglab discover",
        'daglab run --asset-pattern "orders/*"',
        "daglab dev down",
    ]
    env = isolated_env(tmp_path)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    outputs = []
    try:
        for line in lines[1:-1]:
            proc = subprocess.run(
                ["bash", "-c", line], env=env, capture_output=True, text=True, timeout=900, cwd=REPO
            )
            outputs.append(proc)
            assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
    finally:
        down = subprocess.run(
            ["bash", "-c", lines[-1]],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=REPO,
        )
    assert down.returncode == 0, down.stderr
    _, discovered, ran = outputs
    assert "orders/raw_orders" in discovered.stdout
    assert "SUCCESS" in ran.stderr + ran.stdout
