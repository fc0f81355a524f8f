"""Library messages name settings (``http_timeout=``), never CLI flags: ``str(exc)`` spells
each setting as the keyword a notebook user passes; the CLI spells it as its flag."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from daglab.helpers.auth import AuthConfig, resolve_auth
from daglab.helpers.config import resolve_connection
from daglab.helpers.errors import DaglabError
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.selection import validate_asset_selection


def client_answering(handler: Callable[[httpx.Request], httpx.Response]) -> DagsterClient:
    return DagsterClient(
        "http://dagster.test",
        auth=AuthConfig(token="setting-token-1"),  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),
        max_retries=0,
    )


def raising(exc: type[Exception]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc("no", request=request)  # type: ignore[call-arg]

    return handler


@pytest.mark.parametrize(
    "handler, expected",
    [
        (raising(httpx.ReadTimeout), "Raise http_timeout= if the server is just slow."),
        (raising(httpx.ConnectError), "(url=, DAGLAB_URL)"),
        (lambda r: httpx.Response(401), "Check the token (auth_token=, DAGLAB_TOKEN"),
        (
            lambda r: httpx.Response(302, headers={"location": "http://elsewhere/"}),
            "Use the final URL as url=.",
        ),
    ],
    ids=["timeout", "unreachable", "401", "redirect"],
)
async def test_client_hints_name_settings(
    handler: Callable[[httpx.Request], httpx.Response], expected: str
) -> None:
    async with client_answering(handler) as client:
        with pytest.raises(DaglabError) as info:
            await client.server_version()
    assert expected in str(info.value)
    assert "--" not in str(info.value)


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda env: resolve_connection(http_timeout=-1, env=env), "http_timeout= must be"),
        (lambda env: resolve_connection(port=70000, env=env), "port= must be between"),
        (lambda env: resolve_connection(host="http://x", env=env), "use url= for a full URL"),
        (lambda env: resolve_connection(url="ftp://x", env=env), "The Dagster URL from url="),
        (lambda env: resolve_auth(headers=["no-equals"], env=env), "headers= takes NAME=VALUE"),
        (lambda env: resolve_auth(auth_type="magic", env=env), "auth_type= must be"),
        (
            lambda env: resolve_auth(token="nocolon", auth_type="basic", env=env),
            "With auth_type= basic, auth_token= takes USER:PASSWORD.",
        ),
        (lambda env: validate_asset_selection("orders/*", "keys"), "(use pattern=)"),
    ],
    ids=["http_timeout", "port", "host", "url", "headers", "auth_type", "basic", "pattern"],
)
def test_resolution_messages_name_settings(
    call: Callable[[dict[str, str]], object], expected: str, tmp_path: Path
) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path), "DAGLAB_KEYRING": "0"}
    with pytest.raises(DaglabError) as info:
        call(env)
    assert expected in str(info.value)
    assert "--" not in str(info.value)


def test_a_call_in_a_hint_is_the_library_call_or_the_command_that_does_it() -> None:
    from daglab.commands._options import cli_spelling
    from daglab.helpers.errors import BadInputError, call

    exc = BadInputError(
        "Backfill b is CANCELED.",
        hint=f"Launch the rest: {call('backfill', asset_selection=['ops/days'], partitions=['2024-03-02', '2024-03-03'])}.",
    )
    assert str(exc).splitlines()[1] == (
        "Launch the rest: backfill(asset_selection=['ops/days'], "
        "partitions=['2024-03-02', '2024-03-03'])."
    )
    assert exc.render(cli_spelling)[1] == (
        "Launch the rest: `daglab run --asset-selection ops/days --partitions 2024-03-02,2024-03-03`."
    )
    job = call("backfill", job="daily_job", asset_selection=None, partitions=["a"])
    assert BadInputError("x", hint=job).render(cli_spelling)[1] == (
        "`daglab run --job daily_job --partitions a`"
    )


def test_bad_config_text_is_named_by_its_setting() -> None:
    from daglab.commands._options import cli_spelling
    from daglab.helpers.checks import parse_config_yaml
    from daglab.helpers.errors import ConfigFileError

    with pytest.raises(ConfigFileError) as caught:
        parse_config_yaml("ops: [")
    assert "Cannot parse the run config in config_yaml=, line 1" in str(caught.value)
    message, _ = caught.value.render(cli_spelling)
    assert "Cannot parse the run config in --config-yaml, line 1" in message
