"""DagsterClient: retries, timeouts, error mapping, URL handling, version caching.

Most tests script the HTTP exchange with ``httpx.MockTransport``; the rest run against the
in-process mock Dagster (``mock_app``) or the mock over real HTTP (``mock_dagster``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from daglab.harness.mock import MockDagster
from daglab.helpers import errors
from daglab.helpers import queries as q
from daglab.helpers.auth import AuthConfig
from daglab.helpers.graphql import DagsterClient, check_union, parse_version

OK = {"data": {"version": "1.9.13"}}
LAUNCH_VARS = {
    "executionParams": {
        "selector": {
            "repositoryLocationName": "main",
            "repositoryName": "__repository__",
            "jobName": "orders_job",
        }
    }
}

Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """An httpx.MockTransport that answers from a list of steps and records each request.

    A step is a Response, an exception to raise, or a callable taking the request."""

    def __init__(self, *steps: Any) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            return step(request)  # type: ignore[no-any-return]
        return step  # type: ignore[no-any-return]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def ok(payload: dict[str, Any] = OK, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)


def status(code: int, **headers: str) -> httpx.Response:
    return httpx.Response(code, text=f"{code}", headers=headers)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every backoff the client sleeps, recorded instead of slept."""
    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr("daglab.helpers.graphql.asyncio.sleep", fake_sleep)
    return recorded


def client_for(script: Script, url: str = "http://dagster.test", **kwargs: Any) -> DagsterClient:
    return DagsterClient(url, transport=script.transport(), **kwargs)


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("[Errno 111] Connection refused")


# -- retries -------------------------------------------------------------------------------------


async def test_query_is_retried_with_backoff_on_connect_errors(sleeps: list[float]) -> None:
    script = Script(connect_error(), connect_error(), ok())
    async with client_for(script, backoff_base=1.0, backoff_max=100) as client:
        assert await client.execute(q.VERSION) == OK["data"]
    assert len(script.requests) == 3
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # exponential, with jitter


async def test_backoff_is_capped(sleeps: list[float]) -> None:
    script = Script(*[connect_error()] * 5, ok())
    async with client_for(script, max_retries=5, backoff_base=1.0, backoff_max=3.0) as client:
        await client.execute(q.VERSION)
    assert max(sleeps) <= 3.0


@pytest.mark.parametrize("code", [502, 503, 504])
async def test_query_is_retried_on_gateway_errors(code: int, sleeps: list[float]) -> None:
    script = Script(status(code), ok())
    async with client_for(script) as client:
        assert await client.execute(q.VERSION) == OK["data"]
    assert len(script.requests) == 2


async def test_retries_give_up_after_max_retries(sleeps: list[float]) -> None:
    script = Script(status(503))
    async with client_for(script, max_retries=2) as client:
        with pytest.raises(errors.ServerError) as caught:
            await client.execute(q.VERSION)
    assert len(script.requests) == 3
    assert caught.value.exit_code == errors.EXIT_SERVER
    assert "503" in caught.value.message


async def test_unreachable_after_retries_is_a_plain_message(sleeps: list[float]) -> None:
    script = Script(connect_error())
    async with client_for(script, max_retries=1) as client:
        with pytest.raises(errors.UnreachableError) as caught:
            await client.execute(q.VERSION)
    assert "Cannot reach the Dagster server at http://dagster.test" in caught.value.message
    assert caught.value.hint and "url=" in str(caught.value)


async def test_429_honours_retry_after_seconds(sleeps: list[float]) -> None:
    script = Script(status(429, **{"Retry-After": "2"}), ok())
    async with client_for(script) as client:
        await client.execute(q.VERSION)
    assert sleeps == [2.0]


async def test_429_honours_retry_after_http_date(sleeps: list[float]) -> None:
    when = time.time() + 30
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(when))
    script = Script(status(429, **{"Retry-After": date}), ok())
    async with client_for(script) as client:
        await client.execute(q.VERSION)
    assert 25 <= sleeps[0] <= 31


async def test_503_retry_after_is_honoured_too(sleeps: list[float]) -> None:
    script = Script(status(503, **{"Retry-After": "1.5"}), ok())
    async with client_for(script) as client:
        await client.execute(q.VERSION)
    assert sleeps == [1.5]


