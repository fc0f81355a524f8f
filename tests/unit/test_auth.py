"""Credentials: resolution, every auth type against the mock, token refresh, stored logins.

The mock (``daglab.harness.mock``) checks the headers it receives; in-process for library
tests, over real HTTP on 127.0.0.1 for the CLI.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import sys
import textwrap
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from daglab.harness.mock import MockDagster
from daglab.helpers.auth import (
    DAGSTER_CLOUD_HEADER,
    AuthConfig,
    HeaderAuth,
    TokenManager,
    credential_key,
    delete_stored_token,
    load_stored_token,
    mask_secret,
    parse_token_output,
    reset_token_managers,
    resolve_auth,
    store_token,
)
from daglab.helpers.auth import store as auth_store
from daglab.helpers.config import resolve_connection
from daglab.helpers.errors import (
    EXIT_AUTH,
    EXIT_BAD_INPUT,
    AuthError,
    BadInputError,
    ConfigFileError,
    HTTPStatusError,
)
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.queries import VERSION
from tests.conftest import isolated_env, run_cli


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    reset_token_managers()
    yield
    reset_token_managers()


class Clock:
    """A clock a test moves by hand; shared by the mock and the TokenManager."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def token_script(tmp_path: Path, outputs: list[str], delay: float = 0.0) -> list[str]:
    """A token command printing ``outputs`` one per call (the last one again after that);
    the number of calls is kept in ``tmp_path/calls``."""
    script = tmp_path / "print_token.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, pathlib, sys, time
            calls = pathlib.Path(sys.argv[1])
            n = int(calls.read_text()) if calls.exists() else 0
            calls.write_text(str(n + 1))
            outputs = json.loads(sys.argv[2])
            time.sleep(float(sys.argv[3]))
            print(outputs[min(n, len(outputs) - 1)])
            """
        )
    )
    return [sys.executable, str(script), str(tmp_path / "calls"), json.dumps(outputs), str(delay)]


def calls(tmp_path: Path) -> int:
    path = tmp_path / "calls"
    return int(path.read_text()) if path.exists() else 0


def in_process_client(mock: MockDagster, auth: AuthConfig) -> DagsterClient:
    return DagsterClient(mock.url, auth=auth, transport=mock.transport(), max_retries=0)


# -- resolution ------------------------------------------------------------------------------


def write_config(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config" / "daglab" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    path.chmod(mode)
    return path


def env_for(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "DAGLAB_KEYRING": "0", **values}


PROFILE = """
    [profiles.prod]
    url = "https://dagster.example.com/prefix"
    [profiles.prod.auth]
    type = "bearer"
    token = "profile-token-1234"
