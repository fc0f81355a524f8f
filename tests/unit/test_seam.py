"""The test seam: a transport handed to ``connect``, ``DagsterClient.from_settings`` and,
through the client, to the token endpoint, which is asked with the client's timeout."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import helpers_fakes
import httpx
import pytest

import daglab.helpers as dl
from daglab.harness.mock import MockDagster
from daglab.helpers.auth import AuthConfig, TokenManager, reset_token_managers
from daglab.helpers.config import ConnectionSettings, resolve_connection
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.settings import DEFAULT_HTTP_TIMEOUT

fresh_session = helpers_fakes.fresh_session


class Recording(httpx.AsyncBaseTransport):
    """Hands each request on to ``inner`` and remembers its path and timeout."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.timeouts: dict[str, dict[str, Any]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.timeouts[request.url.path] = dict(request.extensions["timeout"])
        return await self.inner.handle_async_request(request)


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Any:
    reset_token_managers()
    yield
    reset_token_managers()


def oauth_mock() -> MockDagster:
    mock = MockDagster()
    mock.add_oauth_client("seam", "seam-secret-1")
    return mock


async def test_http_timeout_reaches_the_token_endpoint() -> None:
    mock = oauth_mock()
    auth = AuthConfig(token_url=mock.token_url, client_id="seam", client_secret="seam-secret-1")  # type: ignore[arg-type]
    settings = ConnectionSettings(url=mock.url, url_source="test", auth=auth, http_timeout=7.5)
    transport = Recording(mock.transport())
    async with DagsterClient.from_settings(settings, transport=transport) as client:
        assert await client.server_version()
    assert mock.oauth_calls == 1
    assert transport.timeouts["/oauth/token"]["read"] == 7.5
    assert transport.timeouts["/graphql"]["read"] == 7.5


async def test_the_http_timeout_setting_of_a_profile_reaches_the_token_endpoint(
    tmp_path: Path,
) -> None:
    mock = oauth_mock()
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [profiles.idp]
            url = "{mock.url}"
            http_timeout = 4
            [profiles.idp.auth]
            token_url = "{mock.token_url}"
            client_id = "seam"
            client_secret = "seam-secret-1"
            """
        )
    )
    config.chmod(0o600)
    settings = resolve_connection(profile="idp", env={"DAGLAB_KEYRING": "0"}, config_file=config)
    transport = Recording(mock.transport())
    async with DagsterClient.from_settings(settings, transport=transport) as client:
        await client.server_version()
    assert transport.timeouts["/oauth/token"]["read"] == 4.0


async def test_a_token_manager_alone_waits_the_default_http_timeout() -> None:
    mock = oauth_mock()
    auth = AuthConfig(token_url=mock.token_url, client_id="seam", client_secret="seam-secret-1")  # type: ignore[arg-type]
    transport = Recording(mock.transport())
    assert await TokenManager(auth, transport=transport).get_token()
    assert transport.timeouts["/oauth/token"]["read"] == DEFAULT_HTTP_TIMEOUT


async def test_connect_with_a_transport_discovers_in_process(fresh_session: None) -> None:
    mock = MockDagster()
    connection = await dl.connect(mock.url, transport=mock.transport())
    assert connection.version == mock.config.version
    assert "main" in [loc.name for loc in connection.locations]
    jobs = await dl.discover_jobs()
    assert "orders_job" in jobs.names()
    assets = await dl.discover_assets(pattern="orders/*")
    assert assets and all(a.key.startswith("orders/") for a in assets)
    await dl.close()


async def test_a_connect_with_another_transport_is_used_by_the_next_call(
    fresh_session: None,
) -> None:
    first, second = MockDagster(), MockDagster()
    await dl.connect(first.url, transport=first.transport())
    await dl.connect(first.url, transport=second.transport())
    before = len(first.requests)
    await dl.discover_jobs()
    assert len(first.requests) == before
    assert second.requests
    await dl.close()


async def test_credentials_status_in_process() -> None:
    from daglab.helpers.status import credentials_status

    mock = MockDagster()
    token = mock.require_bearer("seam-token-abcd")
    good = ConnectionSettings(url=mock.url, url_source="test", auth=AuthConfig(token=token))  # type: ignore[arg-type]
    report = await credentials_status(good, transport=mock.transport())
    assert report["token"] == "********abcd"
    assert report["server"] == {
        "reachable": True,
        "accepted": True,
        "version": mock.config.version,
        "error": None,
    }
    bad = ConnectionSettings(url=mock.url, url_source="test", auth=AuthConfig(token="nope-wxyz"))  # type: ignore[arg-type]
    report = await credentials_status(bad, transport=mock.transport())
    assert report["server"]["accepted"] is False
    assert "nope-wxyz" not in str(report)


async def test_server_status_in_process() -> None:
    from daglab.helpers.status import server_status

    mock = MockDagster()
    settings = ConnectionSettings(url=mock.url, url_source="test")
    status = await server_status(settings, transport=mock.transport())
    assert status.version == mock.config.version
    assert "main" in [loc.name for loc in status.locations]


# -- the CLI in-process, through the same seam ------------------------------------------------


def test_the_cli_discovers_in_process_against_the_mock(
    capsys: pytest.CaptureFixture[str], fresh_session: None
) -> None:
    import json

    mock = MockDagster()
    code, out, err = helpers_fakes.cli_in_process(
        capsys, mock.transport(), "discover", "--filter", "jobs", "--json", "--url", mock.url
    )
    assert code == 0, err
    names = {job["name"] for job in json.loads(out)["jobs"]}
    assert {"orders_job", "config_job"} <= names
    assert "DaglabJobs" in mock.operations  # answered by the mock, in this process


def test_the_cli_runs_a_job_in_process_and_the_mock_records_the_run(
    capsys: pytest.CaptureFixture[str], fresh_session: None
) -> None:
    import json

    mock = MockDagster()
    code, out, err = helpers_fakes.cli_in_process(
        capsys, mock.transport(), "run", "--job", "orders_job", "--json", "--url", mock.url
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "SUCCESS"
    assert mock.operations.count("DaglabLaunchRun") == 1


def test_the_cli_reports_an_error_in_process_with_its_exit_code(
    capsys: pytest.CaptureFixture[str], fresh_session: None
) -> None:
    mock = MockDagster()
    code, _, err = helpers_fakes.cli_in_process(
        capsys, mock.transport(), "run", "--job", "no_such_job", "--url", mock.url
    )
    assert code == 2
    assert "No job 'no_such_job'" in err