async def test_a_retry_after_past_the_deadline_is_reported_as_rate_limiting(
    sleeps: list[float],
) -> None:
    script = Script(status(429, **{"Retry-After": "86400"}), ok())
    async with client_for(script, timeout=5) as client:
        with pytest.raises(errors.RateLimitedError, match=r"HTTP 429.*86400s.*10s"):
            await client.execute(q.VERSION)
    assert sleeps == []  # refused at once, not slept


async def test_a_retry_after_within_the_deadline_is_honoured(sleeps: list[float]) -> None:
    script = Script(status(429, **{"Retry-After": "7"}), ok())
    async with client_for(script, timeout=5) as client:
        await client.execute(q.VERSION)
    assert sleeps == [7.0]


async def test_429_with_a_tiny_retry_after_really_waits(mock_app: MockDagster) -> None:
    mock_app.fail_next(429, retry_after=0.2)
    async with mock_app.client() as client:
        started = time.perf_counter()
        await client.execute(q.VERSION)
    assert time.perf_counter() - started >= 0.2
    assert [r.status for r in mock_app.requests] == [429, 200]


async def test_client_errors_are_not_retried(sleeps: list[float]) -> None:
    script = Script(ok({"errors": [{"message": "Cannot query field 'nope'"}]}, status=400))
    async with client_for(script) as client:
        with pytest.raises(errors.GraphQLError):
            await client.execute(q.VERSION)
    assert len(script.requests) == 1


# -- mutations are re-sent only when they surely never arrived -----------------------------------


async def test_mutation_is_not_resent_after_a_read_timeout(sleeps: list[float]) -> None:
    script = Script(httpx.ReadTimeout("timed out"), ok({"data": {"launchRun": {}}}))
    async with client_for(script) as client:
        with pytest.raises(errors.RequestTimeoutError):
            await client.execute(q.LAUNCH_RUN, LAUNCH_VARS)
    assert len(script.requests) == 1


@pytest.mark.parametrize("code", [502, 503, 504])
async def test_mutation_is_not_resent_after_a_gateway_error(code: int, sleeps: list[float]) -> None:
    script = Script(status(code), ok({"data": {"launchRun": {}}}))
    async with client_for(script) as client:
        with pytest.raises(errors.ServerError):
            await client.execute(q.LAUNCH_RUN, LAUNCH_VARS)
    assert len(script.requests) == 1


async def test_mutation_is_not_resent_after_a_dropped_connection(sleeps: list[float]) -> None:
    script = Script(httpx.RemoteProtocolError("Server disconnected"), ok())
    async with client_for(script) as client:
        with pytest.raises(errors.UnreachableError, match="Lost the connection"):
            await client.execute(q.LAUNCH_RUN, LAUNCH_VARS)
    assert len(script.requests) == 1


async def test_mutation_is_resent_after_a_connect_error(sleeps: list[float]) -> None:
    launched = {"data": {"launchRun": {"__typename": "LaunchRunSuccess"}}}
    script = Script(connect_error(), ok(launched))
    async with client_for(script) as client:
        assert await client.execute(q.LAUNCH_RUN, LAUNCH_VARS) == launched["data"]
    assert len(script.requests) == 2


async def test_mutation_is_resent_after_429(sleeps: list[float]) -> None:
    script = Script(status(429, **{"Retry-After": "0"}), ok({"data": {"launchRun": {}}}))
    async with client_for(script) as client:
        await client.execute(q.LAUNCH_RUN, LAUNCH_VARS)
    assert len(script.requests) == 2


async def test_string_documents_starting_with_mutation_count_as_mutations(
    sleeps: list[float],
) -> None:
    script = Script(status(502), ok())
    async with client_for(script) as client:
        with pytest.raises(errors.ServerError):
            await client.execute("mutation M { setNuxSeen }")
    assert len(script.requests) == 1