"""


def test_flag_beats_env_beats_profile(tmp_path: Path) -> None:
    path = write_config(tmp_path, PROFILE)
    env = env_for(tmp_path, DAGLAB_TOKEN="env-token-1234", DAGLAB_PROFILE="prod")

    by_flag = resolve_connection(auth_token="flag-token-1234", env=env, config_file=path)
    by_env = resolve_connection(env=env, config_file=path)
    del env["DAGLAB_TOKEN"]
    by_profile = resolve_connection(env=env, config_file=path)

    assert by_flag.auth is not None and by_flag.auth.source == "flag --auth-token"
    assert by_flag.auth.headers()["Authorization"] == "Bearer flag-token-1234"
    assert by_env.auth is not None and by_env.auth.source == "env DAGLAB_TOKEN"
    assert by_profile.auth is not None and by_profile.auth.source == "profile 'prod'"
    assert by_profile.auth.headers()["Authorization"] == "Bearer profile-token-1234"


def test_no_credentials_anywhere_means_none(tmp_path: Path) -> None:
    assert resolve_connection(env=env_for(tmp_path)).auth is None


def test_dagster_cloud_env_token_goes_in_its_header(tmp_path: Path) -> None:
    settings = resolve_connection(env=env_for(tmp_path, DAGSTER_CLOUD_API_TOKEN="cloud-1234"))
    assert settings.auth is not None
    assert settings.auth.headers() == {DAGSTER_CLOUD_HEADER: "cloud-1234"}


def test_daglab_auth_header_sends_the_env_token_raw_in_that_header(tmp_path: Path) -> None:
    env = env_for(tmp_path, DAGLAB_TOKEN="key-1234", DAGLAB_AUTH_HEADER="X-Api-Key")
    settings = resolve_connection(env=env)
    assert settings.auth is not None and settings.auth.headers() == {"X-Api-Key": "key-1234"}


def test_basic_by_flag_takes_user_colon_password() -> None:
    config = resolve_auth(token="ann:pa:ss", auth_type="basic", env={})
    assert config is not None
    expected = base64.b64encode(b"ann:pa:ss").decode()
    assert config.headers() == {"Authorization": f"Basic {expected}"}
    with pytest.raises(BadInputError, match="USER:PASSWORD"):
        resolve_auth(token="no-colon", auth_type="basic", env={})


def test_header_flags_add_to_any_type() -> None:
    config = resolve_auth(token="tok-1234", headers=["X-Org=acme", "X-Team=data"], env={})
    assert config is not None
    assert config.headers() == {
        "Authorization": "Bearer tok-1234",
        "X-Org": "acme",
        "X-Team": "data",
    }


def test_auth_type_flag_applies_to_the_env_token() -> None:
    config = resolve_auth(auth_type="header", env={"DAGLAB_TOKEN": "env-tok-1234"})
    assert config is not None and config.headers() == {DAGSTER_CLOUD_HEADER: "env-tok-1234"}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"type": "digest"}, "Unknown auth type"),
        ({"tokn": "x"}, "Unknown key 'tokn'"),
        ({"type": "basic"}, "needs a username"),
        ({"headers": "X=1"}, "must be a table"),
        ({"token_command": 3}, "token_command"),
        ({"token_lifetime": -1}, "token_lifetime"),
        ({"token_url": "ftp://idp/token", "client_id": "c"}, "http"),
        ({"token_url": "https://idp/token"}, "client_id"),
        ({"headers": {"Bad Name": "v"}}, "header name"),
    ],
)
def test_bad_auth_tables_are_exit_2(table: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInputError, match=message) as info:
        AuthConfig.from_config(table, source="profile 'x'")
    assert info.value.exit_code == EXIT_BAD_INPUT


def test_auth_table_errors_never_echo_a_secret() -> None:
    with pytest.raises(ConfigFileError) as info:
        AuthConfig.from_config({"token": "line\nbreak-secret"}, source="profile 'x'")
    assert "break-secret" not in str(info.value)


# -- what goes on the wire, against the mock --------------------------------------------------


async def test_bearer_header_reaches_the_mock(mock_app: MockDagster) -> None:
    token = mock_app.require_bearer("bearer-secret-1")
    async with in_process_client(mock_app, AuthConfig(token=token)) as client:  # type: ignore[arg-type]
        await client.execute(VERSION)
    assert mock_app.requests[-1].headers["authorization"] == f"Bearer {token}"


async def test_basic_auth_reaches_the_mock(mock_app: MockDagster) -> None:
    mock_app.require_basic("ann", "basic-pass-1")
    config = AuthConfig(type="basic", username="ann", password="basic-pass-1")  # type: ignore[arg-type]
    async with in_process_client(mock_app, config) as client:
        data = await client.execute(VERSION)
    assert data["version"]


async def test_custom_header_reaches_the_mock(mock_app: MockDagster) -> None:
    value = mock_app.require_header("X-Api-Key")
    config = AuthConfig.from_config({"headers": {"X-Api-Key": value}}, source="test")
    async with in_process_client(mock_app, config) as client:
        await client.execute(VERSION)
    assert mock_app.requests[-1].headers["x-api-key"] == value


async def test_missing_credentials_are_exit_5(mock_app: MockDagster) -> None:
    mock_app.require_bearer()
    async with in_process_client(mock_app, AuthConfig(token="wrong-token-1")) as client:  # type: ignore[arg-type]
        with pytest.raises(AuthError) as info:
            await client.execute(VERSION)
    assert info.value.exit_code == EXIT_AUTH
    assert "HTTP 401" in info.value.message
    assert len(mock_app.graphql_requests) == 1  # a static token is not retried


async def test_credentials_go_only_to_the_configured_origin() -> None:
    auth = HeaderAuth(AuthConfig(token="origin-secret-1"), origin="https://dagster.example.com")  # type: ignore[arg-type]
    here = httpx.Request("POST", "https://dagster.example.com/graphql")
    there = httpx.Request("POST", "https://evil.example.net/graphql")
    other_port = httpx.Request("POST", "https://dagster.example.com:8443/graphql")
    for request in (here, there, other_port):
        flow = auth.async_auth_flow(request)
        await flow.__anext__()
    assert here.headers["authorization"] == "Bearer origin-secret-1"
    assert "authorization" not in there.headers
    assert "authorization" not in other_port.headers


async def test_a_redirect_to_another_host_is_not_followed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(307, headers={"location": "https://evil.example.net/graphql"})

    client = DagsterClient(
        "https://dagster.example.com",
        auth=AuthConfig(token="redirect-secret-1"),  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),
        max_retries=0,
    )
    async with client:
        with pytest.raises(HTTPStatusError, match="does not follow redirects"):
            await client.execute(VERSION)
    assert [str(r.url.host) for r in seen] == ["dagster.example.com"]


# -- token refresh ---------------------------------------------------------------------------


def test_token_output_formats() -> None:
    now = 1000.0
    assert parse_token_output("abc123\n", now=now).expires_at is None
    assert parse_token_output("abc123", now=now, lifetime=60).expires_at == 1060.0
    doc = json.dumps({"access_token": "tok-1", "expires_in": 300})
    assert parse_token_output(doc, now=now).expires_at == 1300.0
    doc = json.dumps({"token": "tok-2", "expires_at": "1970-01-01T00:20:00Z"})
    assert parse_token_output(doc, now=now).expires_at == 1200.0
    doc = json.dumps({"token": "tok-3", "expires_at": 5000})
    assert parse_token_output(doc, now=now).expires_at == 5000.0
    payload = base64.urlsafe_b64encode(json.dumps({"exp": 4242}).encode()).decode().rstrip("=")
    assert parse_token_output(f"eyJhbGciOiJub25lIn0.{payload}.sig", now=now).expires_at == 4242


@pytest.mark.parametrize(
    "output",
    ["", "two\nlines", "{not json", '{"nothing": 1}', "has space", '"quoted"'.replace('"', "\x07")],
)
def test_unusable_token_output_is_an_auth_error(output: str) -> None:
    with pytest.raises(AuthError):
        parse_token_output(output, now=0)


async def test_token_command_result_is_cached(mock_app: MockDagster, tmp_path: Path) -> None:
    token = mock_app.require_bearer("cmd-token-1")
    config = AuthConfig(token_command=token_script(tmp_path, [token]))
    async with in_process_client(mock_app, config) as client:
        for _ in range(3):
            await client.execute(VERSION)
    assert calls(tmp_path) == 1


async def test_token_refreshed_shortly_before_it_expires(
    mock_app: MockDagster, tmp_path: Path
) -> None:
    clock = Clock()
    mock_app.use_clock(clock)
    first = mock_app.require_bearer("early-1", lifetime=100)
    second = mock_app.require_bearer("early-2")
    outputs = [json.dumps({"token": first, "expires_in": 100}), second]
    config = AuthConfig(token_command=token_script(tmp_path, outputs))
    manager = TokenManager(config, clock=clock)
    client = DagsterClient(mock_app.url, transport=mock_app.transport(), max_retries=0)
    client._http.auth = HeaderAuth(config, manager=manager)
    async with client:
        await client.execute(VERSION)
        clock.advance(90)  # inside the refresh margin, before the expiry
        await client.execute(VERSION)
    sent = [r.headers["authorization"] for r in mock_app.graphql_requests]
    assert sent == [f"Bearer {first}", f"Bearer {second}"]
    assert all(r.status != 401 for r in mock_app.graphql_requests)


async def test_401_refreshes_once_and_retries_once(mock_app: MockDagster, tmp_path: Path) -> None:
    clock = Clock()
    mock_app.use_clock(clock)
    old = mock_app.require_bearer("expiring-1", lifetime=10)
    new = mock_app.require_bearer("fresh-2")
    config = AuthConfig(token_command=token_script(tmp_path, [old, new]))
    async with in_process_client(mock_app, config) as client:
        await client.execute(VERSION)
        clock.advance(60)  # the server expires it; daglab did not know its lifetime
        data = await client.execute(VERSION)
    assert data["version"]
    sent = [r.headers["authorization"] for r in mock_app.graphql_requests]
    assert sent == [f"Bearer {old}", f"Bearer {old}", f"Bearer {new}"]
    assert calls(tmp_path) == 2


async def test_still_401_after_a_refresh_is_an_auth_error_without_a_loop(
    mock_app: MockDagster, tmp_path: Path
) -> None:
    mock_app.require_bearer("the-right-one")
    config = AuthConfig(token_command=token_script(tmp_path, ["wrong-1", "wrong-2", "wrong-3"]))
    async with in_process_client(mock_app, config) as client:
        with pytest.raises(AuthError):
            await client.execute(VERSION)
    assert len(mock_app.graphql_requests) == 2
    assert calls(tmp_path) == 2


async def test_concurrent_401s_share_one_refresh(mock_app: MockDagster, tmp_path: Path) -> None:
    clock = Clock()
    mock_app.use_clock(clock)
    old = mock_app.require_bearer("shared-1", lifetime=10)
    new = mock_app.require_bearer("shared-2")
    config = AuthConfig(token_command=token_script(tmp_path, [old, new], delay=0.2))
    async with in_process_client(mock_app, config) as client:
        await client.execute(VERSION)
        clock.advance(60)
        results = await asyncio.gather(*(client.execute(VERSION) for _ in range(10)))
    assert len(results) == 10
    assert calls(tmp_path) == 2


async def test_token_file_is_read_again_after_a_401(mock_app: MockDagster, tmp_path: Path) -> None:
    clock = Clock()
    mock_app.use_clock(clock)
    old = mock_app.require_bearer("file-1", lifetime=10)
    new = mock_app.require_bearer("file-2")
    token_file = tmp_path / "token"
    token_file.write_text(old + "\n")
    token_file.chmod(0o600)
    config = AuthConfig(token_file=token_file)
    async with in_process_client(mock_app, config) as client:
        await client.execute(VERSION)
        clock.advance(60)
        token_file.write_text(new)  # e.g. a sidecar rotated it
        await client.execute(VERSION)
    assert mock_app.graphql_requests[-1].headers["authorization"] == f"Bearer {new}"


async def test_failing_token_command_is_an_auth_error(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text("import sys; sys.stderr.write('not logged in\\n'); sys.exit(3)")
    config = AuthConfig(token_command=[sys.executable, str(script)])
    with pytest.raises(AuthError, match=r"failed \(exit 3\)"):
        await TokenManager(config).get_token()


async def test_oauth2_client_credentials(mock_dagster: MockDagster) -> None:
    mock_dagster.add_oauth_client("daglab-ci", "client-secret-1", scopes=["dagster"])
    config = AuthConfig.from_config(
        {
            "token_url": mock_dagster.token_url,
            "client_id": "daglab-ci",
            "client_secret": "client-secret-1",
            "scope": "dagster",
        },
        source="test",
    )
    async with DagsterClient(mock_dagster.url, auth=config, max_retries=0) as client:
        await client.execute(VERSION)
        await client.execute(VERSION)
    assert mock_dagster.oauth_calls == 1
    sent = mock_dagster.graphql_requests[-1].headers["authorization"]
    assert sent.startswith("Bearer oauth_")


async def test_oauth2_token_that_dies_early_is_refreshed(mock_dagster: MockDagster) -> None:
    clock = Clock()
    mock_dagster.use_clock(clock)
    mock_dagster.add_oauth_client("early", "client-secret-2", expires_in=3600, lifetime=5)
    config = AuthConfig(
        token_url=mock_dagster.token_url,
        client_id="early",
        client_secret="client-secret-2",  # type: ignore[arg-type]
    )
    async with DagsterClient(mock_dagster.url, auth=config, max_retries=0) as client:
        await client.execute(VERSION)
        clock.advance(10)
        await client.execute(VERSION)
    assert mock_dagster.oauth_calls == 2
    statuses = [r.status for r in mock_dagster.graphql_requests]
    assert statuses == [200, 401, 200]


async def test_oauth2_wrong_secret_is_an_auth_error(mock_dagster: MockDagster) -> None:
    mock_dagster.add_oauth_client("ci", "right-secret")
    config = AuthConfig(
        token_url=mock_dagster.token_url,
        client_id="ci",
        client_secret="wrong-secret-9",  # type: ignore[arg-type]
    )
    with pytest.raises(AuthError, match="invalid_client") as info:
        await TokenManager(config).get_token()
    assert "wrong-secret-9" not in str(info.value)


# -- stored logins ---------------------------------------------------------------------------


def test_login_without_keyring_writes_a_private_file(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    stored = store_token("profile:prod", "stored-token-1", env=env)
    assert stored.storage == "file"
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.path.parent.stat().st_mode) == 0o700
    loaded = load_stored_token("profile:prod", env)
    assert loaded is not None and loaded.headers() == {"Authorization": "Bearer stored-token-1"}
    assert delete_stored_token("profile:prod", env) is True
    assert load_stored_token("profile:prod", env) is None
    assert delete_stored_token("profile:prod", env) is False


class FakeKeyring(types.ModuleType):
    def __init__(self, hang: float = 0.0) -> None:
        super().__init__("keyring")
        self.store: dict[tuple[str, str], str] = {}
        self.hang = hang

    def set_password(self, service: str, user: str, password: str) -> None:
        time.sleep(self.hang)
        self.store[service, user] = password

    def get_password(self, service: str, user: str) -> str | None:
        time.sleep(self.hang)
        return self.store.get((service, user))

    def delete_password(self, service: str, user: str) -> None:
        self.store.pop((service, user), None)


def test_login_uses_a_working_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeKeyring()
    monkeypatch.setitem(sys.modules, "keyring", fake)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    stored = store_token("url:http://x", "keyring-token-1", env=env)
    assert stored.storage == "keyring"
    assert "keyring-token-1" not in stored.path.read_text()
    loaded = load_stored_token("url:http://x", env)
    assert loaded is not None and loaded.token is not None
    assert loaded.token.get_secret_value() == "keyring-token-1"
    assert delete_stored_token("url:http://x", env)
    assert fake.store == {}


def test_a_hanging_keyring_falls_back_to_the_file_quickly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", FakeKeyring(hang=5))
    monkeypatch.setattr(auth_store, "KEYRING_TIMEOUT", 0.2)
    started = time.monotonic()
    stored = store_token("url:http://x", "hang-token-1", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert time.monotonic() - started < 2
    assert stored.storage == "file"


def test_stored_login_comes_after_the_profile_table(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
        [profiles.cloud]
        url = "https://org.dagster.cloud/prod"
        [profiles.cloud.auth]
        type = "header"
        """,
    )
    env = env_for(tmp_path, DAGLAB_PROFILE="cloud")
    store_token(credential_key("cloud", "https://org.dagster.cloud/prod"), "cloud-tok-1", env=env)
    settings = resolve_connection(env=env, config_file=path)
    assert settings.auth is not None
    assert settings.auth.headers() == {DAGSTER_CLOUD_HEADER: "cloud-tok-1"}
    assert settings.auth.source.startswith("daglab auth login")


