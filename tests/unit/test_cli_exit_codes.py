"""Exit codes and error output of the real CLI (``python -m daglab`` in a subprocess).

0 done, 2 bad input, 3 server unreachable or no sane answer, 5 auth failed; errors are one
or two plain lines on stderr, a traceback only with ``--verbose``; ``--json`` prints exactly
one JSON document on stdout.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from daglab.harness.mock import MockDagster
from tests.conftest import CliResult, run_cli

TOKEN = "tok_cli_9d8c7b6a5f4e3d2c"


def refused_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def status(*args: str, env: dict[str, str]) -> CliResult:
    return run_cli("status", *args, env=env, timeout=120)


def assert_plain_error(result: CliResult, code: int) -> list[str]:
    """Exit ``code``, one or two lines on stderr, no traceback; returns the lines."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr
    return lines


def write_config(env: dict[str, str], text: str) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "daglab" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- exit 3: cannot reach the server, or no sane answer ------------------------------------------


def test_refused_port_is_exit_3_with_one_line_and_a_hint(cli_env: dict[str, str]) -> None:
    url = refused_url()
    result = status("--url", url, env=cli_env)
    lines = assert_plain_error(result, 3)
    assert f"Cannot reach the Dagster server at {url}" in lines[0]
    assert len(lines) == 2 and "--url" in lines[1]  # the hint
    assert result.stdout == ""


def test_verbose_shows_the_traceback(cli_env: dict[str, str]) -> None:
    result = status("--url", refused_url(), "--verbose", env=cli_env)
    assert result.returncode == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "Error: Cannot reach the Dagster server" in result.stderr


def test_html_body_is_exit_3(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    mock_dagster.html_next(n=None)
    result = status("--url", mock_dagster.url, env=cli_env)
    lines = assert_plain_error(result, 3)
    assert "text/html, not GraphQL JSON" in lines[0]


def test_python_error_is_exit_3(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    mock_dagster.union_error("workspaceOrError", "PythonError", "the code server crashed")
    result = status("--url", mock_dagster.url, env=cli_env)
    lines = assert_plain_error(result, 3)
    assert "the code server crashed" in lines[0]


def test_server_error_status_is_exit_3(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    mock_dagster.fail_next(500, n=None)
    assert_plain_error(status("--url", mock_dagster.url, env=cli_env), 3)


def test_timeout_is_exit_3(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    mock_dagster.set_latency(10)
    result = status("--url", mock_dagster.url, "--http-timeout", "0.3", env=cli_env)
    lines = assert_plain_error(result, 3)
    assert "did not answer within 0.3s" in lines[0]


# -- exit 5: authentication ----------------------------------------------------------------------


def test_401_is_exit_5(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    mock_dagster.require_bearer("the-right-token")
    result = status("--url", mock_dagster.url, env=cli_env)
    lines = assert_plain_error(result, 5)
    assert "HTTP 401" in lines[0] and "none" in lines[0]


def test_wrong_token_is_exit_5_and_never_printed(
    mock_dagster: MockDagster, cli_env: dict[str, str]
) -> None:
    mock_dagster.require_bearer("the-right-token")
    result = status("--url", mock_dagster.url, "--auth-token", TOKEN, "--verbose", env=cli_env)
    assert result.returncode == 5
    assert "flag --auth-token" in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_403_is_exit_5(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    mock_dagster.fail_next(403, n=None)
    lines = assert_plain_error(status("--url", mock_dagster.url, env=cli_env), 5)
    assert "HTTP 403" in lines[0]


def test_right_token_is_sent_and_works(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    mock_dagster.require_bearer(TOKEN)
    env = {**cli_env, "DAGLAB_TOKEN": TOKEN}
    result = status("--url", mock_dagster.url, env=env)
    assert result.returncode == 0, result.stderr
    assert "env DAGLAB_TOKEN" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    assert mock_dagster.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


# -- exit 2: bad input ---------------------------------------------------------------------------


def test_unknown_profile_is_exit_2(cli_env: dict[str, str]) -> None:
    lines = assert_plain_error(status("--profile", "nope", env=cli_env), 2)
    assert "No profile named 'nope'" in lines[0]


def test_unknown_profile_from_env_is_exit_2(cli_env: dict[str, str]) -> None:
    result = status(env={**cli_env, "DAGLAB_PROFILE": "nope"})
    lines = assert_plain_error(result, 2)
    assert "DAGLAB_PROFILE" in lines[0]


def test_malformed_config_is_exit_2_naming_file_and_line(cli_env: dict[str, str]) -> None:
    path = write_config(cli_env, "[profiles.prod]\nurl = https://unquoted\n")
    lines = assert_plain_error(status(env=cli_env), 2)
    assert str(path) in lines[0]
    assert "line 2" in lines[0]


def test_bad_url_scheme_is_exit_2(cli_env: dict[str, str]) -> None:
    assert_plain_error(status("--url", "ftp://dagster.example.com", env=cli_env), 2)


# -- success -------------------------------------------------------------------------------------


def test_status_shows_version_and_locations(
    mock_dagster: MockDagster, cli_env: dict[str, str]
) -> None:
    result = status("--url", mock_dagster.url, env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "1.13.29" in result.stdout
    assert "main: LOADED" in result.stdout and "analytics: LOADED" in result.stdout
    assert mock_dagster.url in result.stdout


def test_status_json_is_exactly_one_document(
    mock_dagster: MockDagster, cli_env: dict[str, str]
) -> None:
    result = status("--url", mock_dagster.url, "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # fails on anything else around it
    assert document["version"] == "1.13.29"
    assert [loc["name"] for loc in document["locations"]] == ["main", "analytics"]


def test_a_json_error_is_one_error_document(cli_env: dict[str, str]) -> None:
    result = status("--url", refused_url(), "--json", env=cli_env)
    assert result.returncode == 3
    error = json.loads(result.stdout)["error"]
    assert error["code"] == 3 and error["kind"] == "UnreachableError"
    assert error["message"] in result.stderr


def test_status_through_a_path_prefix_from_the_environment(cli_env: dict[str, str]) -> None:
    with MockDagster(prefix="/dagster") as mock:
        result = status(env={**cli_env, "DAGLAB_URL": mock.url})
        paths = {r.path for r in mock.requests}
    assert result.returncode == 0, result.stderr
    assert "env DAGLAB_URL" in result.stdout
    assert paths == {"/dagster/graphql"}


def test_status_against_a_profile(mock_dagster: MockDagster, cli_env: dict[str, str]) -> None:
    write_config(
        cli_env, f'default_profile = "mock"\n[profiles.mock]\nurl = "{mock_dagster.url}"\n'
    )
    result = status(env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "profile 'mock'" in result.stdout


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_exit_0(cli_env: dict[str, str], flag: str) -> None:
    result = run_cli(flag, env=cli_env, timeout=120)
    assert result.returncode == 0
    assert result.stdout
