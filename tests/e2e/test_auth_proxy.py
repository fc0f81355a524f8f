"""Auth end to end: a real dagster-webserver behind a small authenticating reverse proxy.

Self-hosted Dagster usually sits behind nginx basic auth or an OAuth2 proxy. The proxy here
(127.0.0.1 only) checks the Authorization header the way those do, answers 401 with an HTML
page when it is wrong, strips it, and forwards everything else to the session's
``dagster_server``, optionally under a path prefix.
"""

from __future__ import annotations

import base64
import http.client
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from daglab.harness.server import DagsterServer
from daglab.helpers import queries
from tests.conftest import CliResult, isolated_env, run_cli

TOKEN = "proxy-bearer-Z9q1"
USER, PASSWORD = "analyst", "proxy-pass-K2w8"
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "authorization",
}
UNAUTHORIZED_HTML = (
    b"<html><head><title>401 Authorization Required</title></head>"
    b"<body><center><h1>401 Authorization Required</h1></center><hr><center>nginx</center>"
    b"</body></html>\n"
)


class AuthProxy:
    """Accepts requests whose Authorization header is one of ``accepted``; forwards them."""

    def __init__(self, upstream: str, accepted: set[str], prefix: str = "") -> None:
        self.upstream = urlsplit(upstream)
        self.accepted = accepted
        self.prefix = prefix
        self.seen: list[tuple[str, str | None, int]] = []  # (path, Authorization, status)
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                proxy.handle(self)

            def do_POST(self) -> None:
                proxy.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    def __enter__(self) -> AuthProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        auth = request.headers.get("Authorization")
        if auth not in self.accepted:
            self._record(request.path, auth, 401)
            request.send_response(401)
            request.send_header("WWW-Authenticate", 'Basic realm="dagster"')
            request.send_header("Content-Type", "text/html")
            request.send_header("Content-Length", str(len(UNAUTHORIZED_HTML)))
            request.end_headers()
            request.wfile.write(UNAUTHORIZED_HTML)
            return
        if not request.path.startswith(self.prefix + "/"):
            self._record(request.path, auth, 404)
            request.send_error(404)
            return
        upstream = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=120
        )
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            upstream.request(
                request.command, request.path[len(self.prefix) :], body=body, headers=headers
            )
            response = upstream.getresponse()
            payload = response.read()
        finally:
            upstream.close()
        self._record(request.path, auth, response.status)
        request.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def _record(self, path: str, auth: str | None, status: int) -> None:
        with self.lock:
            self.seen.append((path, auth, status))


def bearer(token: str) -> str:
    return f"Bearer {token}"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def bearer_proxy(dagster_server: DagsterServer) -> Iterator[AuthProxy]:
    with AuthProxy(dagster_server.url, {bearer(TOKEN)}) as proxy:
        yield proxy


@pytest.fixture
def basic_proxy(dagster_server: DagsterServer) -> Iterator[AuthProxy]:
    with AuthProxy(dagster_server.url, {basic(USER, PASSWORD)}, prefix="/dagster") as proxy:
        yield proxy


def unknown_field_answers(server: DagsterServer) -> int:
    """How many 400s Dagster itself answers to one ``discover``.

    daglab sends the newest assets document first; a version it does not support (1.7) lacks
    one of its fields and answers HTTP 400, after which daglab sends that version's document.
    """
    major, minor = (int(part) for part in server.minor.split("."))
    return 0 if queries.ASSETS.supports((major, minor)) else 1


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return isolated_env(tmp_path, DAGLAB_KEYRING="0", **extra)