async def test_gateway_error_before_the_launch_creates_no_run_and_no_resend(
    mock_app: MockDagster,
) -> None:
    mock_app.fail_next(502, operation="launchRun")
    async with mock_app.client() as client:
        with pytest.raises(errors.ServerError):
            await client.execute(q.LAUNCH_RUN, LAUNCH_VARS)
    assert mock_app.operations == ["DaglabLaunchRun"]
    assert mock_app.runs == []


async def test_lost_launch_response_is_not_resent(mock_dagster: MockDagster) -> None:
    mock_dagster.lose_response("launchRun", mode="drop")
    async with DagsterClient(mock_dagster.url, backoff_base=0.01) as client:
        with pytest.raises(errors.ServerError):
            await client.execute(q.LAUNCH_RUN, LAUNCH_VARS)
    assert mock_dagster.operations == ["DaglabLaunchRun"]
    assert len(mock_dagster.runs) == 1


# -- timeouts ------------------------------------------------------------------------------------


async def test_per_request_timeout(mock_dagster: MockDagster) -> None:
    mock_dagster.set_latency(3.0)
    async with DagsterClient(mock_dagster.url, timeout=0.3, max_retries=0) as client:
        started = time.perf_counter()
        with pytest.raises(errors.RequestTimeoutError) as caught:
            await client.execute(q.VERSION)
    assert time.perf_counter() - started < 2.5
    assert "did not answer within 0.3s" in caught.value.message
    assert caught.value.hint and "http_timeout=" in str(caught.value)


async def test_query_timeouts_are_retried(sleeps: list[float]) -> None:
    script = Script(httpx.ReadTimeout("timed out"), ok())
    async with client_for(script) as client:
        await client.execute(q.VERSION)
    assert len(script.requests) == 2


def test_timeout_is_configured_on_the_http_client() -> None:
    client = DagsterClient("http://dagster.test", timeout=7.0)
    assert client._http.timeout.read == 7.0
    assert client._http.timeout.connect == 7.0


# -- what comes back -----------------------------------------------------------------------------


async def test_non_json_body_is_a_bad_response_with_a_clear_message() -> None:
    html = "<html><body><h1>Sign in</h1></body></html>"
    script = Script(httpx.Response(200, text=html, headers={"content-type": "text/html"}))
    async with client_for(script) as client:
        with pytest.raises(errors.BadResponseError) as caught:
            await client.execute(q.VERSION)
    assert "answered HTTP 200 with text/html, not GraphQL JSON" in caught.value.message
    assert caught.value.hint and "proxy" in caught.value.hint
    assert caught.value.exit_code == errors.EXIT_SERVER


async def test_html_from_the_mock_is_a_bad_response(mock_app: MockDagster) -> None:
    mock_app.html_next(status=200)
    async with mock_app.client() as client:
        with pytest.raises(errors.BadResponseError):
            await client.execute(q.VERSION)


async def test_json_that_is_not_an_object_is_a_bad_response() -> None:
    script = Script(httpx.Response(200, json=[1, 2]))
    async with client_for(script) as client:
        with pytest.raises(errors.BadResponseError):
            await client.execute(q.VERSION)


async def test_graphql_errors_raise_graphql_error() -> None:
    payload = {"data": None, "errors": [{"message": "Cannot query field 'isSource'"}]}
    script = Script(ok(payload, status=400))
    async with client_for(script) as client:
        with pytest.raises(errors.GraphQLError) as caught:
            await client.execute(q.VERSION)
    assert "Cannot query field 'isSource'" in caught.value.message
    assert caught.value.errors == payload["errors"]


