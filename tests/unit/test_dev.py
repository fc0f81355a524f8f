"""``daglab dev`` refusals and the harness's errors: DaglabErrors that cli.py turns into exit
codes (no server is started here; tests/e2e/test_harness.py starts real ones)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from daglab.harness import errors as harness_errors
from daglab.harness.envs import SUPPORTED_VERSIONS, normalize_minor
from daglab.helpers.errors import EXIT_BAD_INPUT, EXIT_SERVER, BadInputError, DaglabError
from tests.conftest import run_cli


def test_unsupported_dagster_version_is_exit_2_with_one_line(cli_env: dict[str, str]) -> None:
    result = run_cli("dev", "up", "--dagster-version", "0.1", env=cli_env, timeout=120)

    assert result.returncode == EXIT_BAD_INPUT
    assert result.stderr == (
        "Error: Dagster 0.1 is not supported by the harness; "
        f"choose one of {', '.join(SUPPORTED_VERSIONS)}.\n"
    )


def test_project_without_workspace_is_exit_2(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli("dev", "up", str(tmp_path), env=cli_env, timeout=120)

    assert result.returncode == EXIT_BAD_INPUT
    assert result.stderr.startswith("Error: No workspace.yaml found in ")
    assert len(result.stderr.splitlines()) == 1


def test_port_out_of_range_is_exit_2(cli_env: dict[str, str]) -> None:
    result = run_cli("dev", "up", "--port", "70000", env=cli_env, timeout=120)

    assert result.returncode == EXIT_BAD_INPUT
    assert result.stderr == "Error: --port must be between 1 and 65535, not 70000.\n"


def test_another_running_dev_server_is_exit_2_with_a_hint(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    state = Path(cli_env["XDG_STATE_HOME"]) / "daglab" / "dev.json"
    state.parent.mkdir(parents=True)
    other = {"url": "http://127.0.0.1:1", "pid": os.getpid(), "version": "1.9.0"}
    state.write_text(json.dumps({**other, "workspace": str(tmp_path / "w.yaml"), "minor": "1.9"}))

    result = run_cli("dev", "up", env=cli_env, timeout=120)

    assert result.returncode == EXIT_BAD_INPUT
    assert result.stderr.splitlines() == [
        f"Error: a dev server already runs at http://127.0.0.1:1 (Dagster 1.9.0, {tmp_path}/w.yaml).",
        "Stop it first with: daglab dev down",
    ]


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (harness_errors.HarnessError, EXIT_SERVER),
        (harness_errors.HarnessInputError, EXIT_BAD_INPUT),
        (harness_errors.UnsupportedVersionError, EXIT_BAD_INPUT),
        (harness_errors.WorkspaceNotFoundError, EXIT_BAD_INPUT),
        (harness_errors.UvNotFoundError, EXIT_SERVER),
        (harness_errors.EnvInstallError, EXIT_SERVER),
        (harness_errors.ServerStartError, EXIT_SERVER),
        (harness_errors.DevServerError, EXIT_SERVER),
    ],
)
def test_every_harness_error_is_a_daglab_error_with_its_exit_code(
    cls: type[harness_errors.HarnessError], code: int
) -> None:
    error = cls("what happened")

    assert isinstance(error, DaglabError)
    assert isinstance(error, harness_errors.HarnessError)
    assert error.exit_code == code
    assert isinstance(error, BadInputError) == (code == EXIT_BAD_INPUT)
    assert str(error) == "what happened"


def test_normalize_minor_raises_a_bad_input_error() -> None:
    with pytest.raises(harness_errors.UnsupportedVersionError) as caught:
        normalize_minor("2.0")

    assert isinstance(caught.value, BadInputError)
    assert normalize_minor("1.9.13") == "1.9"
