"""Shared test helpers: run the real CLI as a user would, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE_PROJECT = REPO / "fixtures" / "dagster_project"

# Variables that would leak the developer's own configuration into a test.
_ISOLATE = (
    "DAGLAB_URL",
    "DAGLAB_TOKEN",
    "DAGLAB_PROFILE",
    "DAGLAB_USERNAME",
    "DAGLAB_PASSWORD",
    "DAGSTER_CLOUD_API_TOKEN",
    "DAGLAB_AUTH_HEADER",
    "DAGLAB_KEYRING",
    "DAGLAB_STATE_FILE",
)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with no daglab config, no dev server, no credentials."""
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


def run_cli(
    *args: str,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 600,
    cwd: Path | None = None,
) -> CliResult:
    """Run ``daglab ARGS`` as a user would; return exit code, stdout and stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "daglab", *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """An isolated environment for ``run_cli``."""
    return isolated_env(tmp_path)