def write_profile(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config" / "daglab" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)


def asset_keys(result: CliResult) -> set[str]:
    assert result.returncode == 0, result.stderr
    return {a["key"] for a in result.json()["assets"]}


def test_bearer_token_by_flag_through_the_proxy(
    bearer_proxy: AuthProxy, dagster_server: DagsterServer, tmp_path: Path
) -> None:
    result = run_cli(
        "discover", "--url", bearer_proxy.url, "--auth-token", TOKEN, "--json", env=env(tmp_path)
    )
    assert "orders/raw_orders" in asset_keys(result)
    statuses = [status for _, auth, status in bearer_proxy.seen if auth == bearer(TOKEN)]
    assert len(statuses) == len(bearer_proxy.seen) > 0  # every request carried the token
    assert statuses.count(400) == unknown_field_answers(dagster_server)
    assert set(statuses) - {400} == {200}
    assert TOKEN not in result.stdout + result.stderr


def test_bearer_token_by_env_through_the_proxy(bearer_proxy: AuthProxy, tmp_path: Path) -> None:
    result = run_cli(
        "discover", "--url", bearer_proxy.url, "--json", env=env(tmp_path, DAGLAB_TOKEN=TOKEN)
    )
    assert "orders/raw_orders" in asset_keys(result)


def test_basic_auth_by_env_with_a_path_prefix(basic_proxy: AuthProxy, tmp_path: Path) -> None:
    extra = {"DAGLAB_USERNAME": USER, "DAGLAB_PASSWORD": PASSWORD}
    result = run_cli("discover", "--url", basic_proxy.url, "--json", env=env(tmp_path, **extra))
    assert "orders/raw_orders" in asset_keys(result)
    assert all(path.startswith("/dagster/") for path, _, _ in basic_proxy.seen)


def test_basic_auth_by_profile(basic_proxy: AuthProxy, tmp_path: Path) -> None:
    write_profile(
        tmp_path,
        f'[profiles.onprem]\nurl = "{basic_proxy.url}"\n'
        f'[profiles.onprem.auth]\ntype = "basic"\nusername = "{USER}"\npassword = "{PASSWORD}"\n',
    )
    result = run_cli("discover", "--profile", "onprem", "--json", env=env(tmp_path))
    assert "orders/raw_orders" in asset_keys(result)


def test_basic_auth_by_flag(basic_proxy: AuthProxy, tmp_path: Path) -> None:
    result = run_cli(
        "discover",
        "--url",
        basic_proxy.url,
        "--auth-type",
        "basic",
        "--auth-token",
        f"{USER}:{PASSWORD}",
        "--json",
        env=env(tmp_path),
    )
    assert "orders/raw_orders" in asset_keys(result)
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize("token", [None, "wrong-token-1234"])
def test_missing_or_wrong_credentials_are_exit_5(
    bearer_proxy: AuthProxy, tmp_path: Path, token: str | None
) -> None:
    args = ["--auth-token", token] if token else []
    result = run_cli("discover", "--url", bearer_proxy.url, *args, env=env(tmp_path))
    assert result.returncode == 5
    assert "HTTP 401" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert "<html>" not in result.stderr


def test_auth_status_through_the_proxy(
    bearer_proxy: AuthProxy, dagster_server: DagsterServer, tmp_path: Path
) -> None:
    result = run_cli(
        "auth", "status", "--url", bearer_proxy.url, "--json", env=env(tmp_path, DAGLAB_TOKEN=TOKEN)
    )
    assert result.returncode == 0, result.stderr
    report = result.json()
    assert report["source"] == "env DAGLAB_TOKEN"
    assert report["token"] == "********" + TOKEN[-4:]
    assert report["server"] == {
        "reachable": True,
        "accepted": True,
        "version": dagster_server.version,
        "error": None,
    }


def test_a_rotated_token_is_fetched_again_after_a_401(
    dagster_server: DagsterServer, tmp_path: Path
) -> None:
    script = tmp_path / "token.py"
    script.write_text(
        "import pathlib, sys\n"
        "calls = pathlib.Path(sys.argv[1])\n"
        "n = int(calls.read_text()) if calls.exists() else 0\n"
        "calls.write_text(str(n + 1))\n"
        "print('rotated-old-1' if n == 0 else 'rotated-new-2')\n"
    )
    command = [sys.executable, str(script), str(tmp_path / "calls")]
    with AuthProxy(dagster_server.url, {bearer("rotated-new-2")}) as proxy:
        write_profile(
            tmp_path,
            f'[profiles.sso]\nurl = "{proxy.url}"\n'
            f"[profiles.sso.auth]\ntoken_command = {json.dumps(command)}\n",
        )
        result = run_cli("discover", "--profile", "sso", "--json", env=env(tmp_path))
        assert "orders/raw_orders" in asset_keys(result)
        assert (tmp_path / "calls").read_text() == "2"
        expected = {(bearer("rotated-old-1"), 401), (bearer("rotated-new-2"), 200)}
        if unknown_field_answers(dagster_server):
            expected.add((bearer("rotated-new-2"), 400))
        assert {(auth, status) for _, auth, status in proxy.seen} == expected


def test_a_job_runs_to_success_through_the_proxy(bearer_proxy: AuthProxy, tmp_path: Path) -> None:
    result = run_cli(
        "run",
        "--job",
        "tagged_job",
        "--url",
        bearer_proxy.url,
        "--json",
        env=env(tmp_path, DAGLAB_TOKEN=TOKEN),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.json()["status"] == "SUCCESS"
    assert all(status != 401 for _, _, status in bearer_proxy.seen)
