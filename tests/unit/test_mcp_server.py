"""The MCP server in-process (the SDK's ``Client`` on ``build_server``) against the mock:
which tools exist, what they answer, their bounds, profiles, and errors as tool errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp.server")

from mcp import Client

from daglab.harness.mock import MockDagster
from daglab.helpers.config import resolve_connection
from daglab.mcp.bounds import Limits
from daglab.mcp.deployments import Deployments
from daglab.mcp.server import build_server
from daglab.mcp.tools import WRITE_TOOLS
from tests.conftest import _ISOLATE

READ_TOOLS = {
    "list_locations",
    "discover_jobs",
    "discover_assets",
    "validate_run_config",
    "get_run",
    "list_deployments",
    "list_runs",
    "get_run_details",
    "get_run_logs",
    "get_compute_logs",
    "get_failure_summary",
    "list_backfills",
    "list_schedules",
    "list_sensors",
    "get_backfill",
    "get_asset_status",
    "get_asset_history",
    "list_checks",
}


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in _ISOLATE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "config" / "daglab"


def server_for(mock: MockDagster, *, allow_writes: bool = False, **limits: Any) -> Any:
    deployments = Deployments(lambda: resolve_connection(url=mock.url), transport=mock.transport())
    return build_server(deployments, allow_writes=allow_writes, limits=Limits(**limits))


async def call(client: Client, name: str, arguments: dict[str, Any] | None = None) -> Any:
    result = await client.call_tool(name, arguments or {})
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    return result.structured_content


async def call_error(client: Client, name: str, arguments: dict[str, Any] | None = None) -> str:
    result = await client.call_tool(name, arguments or {})
    assert result.is_error, result.structured_content
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


async def test_read_only_by_default_the_write_tools_are_not_listed(
    mock_app: MockDagster, config_home: Path
) -> None:
    async with Client(server_for(mock_app)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == READ_TOOLS
        text = await call_error(client, "launch_job", {"job": "orders_job"})
    assert "launch_job" in text
    assert not mock_app.runs


async def test_allow_writes_adds_exactly_the_write_tools(
    mock_app: MockDagster, config_home: Path
) -> None:
    async with Client(server_for(mock_app, allow_writes=True)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == READ_TOOLS | WRITE_TOOLS
    for name, tool in tools.items():
        assert tool.output_schema, name
        assert len(tool.description or "") > 80, name
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (name not in WRITE_TOOLS)


async def test_discover_assets_is_the_cli_document_filtered_and_capped(
    mock_app: MockDagster, config_home: Path
) -> None:
    async with Client(server_for(mock_app)) as client:
        everything = await call(client, "discover_assets", {"limit": 1000})
        some = await call(client, "discover_assets", {"select": "group:orders", "limit": 1})
    keys = [a["key"] for a in everything["assets"]]
    assert keys == sorted(keys) and not everything["truncated"]
    orders = [a for a in everything["assets"] if a["group"] == "orders"]
    assert some["total"] == len(orders) > 1
    assert some["truncated"] is True and some["limit"] == 1
    assert some["assets"] == orders[:1]


async def test_the_server_caps_a_limit_it_is_asked_to_exceed(
    mock_app: MockDagster, config_home: Path
) -> None:
    async with Client(server_for(mock_app, default_limit=2, max_limit=3)) as client:
        default = await call(client, "discover_jobs")
        asked = await call(client, "discover_jobs", {"limit": 500})
    assert (default["limit"], len(default["jobs"]), default["truncated"]) == (2, 2, True)
    assert (asked["limit"], len(asked["jobs"])) == (3, 3)


async def test_an_invalid_config_is_an_answer_with_paths(
    mock_app: MockDagster, config_home: Path
) -> None:
    async with Client(server_for(mock_app)) as client:
        verdict = await call(
            client,
            "validate_run_config",
            {"job": "config_job", "run_config": {"ops": {"process_rows": {"config": {}}}}},
        )
    assert verdict["valid"] is False
    assert any(e["path"][:2] == ["ops", "process_rows"] for e in verdict["errors"])


async def test_a_tool_past_its_deadline_is_a_timeout_error(
    mock_app: MockDagster, config_home: Path
) -> None:
    mock_app.set_latency(3.0)
    async with Client(server_for(mock_app, tool_timeout=0.3)) as client:
        text = await call_error(client, "list_locations")
    assert text.endswith(
        "[timeout] list_locations did not finish within the tool's deadline of 0.3s.\n"
        "The server may be slow or unreachable; try again, narrow the request, or start "
        "`daglab mcp` with a larger --tool-timeout."
    )


async def test_launch_waits_at_most_max_wait_and_says_the_run_goes_on(
    mock_app: MockDagster, config_home: Path
) -> None:
    async with Client(server_for(mock_app, allow_writes=True, max_wait=0.5)) as client:
        run = await call(
            client,
            "launch_job",
            {"job": "slow_job", "wait": True, "timeout": 3600, "run_config": {}},
        )
    assert run["timed_out"] is True and run["stop_reason"] == "timed_out"
    assert run["waited_s"] < 5
    assert run["status"] not in ("SUCCESS", "FAILURE", "CANCELED")


async def test_a_bad_target_is_a_tool_error_naming_arguments(
    mock_app: MockDagster, config_home: Path
) -> None:
    async with Client(server_for(mock_app, allow_writes=True)) as client:
        text = await call_error(client, "launch_assets", {})
    assert "[bad input] Give exactly one target: `asset_keys`, `asset_pattern` or `select`" in text


async def test_a_profile_argument_picks_another_deployment(
    config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev, prod = MockDagster(), MockDagster()
    with dev, prod:
        prod.require_bearer("prod-token-123456")
        config_home.mkdir(parents=True)
        (config_home / "config.toml").write_text(
            f'default_profile = "dev"\n[profiles.dev]\nurl = "{dev.url}"\n'
            f'[profiles.prod]\nurl = "{prod.url}"\n[profiles.prod.auth]\n'
            'token = "prod-token-123456"\n'
        )
        (config_home / "config.toml").chmod(0o600)
        server = build_server(Deployments(), allow_writes=True)
        async with Client(server) as client:
            deployments = await call(client, "list_deployments")
            await call(client, "launch_job", {"job": "orders_job", "profile": "prod"})
            await call(client, "list_locations")
            missing = await call_error(client, "list_locations", {"profile": "staging"})
    assert [p["name"] for p in deployments["profiles"]] == ["dev", "prod"]
    assert deployments["default_profile"] == "dev"
    assert "prod-token-123456" not in json.dumps(deployments)
    assert len(prod.runs) == 1 and not dev.runs
    assert dev.graphql_requests
    assert "No profile named 'staging'" in missing


async def test_allow_profile_limits_the_profiles_a_call_may_name(
    mock_app: MockDagster, config_home: Path
) -> None:
    deployments = Deployments(
        lambda: resolve_connection(url=mock_app.url),
        allowed=frozenset({"dev"}),
        transport=mock_app.transport(),
    )
    async with Client(build_server(deployments)) as client:
        text = await call_error(client, "list_locations", {"profile": "prod"})
    assert "This server may not use profile 'prod'" in text
    assert "Profiles it may use: dev." in text
