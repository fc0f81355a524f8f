"""Every string the server sends is made safe before it reaches the terminal, whatever the
command: the mock's answers, each string in them poisoned with escape sequences, an OSC 8
link, BEL, C1 controls and a bidi override, go through every command that reads them, in
process; nothing of the poison may reach stdout or stderr, and no command may fail with a
Python error instead of a daglab one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import helpers_fakes
import httpx
import pytest

from daglab.harness.mock import MockDagster

fresh_session = helpers_fakes.fresh_session

POISON = "\x1b]8;;http://evil.example/\x07x\x1b]8;;\x07\x1b[2J\x9b31m\u202e\x07\x85\x08"
# What must never be shown raw: every C0 control but newline and tab (ESC, BEL, BS), DEL, C1
# (CSI, NEL), bidi overrides and marks. (A message may quote a server string as Python's repr
# does, escapes spelled out: that is text, not a sequence.)
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# Left as the server sent them, so that a command goes on far enough to show the rest:
# GraphQL type names, enum values (statuses, event types), opaque cursors and run ids.
KEEP_KEYS = frozenset({"__typename", "cursor", "runId", "id", "backfillId", "parentRunId"})
# Also left alone where a command sends them back to the server (``daglab run --job`` finds
# its target by name, ``daglab rerun`` re-sends the parent's config): the names of locations,
# repositories, jobs, asset keys' components, and a run's config.
NAMES = frozenset(
    {
        "name",
        "path",
        "jobName",
        "pipelineName",
        "jobNames",
        "repositoryName",
        "repositoryLocationName",
        "locationName",
        "runConfigYaml",
    }
)
ENUM = re.compile(r"[A-Z][A-Z0-9_]*")


def poison(value: Any, keep: frozenset[str], key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: poison(v, keep, k) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, keep, key) for v in value]
    if isinstance(value, str) and key not in keep and not ENUM.fullmatch(value):
        return value + POISON
    return value


class Poisoning(httpx.AsyncBaseTransport):
    """The mock's answers, every string in them poisoned but those under ``keep``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, keep: frozenset[str] = KEEP_KEYS) -> None:
        self.inner = inner
        self.keep = keep
        self.poisoned = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        try:
            document = json.loads(body)
        except ValueError:
            return httpx.Response(response.status_code, content=body)
        self.poisoned += 1
        return httpx.Response(
            response.status_code,
            json=poison(document, self.keep),
            headers={"content-type": "application/json"},
        )


@pytest.fixture
def mock(fresh_session: None) -> Iterator[MockDagster]:
    yield MockDagster()


def launched(capsys: pytest.CaptureFixture[str], mock: MockDagster, job: str) -> str:
    """A run of ``job`` that has ended, launched through the clean transport."""
    code, out, err = helpers_fakes.cli_in_process(
        capsys, mock.transport(), "run", "--job", job, "--json", "--url", mock.url
    )
    assert code in (0, 1), err
    return str(json.loads(out)["run_id"])


READING = [
    ("status",),
    ("discover",),
    ("discover", "--filter", "assets"),
    ("discover", "--filter", "jobs"),
    ("discover", "--filter", "locations"),
    ("watch", "{ok}"),
    ("watch", "{failed}"),
    ("runs", "list"),
    ("runs", "show", "{ok}"),
    ("runs", "show", "{failed}"),
    ("logs", "{failed}"),
    ("logs", "{failed}", "--stderr", "--step", "explode"),
    ("rerun", "{failed}", "--from-failure"),
    ("cancel", "{ok}"),
    ("backfills", "list"),
    ("assets", "status"),
    ("checks", "list"),
    ("schedules", "list"),
    ("sensors", "list"),
    ("reload", "--all"),
    ("auth", "status"),
]
# Commands that find their target by name first: the names stay, the rest is poisoned.
LAUNCHING = [
    ("run", "--job", "orders_job"),
    ("run", "--job", "failing_job"),
    ("run", "--asset-pattern", "orders/*"),
    ("run", "--job", "config_job", "--config-yaml", "ops: {process_rows: {config: {}}}"),
    (
        "run",
        "--job",
        "config_job",
        "--validate-only",
        "--config-yaml",
        "ops: {process_rows: {config: {rows: 3}}}",
    ),
    ("run", "--job", "orders_job", "--no-wait"),
    ("rerun", "{failed}", "--from-failure"),
    ("rerun", "{ok}", "--no-wait"),
]
WAITS = ("run", "watch", "rerun")