async def test_invalid_document_on_the_mock_is_graphql_error(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        with pytest.raises(errors.GraphQLError, match="HTTP 400"):
            await client.execute("query Bad { nope }")


async def test_not_found_names_the_graphql_url() -> None:
    script = Script(httpx.Response(404, json={"detail": "Not Found"}))
    async with client_for(script, url="https://host/dagster") as client:
        with pytest.raises(errors.HTTPStatusError) as caught:
            await client.execute(q.VERSION)
    assert "https://host/dagster/graphql" in caught.value.message


async def test_redirects_are_not_followed() -> None:
    script = Script(httpx.Response(302, headers={"location": "https://login.example.com/"}))
    async with client_for(script) as client:
        with pytest.raises(errors.HTTPStatusError, match=r"login\.example\.com"):
            await client.execute(q.VERSION)
    assert len(script.requests) == 1


# -- auth errors ---------------------------------------------------------------------------------

TOKEN = "tok_3f9a8b7c6d5e4f3a2b1c"


def bearer(source: str = "flag --auth-token") -> AuthConfig:
    return AuthConfig(type="bearer", token=SecretStr(TOKEN), source=source)


@pytest.mark.parametrize("code", [401, 403])
async def test_401_and_403_are_auth_errors_naming_the_source_not_the_token(code: int) -> None:
    script = Script(httpx.Response(code, text=f"bad token {TOKEN}"))
    async with client_for(script, auth=bearer()) as client:
        with pytest.raises(errors.AuthError) as caught:
            await client.execute(q.VERSION)
    text = str(caught.value)
    assert caught.value.exit_code == errors.EXIT_AUTH
    assert "flag --auth-token" in text
    assert TOKEN not in text and TOKEN[-6:] not in text
    assert TOKEN not in repr(caught.value)


async def test_401_without_credentials_says_none_were_sent() -> None:
    script = Script(httpx.Response(401))
    async with client_for(script) as client:
        with pytest.raises(errors.AuthError, match="none"):
            await client.execute(q.VERSION)


async def test_401_from_the_mock(mock_app: MockDagster) -> None:
    mock_app.require_bearer("the-right-one")
    async with mock_app.client(auth=bearer("env DAGLAB_TOKEN")) as client:
        with pytest.raises(errors.AuthError, match="env DAGLAB_TOKEN"):
            await client.execute(q.VERSION)
    assert mock_app.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


async def test_401_is_not_retried(sleeps: list[float]) -> None:
    script = Script(httpx.Response(401))
    async with client_for(script) as client:
        with pytest.raises(errors.AuthError):
            await client.execute(q.VERSION)
    assert len(script.requests) == 1


async def test_a_token_echoed_in_a_graphql_error_is_redacted() -> None:
    payload = {"errors": [{"message": f"token {TOKEN} is not allowed"}]}
    script = Script(ok(payload))
    async with client_for(script, auth=bearer()) as client:
        with pytest.raises(errors.GraphQLError) as caught:
            await client.execute(q.VERSION)
    assert TOKEN not in caught.value.message
    assert "***" in caught.value.message


def test_client_repr_hides_the_token() -> None:
    client = DagsterClient("http://dagster.test", auth=bearer())
    assert TOKEN not in repr(client)


# -- check_union ---------------------------------------------------------------------------------


def test_check_union_passes_the_expected_member() -> None:
    payload = {"__typename": "Run", "runId": "r"}
    assert check_union(payload, "Run", "reading the run") is payload
    assert check_union(payload, ["Run", "Runs"], "reading the run") is payload


def test_check_union_python_error() -> None:
    payload = {"__typename": "PythonError", "message": "boom", "className": "KeyError"}
    with pytest.raises(errors.DagsterPythonError) as caught:
        check_union(payload, "Run", "reading the run")
    assert caught.value.class_name == "KeyError"
    assert "boom" in caught.value.message
    assert caught.value.exit_code == errors.EXIT_SERVER


def test_check_union_unauthorized_error_is_an_auth_error() -> None:
    payload = {"__typename": "UnauthorizedError", "message": "not allowed to launch"}
    with pytest.raises(errors.AuthError, match="not allowed to launch") as caught:
        check_union(payload, "LaunchRunSuccess", "launching the run")
    assert caught.value.exit_code == errors.EXIT_AUTH


def test_check_union_other_member_is_a_server_error_naming_it() -> None:
    payload = {"__typename": "RunNotFoundError", "message": "Run r could not be found."}
    with pytest.raises(errors.ServerError, match="RunNotFoundError"):
        check_union(payload, "Run", "reading the run")


def test_check_union_missing_payload() -> None:
    with pytest.raises(errors.BadResponseError):
        check_union(None, "Run", "reading the run")


async def test_check_union_on_forced_unions_from_the_mock(mock_app: MockDagster) -> None:
    mock_app.union_error("launchRun", "PythonError", "kaboom", class_name="DagsterError")
    mock_app.union_error("terminateRun", "UnauthorizedError", "read-only")
    async with mock_app.client() as client:
        launched = await client.execute(q.LAUNCH_RUN, LAUNCH_VARS)
        terminated = await client.execute(q.TERMINATE_RUN, {"runId": "r"})
    with pytest.raises(errors.DagsterPythonError, match="kaboom"):
        check_union(launched["launchRun"], "LaunchRunSuccess", "launching")
    with pytest.raises(errors.AuthError, match="read-only"):
        check_union(terminated["terminateRun"], "TerminateRunSuccess", "terminating")


# -- URLs and request shape ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://host/dagster", "/dagster/graphql"),
        ("https://host/dagster/", "/dagster/graphql"),
        ("https://host/dagster/graphql", "/dagster/graphql"),
        ("https://org.dagster.cloud/prod", "/prod/graphql"),
        ("http://localhost:3000", "/graphql"),
    ],
)
async def test_graphql_endpoint_is_url_plus_graphql(url: str, path: str) -> None:
    script = Script(ok())
    async with client_for(script, url=url) as client:
        await client.execute(q.VERSION)
    assert script.requests[0].url.path == path
    assert script.requests[0].method == "POST"


