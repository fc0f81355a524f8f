"""``daglab mcp`` over stdio (the SDK's client, the server a subprocess) against the mock
over HTTP: what real Dagster cannot produce. An auth failure is an ``[auth]`` tool error,
and a token daglab was given never comes out again: not in any tool's answer or error, not
in the server's log (``--verbose`` logs every request), on success, on a 401, and when the
server echoes the token back in its error text."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp.server")

from daglab.harness.mock import MockDagster
from tests.conftest import REPO, isolated_env
from tests.mcp_client import daglab_mcp, text_of, tool_names

SENTINEL = "SeNtInEl-mcp-4b1d-Do-Not-Print"
LEAKS = (SENTINEL, SENTINEL[4:-4])
ECHO_BODY = json.dumps(
    {
        "errors": [
            {"message": f"invalid header Authorization: Bearer {SENTINEL}"},
            {"message": f"token={SENTINEL}"},
        ]
    }
)


def sample_arguments(run_id: str, backfill_id: str) -> dict[str, dict[str, Any]]:
    """One call of every tool; a tool missing here fails the sweep."""
    return {
        "list_locations": {},
        "discover_jobs": {"tags": {"team": "data"}},
        "discover_assets": {"select": "*", "limit": 5},
        "validate_run_config": {"job": "config_job", "run_config": {"ops": {}}},
        "get_run": {"run_id": run_id},
        "list_deployments": {},
        "launch_job": {"job": "orders_job", "wait": True, "timeout": 20},
        "launch_assets": {"asset_keys": ["orders/raw_orders"]},
        "cancel_run": {"run_id": run_id},
        "list_runs": {"statuses": ["SUCCESS", "FAILURE"], "limit": 5},
        "get_run_details": {"run": run_id},
        "get_run_logs": {"run": run_id, "limit": 50},
        "get_compute_logs": {"run": run_id},
        "get_failure_summary": {"run": run_id},
        "reexecute_run": {"run": run_id, "wait": True, "timeout": 20},
        "list_backfills": {},
        "get_backfill": {"backfill_id": backfill_id},
        "launch_backfill": {"asset_keys": ["events/daily_events"], "partitions": ["2024-01-01"]},
        "cancel_backfill": {"backfill_id": backfill_id},
        "resume_backfill": {"backfill_id": backfill_id},
        "list_schedules": {"status": "running"},
        "list_sensors": {"pattern": "fail*"},
        "start_schedule": {"name": "not-a-schedule"},
        "stop_schedule": {"name": "not-a-schedule"},
        "start_sensor": {"name": "not-a-sensor"},
        "stop_sensor": {"name": "not-a-sensor"},
        "reload_code_location": {"location": "main"},
        "get_asset_status": {"asset_keys": ["orders/raw_orders"], "partitions": True},
        "get_asset_history": {"asset_key": "orders/raw_orders"},
        "list_checks": {},
    }


# Tools whose documents the mock does not serve (tests/unit/test_mock.py NOT_IN_MOCK_YET), or
# that name what the mock has none of: they answer with an error here, still swept for leaks;
# tests/e2e/test_automation.py runs them on real Dagster.
MOCK_CANNOT_ANSWER = frozenset(
    {
        "list_schedules",
        "list_sensors",
        "start_schedule",
        "stop_schedule",
        "start_sensor",
        "stop_sensor",
        "reload_code_location",
        "get_asset_status",
        "get_asset_history",
        "list_checks",
    }
)


def profile_env(tmp_path: Path, mock: MockDagster) -> dict[str, str]:
    env = isolated_env(tmp_path)
    config = Path(env["XDG_CONFIG_HOME"]) / "daglab" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[profiles.p]\nurl = "{mock.url}"\n[profiles.p.auth]\ntoken = "{SENTINEL}"\n'
    )
    config.chmod(0o600)
    return env


async def test_the_sentinel_never_leaves_any_tool_or_the_log(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    mock_dagster.require_bearer(SENTINEL)
    env = profile_env(tmp_path, mock_dagster)
    log = tmp_path / "server.log"
    seen: list[str] = []
    args = ("--url", mock_dagster.url, "--auth-token", SENTINEL, "--allow-writes", "--verbose")
    async with daglab_mcp(*args, env=env, errlog=log) as client:
        names = await tool_names(client)
        slow = await client.call_tool("launch_job", {"job": "slow_job"})
        assert not slow.is_error, text_of(slow)
        run_id = slow.structured_content["run_id"]  # type: ignore[index]
        backfill = await client.call_tool(
            "launch_backfill",
            {"asset_keys": ["events/daily_events"], "partitions": ["2024-01-01", "2024-01-02"]},
        )
        assert not backfill.is_error, text_of(backfill)
        backfill_id = backfill.structured_content["backfill_id"]  # type: ignore[index]
        calls = sample_arguments(run_id, backfill_id)
        assert set(calls) == names, "add the new tool to sample_arguments"
        for failure in ("ok", "echo"):
            for profile in (None, "p"):
                mock_dagster.clear_faults()
                if failure == "echo":
                    mock_dagster.fail_next(400, n=None, body=ECHO_BODY)
                for name, arguments in calls.items():
                    if name == "cancel_run" and failure == "ok" and profile == "p":
                        arguments = {"run_id": run_id, "force": True}
                    if profile is not None and name != "list_deployments":
                        arguments = {**arguments, "profile": profile}
                    result = await client.call_tool(name, arguments)
                    # canceling and resuming depend on what the calls before left
                    stateful = ("cancel_run", "cancel_backfill", "resume_backfill")
                    if failure == "ok" and name not in (*stateful, *MOCK_CANNOT_ANSWER):
                        assert not result.is_error, (name, text_of(result))
                    if failure == "echo" and name != "list_deployments":
                        assert result.is_error, (name, text_of(result))
                    seen.append(f"{failure} {profile} {name}: {text_of(result)}")
    seen.append(log.read_text())
    assert len(mock_dagster.runs) >= 5
    assert "***" in "\n".join(seen)  # the echoed token was there, masked
    leaked = [text for text in seen if any(leak in text for leak in LEAKS)]
    assert not leaked, "the sentinel leaked:\n" + "\n".join(t[:400] for t in leaked)


async def test_an_auth_failure_is_an_auth_tool_error_without_the_token(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    mock_dagster.require_bearer(f"another-{uuid.uuid4().hex}")
    log = tmp_path / "server.log"
    env = isolated_env(tmp_path)
    async with daglab_mcp(
        "--url", mock_dagster.url, "--auth-token", SENTINEL, env=env, errlog=log
    ) as client:
        result = await client.call_tool("discover_jobs", {})
    text = text_of(result)
    assert result.is_error
    assert "[auth]" in text, text
    assert "401" in text or "uthenticat" in text, text
    assert not any(leak in text + log.read_text() for leak in LEAKS)


async def test_stdio_server_lists_only_read_tools_without_allow_writes(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    env = isolated_env(tmp_path)
    async with daglab_mcp("--url", mock_dagster.url, env=env, errlog=tmp_path / "log") as client:
        names = await tool_names(client)
    assert "launch_job" not in names and "cancel_run" not in names
    assert {"discover_assets", "get_run", "validate_run_config"} <= names


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_http_serves_streamable_http_on_loopback(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    from mcp import Client

    port = free_port()
    env = {**isolated_env(tmp_path), "PYTHONPATH": str(REPO)}
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daglab",
                "mcp",
                "--http",
                "--port",
                str(port),
                "--url",
                mock_dagster.url,
            ],
            env=env,
            stdout=log,
            stderr=log,
            cwd=REPO,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "daglab mcp --http never listened"
                time.sleep(0.1)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            names = await tool_names(client)
            locations = await client.call_tool("list_locations", {})
    finally:
        proc.terminate()
        proc.wait(10)
    assert "discover_assets" in names and "launch_job" not in names
    assert not locations.is_error
    assert locations.structured_content["total"] == 2  # type: ignore[index]
