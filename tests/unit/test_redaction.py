"""The sentinel sweep: a secret given to daglab never comes out again.

Every registered command (found by walking the typer app, so new commands are swept too)
runs with ``--verbose`` against the mock on the success path and on failure paths (401,
unreachable, an HTML page, a server that echoes the secret back, bad profiles), with the
sentinel placed as a token, a password, a custom header value, a profile token, an OAuth2
client secret and a token command's output. Nothing it prints on stdout or stderr, no log
record, and no file it writes may contain the sentinel. Reprs of the config objects and the
text of the errors are checked too.

Commands run in-process (``daglab.cli.main``) for speed; the secret registry is emptied
before each run, as in a fresh process. A few runs go through a real subprocess as well.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer

from daglab import cli
from daglab.commands import _options
from daglab.harness.mock import MockDagster
from daglab.helpers import auth as auth_mod
from daglab.helpers.auth import DAGSTER_CLOUD_HEADER, AuthConfig, HeaderAuth, TokenManager
from daglab.helpers.auth import secrets as auth_secrets
from daglab.helpers.config import resolve_connection
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.queries import VERSION
from tests.conftest import isolated_env, run_cli

SENTINEL = "SeNtInEl-7f3a9c-Do-Not-Print"
USER = "sweep-user"
ENCODINGS = (
    SENTINEL,
    base64.b64encode(f"{USER}:{SENTINEL}".encode()).decode(),  # inside a Basic header
    SENTINEL[4:-4],  # a slice: nothing partially masked either
)
RUN_ID = "00000000-0000-4000-8000-000000000000"
# Commands that would start long-lived processes; `dev status` and `dev down` are swept.
NOT_SWEPT = {("dev", "up")}
GLOBAL_FLAGS = {"--url", "--auth-token", "--verbose"}


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(command, "list_commands"):
        for name in command.list_commands(None):
            yield from _walk(command.get_command(None, name), (*path, name))
    else:
        yield path, command


def registered_commands() -> list[tuple[tuple[str, ...], Any]]:
    """Every leaf command of the daglab app, as (path, click command)."""
    return [(p, c) for p, c in _walk(typer.main.get_command(cli.app), ()) if p not in NOT_SWEPT]


COMMANDS = registered_commands()


def command_args(path: tuple[str, ...], command: Any, tmp_path: Path) -> list[str]:
    """Arguments that get ``command`` past its own usage checks, to where it connects."""
    known: dict[tuple[str, ...], list[str]] = {
        ("run",): ["--job", "orders_job"],
        ("watch",): [RUN_ID],
        ("cancel",): [RUN_ID],
        ("notebook", "create"): [str(tmp_path / "work" / "out.ipynb"), "--template", "explore"],
        ("auth", "login"): ["--with-token"],
    }
    if path in known:
        return known[path]
    args: list[str] = []
    for param in command.params:  # a new command: fill its required parameters
        if not param.required:
            continue
        if param.param_type_name == "argument":
            args.append("placeholder")
        else:
            args += [param.opts[0], "placeholder"]
    return args


def accepts(command: Any, flag: str) -> bool:
    return any(flag in p.opts for p in command.params)


# -- where the sentinel goes -----------------------------------------------------------------


@dataclass
class Placement:
    name: str
    flags: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    profile: str | None = None  # the [profiles.p.auth] table body

    def require(self, mock: MockDagster) -> None:
        """Make the mock accept exactly this credential."""
        if self.name in ("flag-basic", "env-password", "profile-basic"):
            mock.require_basic(USER, SENTINEL)
        elif self.name in ("flag-header", "profile-header"):
            mock.require_header("X-Custom-Secret", SENTINEL)
        elif self.name == "env-dagster-cloud":
            mock.require_header(DAGSTER_CLOUD_HEADER, SENTINEL)
        elif self.name == "profile-oauth":
            mock.add_oauth_client("sweep", SENTINEL)
        else:
            mock.require_bearer(SENTINEL)


def placements(token_command: list[str], token_url: str) -> list[Placement]:
    return [
        Placement("flag-token", flags=["--auth-token", SENTINEL]),
        Placement(
            "flag-basic", flags=["--auth-type", "basic", "--auth-token", f"{USER}:{SENTINEL}"]
        ),
        Placement("flag-header", flags=["--header", f"X-Custom-Secret={SENTINEL}"]),
        Placement("env-token", env={"DAGLAB_TOKEN": SENTINEL}),
        Placement("env-password", env={"DAGLAB_USERNAME": USER, "DAGLAB_PASSWORD": SENTINEL}),
        Placement("env-dagster-cloud", env={"DAGSTER_CLOUD_API_TOKEN": SENTINEL}),
        Placement("profile-token", profile=f'token = "{SENTINEL}"'),
        Placement(
            "profile-basic", profile=f'type = "basic"\nusername = "{USER}"\npassword = "{SENTINEL}"'
        ),
        Placement(
            "profile-header",
            profile=f'[profiles.p.auth.headers]\n"X-Custom-Secret" = "{SENTINEL}"',
        ),
        Placement("profile-token-command", profile=f"token_command = {json.dumps(token_command)}"),
        Placement(
            "profile-oauth",
            profile=f'token_url = "{token_url}"\nclient_id = "sweep"\nclient_secret = "{SENTINEL}"',
        ),
    ]


# -- running daglab in-process ---------------------------------------------------------------


@dataclass
class Outcome:
    code: int | str | None
    out: str
    err: str
    logs: str
    files: str

    def leaks(self) -> list[str]:
        where = []
        for name in ("out", "err", "logs", "files"):
            text = getattr(self, name)
            if any(secret in text for secret in ENCODINGS):
                where.append(name)
        return where


class Sweep:
    def __init__(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.caplog = caplog
        self.work = tmp_path / "work"
        self.work.mkdir()
        self.config = tmp_path / "config" / "daglab" / "config.toml"
        self.leaked: list[str] = []
        self.runs = 0

    def write_profile(self, url: str, table: str | None, extra: str = "") -> None:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        text = f'[profiles.p]\nurl = "{url}"\n{extra}'
        if table is not None:
            text += f"\n[profiles.p.auth]\n{table}\n"
        self.config.write_text(text)
        self.config.chmod(0o600)

    def run(self, label: str, argv: list[str], env: dict[str, str], stdin: str = "") -> Outcome:
        auth_secrets._registry.clear()  # a fresh process knows no secrets yet
        auth_secrets._warned_paths.clear()
        auth_mod.reset_token_managers()
        base = isolated_env(self.tmp_path, DAGLAB_KEYRING="0")
        with self.monkeypatch.context() as m:
            for key in list(os.environ):
                if key.startswith(("DAGLAB_", "DAGSTER_CLOUD")):
                    m.delenv(key, raising=False)
            for key, value in {**base, **env}.items():
                m.setenv(key, value)
            m.chdir(self.work)
            m.setattr(sys, "stdin", io.StringIO(stdin))
            self.caplog.clear()
            try:
                cli.main(argv)
                code: int | str | None = 0
            except SystemExit as exc:
                code = exc.code
        captured = self.capsys.readouterr()
        logs = "\n".join(
            r.getMessage() + (repr(r.exc_info[1]) if r.exc_info else "")
            for r in self.caplog.records
        )
        files = "\n".join(
            p.read_text(errors="replace") for p in self.work.rglob("*") if p.is_file()
        )
        outcome = Outcome(code, captured.out, captured.err, logs, files)
        self.runs += 1
        if outcome.leaks():
            self.leaked.append(f"{label}: exit {code}, in {outcome.leaks()}")
        return outcome


@pytest.fixture
def sweep(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Sweep]:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(DagsterClient, "_backoff", lambda self, attempt: 0.0)
    yield Sweep(tmp_path, monkeypatch, capsys, caplog)
    logging.getLogger("daglab").handlers.clear()


def token_command(tmp_path: Path) -> list[str]:
    script = tmp_path / "print_token.py"
    script.write_text(f"print({SENTINEL!r})\n")
    return [sys.executable, str(script)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ECHO_BODY = json.dumps(
    {
        "errors": [
            {"message": f"invalid header Authorization: Bearer {SENTINEL}"},
            {"message": f"X-Custom-Secret={SENTINEL} password={SENTINEL}"},
        ]
    }
)
# Every placement meets the success path (--verbose logs each request's headers) and a
# server that echoes the secret back; the other failure paths take turns among placements.
EVERY_PLACEMENT = ("ok", "echo")
TAKING_TURNS = ("ok-json", "401", "unreachable", "html")


def set_up_failure(mock: MockDagster, placement: Placement, failure: str) -> str:
    """Arrange the mock for ``failure``; return the URL daglab should use."""
    mock.reset()
    if failure == "401":
        mock.require_bearer("a-token-daglab-does-not-have")
        return mock.url
    placement.require(mock)
    if failure == "unreachable":
        return f"http://127.0.0.1:{closed_port()}"
    if failure == "html":
        mock.html_next(n=None, status=200)
    elif failure == "echo":
        mock.fail_next(400, n=None, body=ECHO_BODY)
    return mock.url


SUCCEED_WHEN_AUTHENTICATED = {("status",), ("discover",), ("auth", "status")}


def plan(index: int, every: list[Placement]) -> list[tuple[Placement, str]]:
    """(placement, failure) pairs for the command at ``index`` of the sweep."""
    pairs = [(p, f) for p in every for f in EVERY_PLACEMENT]
    for k, failure in enumerate(TAKING_TURNS):
        for turn in range(2):
            pairs.append((every[(index * 3 + k * 2 + turn) % len(every)], failure))
    return pairs


@pytest.mark.parametrize(
    ("index", "path", "command"),
    [(i, p, c) for i, (p, c) in enumerate(COMMANDS)],
    ids=[" ".join(p) for p, _ in COMMANDS],
)
def test_sentinel_never_leaves_any_command(
    sweep: Sweep, mock_dagster: MockDagster, index: int, path: tuple[str, ...], command: Any
) -> None:
    args = [*path, *command_args(path, command, sweep.tmp_path)]
    connects = accepts(command, "--url")
    verbose = ["--verbose"] if accepts(command, "--verbose") else []
    every = [
        p
        for p in placements(token_command(sweep.tmp_path), mock_dagster.token_url)
        if connects or not p.flags
    ]
    talks_to_server = True
    for placement, failure in plan(index, every):
        if failure != "ok" and not talks_to_server:
            continue  # a command that never calls the server has no failure paths
        url = set_up_failure(mock_dagster, placement, failure)
        env = dict(placement.env)
        argv = [*args, *verbose, *placement.flags]
        if connects and placement.profile is None:
            argv += ["--url", url]
        if placement.profile is not None:
            sweep.write_profile(url, placement.profile)
            env["DAGLAB_PROFILE"] = "p"
        elif sweep.config.exists():
            sweep.config.unlink()
        if failure == "ok-json" and accepts(command, "--json"):
            argv.append("--json")
        stdin = SENTINEL + "\n" if path == ("auth", "login") else ""
        outcome = sweep.run(f"{placement.name}/{failure}", argv, env, stdin)
        if failure == "ok" and placement is every[0]:
            talks_to_server = bool(mock_dagster.requests)
        if failure == "ok" and path in SUCCEED_WHEN_AUTHENTICATED:
            assert outcome.code == 0, f"{placement.name}: {outcome.err}"  # the secret was used
    assert sweep.runs > 0
    assert not sweep.leaked, "the sentinel leaked:\n" + "\n".join(sweep.leaked)


BAD_PROFILES = {
    "scheme": ('url = "ftp://dagster.example.com"', f'token = "{SENTINEL}"'),
    "credentials in url": (f'url = "http://{USER}:{SENTINEL}@127.0.0.1:9"', None),
    "unknown auth key": ('url = "http://127.0.0.1:9"', f'tokken = "{SENTINEL}"'),
    "bad auth type": ('url = "http://127.0.0.1:9"', f'type = "{SENTINEL}"'),
    "header with newline": ('url = "http://127.0.0.1:9"', f'token = "{SENTINEL}\\nX: y"'),
    "token_command fails": (
        'url = "http://127.0.0.1:9"',
        f'token_command = ["{sys.executable}", "-c", "print(\'{SENTINEL}\'); exit(1)"]',
    ),
    "auth not a table": (f'url = "http://127.0.0.1:9"\nauth = "{SENTINEL}"', None),
}


@pytest.mark.parametrize("case", sorted(BAD_PROFILES))
def test_bad_profiles_do_not_echo_the_secret(sweep: Sweep, case: str) -> None:
    url_line, table = BAD_PROFILES[case]
    sweep.config.parent.mkdir(parents=True, exist_ok=True)
    text = f"[profiles.p]\n{url_line}\n"
    if table is not None:
        text += f"[profiles.p.auth]\n{table}\n"
    sweep.config.write_text(text)
    for path, command in COMMANDS:
        if not accepts(command, "--profile"):
            continue
        argv = [*path, *command_args(path, command, sweep.tmp_path), "--verbose"]
        sweep.run(f"{' '.join(path)}/{case}", argv, {"DAGLAB_PROFILE": "p"})
    missing = sweep.run("status/unknown profile", ["status", "--profile", "nope"], {})
    assert missing.code == 2
    assert not sweep.leaked, "the sentinel leaked:\n" + "\n".join(sweep.leaked)


def test_warning_about_a_readable_config_names_the_file_not_the_secret(sweep: Sweep) -> None:
    sweep.write_profile("http://127.0.0.1:9", f'token = "{SENTINEL}"')
    sweep.config.chmod(0o644)
    outcome = sweep.run("status", ["status", "--http-timeout", "1"], {"DAGLAB_PROFILE": "p"})
    assert "readable by other users" in outcome.err
    assert not sweep.leaked


# -- the same through a real process ---------------------------------------------------------


@pytest.mark.parametrize("failure", ["ok", "401", "echo"])
def test_subprocess_verbose_status_never_prints_the_sentinel(
    mock_dagster: MockDagster, tmp_path: Path, failure: str
) -> None:
    placement = Placement("flag-header", flags=["--header", f"X-Custom-Secret={SENTINEL}"])
    url = set_up_failure(mock_dagster, placement, failure)
    env = isolated_env(tmp_path, DAGLAB_TOKEN=SENTINEL + "-env", DAGLAB_KEYRING="0")
    result = run_cli("status", "--verbose", "--url", url, *placement.flags, env=env)
    assert SENTINEL not in result.stdout + result.stderr
    if failure == "ok":
        assert result.returncode == 0, result.stderr
        assert "'x-custom-secret': '***'" in result.stderr.lower()  # logged, value masked


# -- reprs and exception text ----------------------------------------------------------------


def all_kinds_of_config() -> list[AuthConfig]:
    return [
        AuthConfig(token=SENTINEL),  # type: ignore[arg-type]
        AuthConfig(type="basic", username=USER, password=SENTINEL),  # type: ignore[arg-type]
        AuthConfig(type="header", header_name="X-K", token=SENTINEL),  # type: ignore[arg-type]
        AuthConfig(custom_headers={"X-Custom-Secret": SENTINEL}),  # type: ignore[dict-item]
        AuthConfig(token_url="https://idp.example/token", client_id="c", client_secret=SENTINEL),  # type: ignore[arg-type]
    ]


def test_reprs_and_dumps_of_config_objects_hide_the_secret(tmp_path: Path) -> None:
    for config in all_kinds_of_config():
        texts = [
            repr(config),
            str(config),
            config.model_dump_json(),
            json.dumps(config.model_dump(mode="json")),
            repr(HeaderAuth(config)),
            repr(TokenManager(config)),
            config.describe(),
        ]
        settings = resolve_connection(env={"XDG_CONFIG_HOME": str(tmp_path)})
        settings = type(settings)(url="http://x", url_source="test", auth=config)
        texts += [repr(settings), str(settings)]
        client = DagsterClient("http://127.0.0.1:9", auth=config)
        texts.append(repr(client))
        for text in texts:
            assert not any(s in text for s in ENCODINGS), text


def test_a_cached_token_repr_is_masked() -> None:
    cached = auth_mod.CachedToken(SENTINEL, None, 0.0)
    assert SENTINEL not in repr(cached)


async def test_error_text_from_an_echoing_server_is_redacted(mock_app: MockDagster) -> None:
    mock_app.require_bearer(SENTINEL)
    mock_app.fail_next(400, n=None, body=ECHO_BODY)
    from daglab.helpers.errors import DaglabError

    config = AuthConfig(token=SENTINEL)  # type: ignore[arg-type]
    async with DagsterClient(mock_app.url, auth=config, transport=mock_app.transport()) as client:
        with pytest.raises(DaglabError) as info:
            await client.execute(VERSION)
    assert SENTINEL not in str(info.value)
    assert SENTINEL not in repr(info.value)


def test_scrub_exception_masks_chained_exceptions() -> None:
    auth_mod.register_secret(SENTINEL)
    try:
        try:
            raise ValueError(f"inner {SENTINEL}")
        except ValueError as inner:
            raise RuntimeError(f"outer {SENTINEL}") from inner
    except RuntimeError as exc:
        auth_mod.scrub_exception(exc)
        assert SENTINEL not in str(exc) and SENTINEL not in str(exc.__cause__)


def test_log_filter_masks_registered_secrets(caplog: pytest.LogCaptureFixture) -> None:
    auth_mod.register_secret(SENTINEL)
    _options.setup_logging(True)
    try:
        with caplog.at_level(logging.DEBUG, logger="daglab"):
            logging.getLogger("daglab.test").debug("header %s", SENTINEL)
        assert all(SENTINEL not in r.getMessage() for r in caplog.records)
    finally:
        logging.getLogger("daglab").handlers.clear()


# -- server text on the terminal -------------------------------------------------------------


def test_escape_sequences_from_the_server_never_reach_the_terminal(
    sweep: Sweep, mock_dagster: MockDagster
) -> None:
    hostile = "\x1b[2J\x1b]8;;http://evil.example\x07click me\x1b]8;;\x07 \x9b31mboom\x07\u202e"
    mock_dagster.union_error("workspaceOrError", "PythonError", hostile)
    outcome = sweep.run("status", ["status", "--url", mock_dagster.url], {})
    assert outcome.code == 3
    assert "click me" in outcome.err and "boom" in outcome.err
    for unsafe in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert unsafe not in outcome.out + outcome.err