async def test_prefixed_url_against_the_mock() -> None:
    mock = MockDagster(prefix="/dagster")
    async with DagsterClient(mock.url, transport=mock.transport()) as client:
        assert (await client.execute(q.VERSION))["version"]
    assert mock.requests[0].path == "/dagster/graphql"


def test_host_and_port_make_the_url() -> None:
    assert DagsterClient(host="dagster.internal", port=8080).url == "http://dagster.internal:8080"
    assert DagsterClient().url == "http://localhost:3000"


def test_a_bad_url_is_bad_input() -> None:
    with pytest.raises(errors.BadInputError):
        DagsterClient("ftp://host")


async def test_variables_are_sent_as_variables_not_in_the_text() -> None:
    script = Script(ok({"data": {"runOrError": {}}}))
    sneaky = 'x" } } mutation { terminateRun(runId: "y'
    async with client_for(script) as client:
        await client.execute(q.RUN, {"runId": sneaky})
    body = script.bodies()[0]
    assert body["variables"] == {"runId": sneaky}
    assert body["query"] == q.RUN.text
    assert body["operationName"] == "DaglabRun"


async def test_user_agent_names_daglab(mock_app: MockDagster) -> None:
    async with mock_app.client() as client:
        await client.execute(q.VERSION)
    assert mock_app.requests[0].headers["user-agent"].startswith("daglab/")


async def test_custom_headers_are_sent(mock_app: MockDagster) -> None:
    auth = AuthConfig(custom_headers={"X-Team": SecretStr("data")}, source="flag --header")
    async with mock_app.client(auth=auth) as client:
        await client.execute(q.VERSION)
    assert mock_app.requests[0].headers["x-team"] == "data"


# -- version -------------------------------------------------------------------------------------


async def test_server_version_is_read_once_and_cached() -> None:
    script = Script(ok())
    async with client_for(script) as client:
        assert await client.server_version() == "1.9.13"
        assert await client.server_version() == "1.9.13"
        assert await client.version_tuple() == (1, 9)
    assert len(script.requests) == 1


async def test_concurrent_version_reads_send_one_request() -> None:
    import asyncio

    script = Script(ok())
    async with client_for(script) as client:
        versions = await asyncio.gather(*(client.server_version() for _ in range(5)))
    assert set(versions) == {"1.9.13"}
    assert len(script.requests) == 1


async def test_version_from_the_mock(mock_app: MockDagster) -> None:
    mock_app.config.version = "1.10.21"
    async with mock_app.client() as client:
        assert await client.version_tuple() == (1, 10)
    assert mock_app.operations == ["DaglabVersion"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.7.16", (1, 7)), ("1.13.29", (1, 13)), ("1!0+dev", (1, 13)), ("", (1, 13))],
)
def test_parse_version(text: str, expected: tuple[int, int]) -> None:
    assert parse_version(text) == expected