def test_readable_secret_files_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_config(tmp_path, PROFILE, mode=0o644)
    with caplog.at_level("WARNING", logger="daglab.auth"):
        resolve_connection(env=env_for(tmp_path, DAGLAB_PROFILE="prod"), config_file=path)
    assert any("readable by other users" in r.getMessage() for r in caplog.records)
    assert all("profile-token-1234" not in r.getMessage() for r in caplog.records)


def test_mask_secret_shows_at_most_the_last_four() -> None:
    assert mask_secret("abcdefghijklmnop") == "********mnop"
    assert mask_secret("short") == "********"
    assert mask_secret(None) == "(none)"


# -- the CLI, over real HTTP -----------------------------------------------------------------


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return isolated_env(tmp_path, DAGLAB_KEYRING="0", **extra)


def test_auth_status_shows_source_type_and_masked_token(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    token = mock_dagster.require_bearer("status-token-abcd")
    result = run_cli(
        "auth", "status", "--url", mock_dagster.url, "--auth-token", token, env=cli_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "flag --auth-token" in result.stdout
    assert "********abcd" in result.stdout
    assert "accepts the credentials" in result.stdout
    assert token not in result.stdout + result.stderr


def test_auth_status_with_a_rejected_token_is_exit_5(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    mock_dagster.require_bearer()
    env = cli_env(tmp_path, DAGLAB_TOKEN="rejected-token-wxyz")
    result = run_cli("auth", "status", "--url", mock_dagster.url, "--json", env=env)
    assert result.returncode == EXIT_AUTH
    report = result.json()
    assert report["source"] == "env DAGLAB_TOKEN"
    assert report["token"] == "********wxyz"
    assert report["server"]["accepted"] is False
    assert "rejected-token-wxyz" not in result.stdout + result.stderr


def test_login_then_status_then_logout(mock_dagster: MockDagster, tmp_path: Path) -> None:
    token = mock_dagster.require_bearer("login-token-9876")
    env = cli_env(tmp_path)
    url = ["--url", mock_dagster.url]
    login = run_cli("auth", "login", "--with-token", *url, env=env, input=token + "\n")
    assert login.returncode == 0, login.stderr
    assert "no working keyring" in login.stderr
    creds = tmp_path / "config" / "daglab" / "credentials.toml"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    status = run_cli("auth", "status", *url, env=env)
    assert status.returncode == 0, status.stderr
    assert "daglab auth login" in status.stdout and "********9876" in status.stdout
    discover = run_cli("discover", *url, "--json", env=env)
    assert discover.returncode == 0, discover.stderr
    logout = run_cli("auth", "logout", *url, env=env)
    assert logout.returncode == 0 and "Removed" in logout.stderr
    after = run_cli("auth", "status", *url, env=env)
    assert after.returncode == EXIT_AUTH
    assert token not in "".join(r.stdout + r.stderr for r in (login, status, logout, after))


def test_login_refuses_auth_token_flag(tmp_path: Path) -> None:
    result = run_cli("auth", "login", "--auth-token", "nope-1234", env=cli_env(tmp_path))
    assert result.returncode == EXIT_BAD_INPUT
    assert "nope-1234" not in result.stderr


# The done-criterion: the same `daglab discover` works with every auth type, configured by
# flag, by environment and by profile.

SECRET = "S3cret-Value-For-Auth-Test"
AUTH_TYPES = ["bearer", "basic", "custom-header", "dagster-cloud"]
CONFIGURED_BY = ["flag", "env", "profile"]


def require(mock: MockDagster, kind: str) -> None:
    if kind == "bearer":
        mock.require_bearer(SECRET)
    elif kind == "basic":
        mock.require_basic("ann", SECRET)
    elif kind == "custom-header":
        mock.require_header("X-Api-Key", SECRET)
    else:
        mock.require_header(DAGSTER_CLOUD_HEADER, SECRET)


def configure(kind: str, how: str, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """(extra CLI args, extra env) that configure ``kind`` auth ``how``."""
    if how == "flag":
        args = {
            "bearer": ["--auth-token", SECRET],
            "basic": ["--auth-type", "basic", "--auth-token", f"ann:{SECRET}"],
            "custom-header": ["--header", f"X-Api-Key={SECRET}"],
            "dagster-cloud": ["--auth-type", "header", "--auth-token", SECRET],
        }[kind]
        return args, {}
    if how == "env":
        env = {
            "bearer": {"DAGLAB_TOKEN": SECRET},
            "basic": {"DAGLAB_USERNAME": "ann", "DAGLAB_PASSWORD": SECRET},
            "custom-header": {"DAGLAB_TOKEN": SECRET, "DAGLAB_AUTH_HEADER": "X-Api-Key"},
            "dagster-cloud": {"DAGSTER_CLOUD_API_TOKEN": SECRET},
        }[kind]
        return [], env
    table = {
        "bearer": f'token = "{SECRET}"',
        "basic": f'type = "basic"\nusername = "ann"\npassword = "{SECRET}"',
        "custom-header": f'[profiles.target.auth.headers]\n"X-Api-Key" = "{SECRET}"',
        "dagster-cloud": f'type = "header"\ntoken = "{SECRET}"',
    }[kind]
    write_config(tmp_path, f"[profiles.target.auth]\n{table}\n")
    return ["--profile", "target"], {}


@pytest.mark.parametrize("how", CONFIGURED_BY)
@pytest.mark.parametrize("kind", AUTH_TYPES)
def test_discover_with_every_auth_type_and_source(
    mock_dagster: MockDagster, tmp_path: Path, kind: str, how: str
) -> None:
    require(mock_dagster, kind)
    args, extra_env = configure(kind, how, tmp_path)
    env = cli_env(tmp_path, **extra_env)
    result = run_cli("discover", "--url", mock_dagster.url, "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    assert "orders/raw_orders" in {a["key"] for a in result.json()["assets"]}
    assert all(r.status == 200 for r in mock_dagster.graphql_requests)
    assert SECRET not in result.stdout + result.stderr


def test_discover_without_the_credentials_is_exit_5(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    mock_dagster.require_header(DAGSTER_CLOUD_HEADER, SECRET)
    result = run_cli("discover", "--url", mock_dagster.url, env=cli_env(tmp_path))
    assert result.returncode == EXIT_AUTH
    assert "HTTP 401" in result.stderr


def test_profile_token_command_refreshes_after_401(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    old = mock_dagster.require_bearer("cli-old-1", lifetime=3600)
    new = mock_dagster.require_bearer("cli-new-2")
    mock_dagster.expire_tokens()
    command = token_script(tmp_path, [old, new])
    write_config(
        tmp_path,
        f'[profiles.t]\nurl = "{mock_dagster.url}"\n[profiles.t.auth]\n'
        f"token_command = {json.dumps(command)}\n",
    )
    result = run_cli("discover", "--profile", "t", "--json", env=cli_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path) == 2
    by_token = {(r.headers["authorization"], r.status) for r in mock_dagster.graphql_requests}
    assert by_token == {(f"Bearer {old}", 401), (f"Bearer {new}", 200)}


def test_fresh_file_permissions_are_not_warned(tmp_path: Path) -> None:
    write_config(tmp_path, PROFILE)
    env = cli_env(tmp_path, DAGLAB_PROFILE="prod")
    result = run_cli(
        "auth", "status", "--url", "http://127.0.0.1:9", "--http-timeout", "1", env=env
    )
    assert "readable by other users" not in result.stderr
    os.chmod(tmp_path / "config" / "daglab" / "config.toml", 0o640)
    result = run_cli(
        "auth", "status", "--url", "http://127.0.0.1:9", "--http-timeout", "1", env=env
    )
    assert "Warning: The config file" in result.stderr