def sweep(
    capsys: pytest.CaptureFixture[str],
    mock: MockDagster,
    transport: Poisoning,
    commands: list[tuple[str, ...]],
    **runs: str,
) -> list[tuple[int, str]]:
    """Each command through ``transport``; nothing unsafe shown, no Python error. Each one's
    exit code and what it showed."""
    results = []
    for template in commands:
        args = [runs.get(a[1:-1], a) if a.startswith("{") else a for a in template]
        if args[0] in WAITS:
            args += ["--timeout", "20"]
        code, out, err = helpers_fakes.cli_in_process(capsys, transport, *args, "--url", mock.url)
        shown = out + err
        assert not UNSAFE.search(shown), (args, UNSAFE.findall(shown), shown[-2000:])
        assert "unexpected" not in err.lower(), (args, err)
        assert "Traceback" not in err, (args, err)
        assert code in (0, 1, 2, 3, 4), (args, code, err)
        results.append((code, shown))
    return results


@pytest.fixture
def runs(capsys: pytest.CaptureFixture[str], mock: MockDagster) -> dict[str, str]:
    """A run that succeeded and one that failed, launched through the clean transport."""
    return {
        "ok": launched(capsys, mock, "orders_job"),
        "failed": launched(capsys, mock, "failing_job"),
    }


def test_no_server_string_reaches_the_terminal_unsafe(
    capsys: pytest.CaptureFixture[str], mock: MockDagster, runs: dict[str, str]
) -> None:
    transport = Poisoning(mock.transport())
    codes = [code for code, _ in sweep(capsys, mock, transport, READING, **runs)]
    assert transport.poisoned > len(READING)
    assert codes.count(0) >= 10  # most commands got as far as showing what the server said


def test_no_server_string_reaches_the_terminal_unsafe_while_launching_and_watching(
    capsys: pytest.CaptureFixture[str], mock: MockDagster, runs: dict[str, str]
) -> None:
    before = len(mock.runs)
    transport = Poisoning(mock.transport(), KEEP_KEYS | NAMES)
    results = sweep(capsys, mock, transport, LAUNCHING, **runs)
    # Every launch went through and was watched: success, failure, invalid config (2), valid
    # config, --no-wait, and both re-executions.
    assert [code for code, _ in results] == [0, 1, 0, 2, 0, 0, 1, 0]
    assert len(mock.runs) == before + 6
    assert "step explode" in results[1][1]  # the progress lines were shown, cleaned


def test_a_poisoned_run_id_from_the_launch_response_is_shown_safe(
    capsys: pytest.CaptureFixture[str], mock: MockDagster
) -> None:
    keep = (KEEP_KEYS | NAMES) - {"runId"}
    [(_, shown)] = sweep(
        capsys, mock, Poisoning(mock.transport(), keep), [("run", "--job", "orders_job")]
    )
    assert "Launched run " in shown


def test_json_documents_carry_server_strings_escaped(
    capsys: pytest.CaptureFixture[str], mock: MockDagster
) -> None:
    """``--json`` keeps the server's text as it is (a script reads what the server said), but
    JSON-escaped: no raw control character reaches the terminal there either."""
    failed = launched(capsys, mock, "failing_job")
    transport = Poisoning(mock.transport())
    for args in (("discover",), ("runs", "show", failed), ("logs", failed), ("runs", "list")):
        code, out, err = helpers_fakes.cli_in_process(
            capsys, transport, *args, "--json", "--url", mock.url
        )
        assert code == 0, (args, err)
        assert not UNSAFE.search(out), args
        assert not UNSAFE.search(err), (args, err)
        assert "\\u001b" in out, args  # the poison is there, escaped
        json.loads(out)
