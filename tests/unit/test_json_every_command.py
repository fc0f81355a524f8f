"""Every command takes ``--json`` and prints exactly one JSON document when it fails: the
commands are read from the CLI itself (``cli.COMMANDS`` and each group's subcommands), so a new
one cannot be left out. Each is made to fail the way it first can (a server that refuses the
credentials, a bad flag or profile, a version the harness does not know) and runs in this
process. (An unreachable server is tests/unit/test_hostile.py's; it costs a second of
retries per command.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import helpers_fakes
import httpx
import pytest

from daglab import cli

fresh_session = helpers_fakes.fresh_session

SERVER = ("--url", "http://dagster.test")
REFUSING = httpx.MockTransport(lambda request: httpx.Response(401))
# A value for each required argument, by its parameter name.
PLACEHOLDERS = {
    "run_ref": ["0badc0de"],
    "run": ["0badc0de"],
    "backfill_id": ["nosuch"],
    "key": ["orders/raw_orders"],
    "name": ["nosuch"],
    "path": ["notebook.ipynb"],
    "template": ["--template", "nosuch"],
}
# What makes the commands that take no connection options fail (or answer) without a server.
OWN_ARGS = {
    ("dev", "up"): ["--dagster-version", "0.1"],
    ("mcp",): ["--profile", "nosuch"],
}


def leaves(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            yield from leaves(sub, (*path, name))
    else:
        yield path, command


def every_command() -> list[tuple[tuple[str, ...], Any]]:
    return [leaf for name in cli.COMMANDS for leaf in leaves(cli.load_command(name), (name,))]


def test_every_command_takes_json() -> None:
    commands = every_command()
    assert len(commands) >= 30
    missing = [
        " ".join(path)
        for path, command in commands
        if not any("--json" in getattr(p, "opts", ()) for p in command.params)
    ]
    assert missing == []


def arguments(path: tuple[str, ...], command: Any) -> list[str]:
    args = list(path)
    for param in command.params:
        if param.required:
            args += PLACEHOLDERS[param.name]  # a new required argument needs a placeholder
    if path in OWN_ARGS:
        return args + OWN_ARGS[path]
    if any("--url" in getattr(p, "opts", ()) for p in command.params):
        args += SERVER
    return args


@pytest.mark.parametrize(
    "path", [path for path, _ in every_command()], ids=lambda path: " ".join(path)
)
def test_every_command_prints_one_json_document(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str], fresh_session: None
) -> None:
    command = dict(every_command())[path]
    code, out, err = helpers_fakes.cli_in_process(
        capsys, REFUSING, *arguments(path, command), "--json"
    )
    document = json.loads(out)  # exactly one document: json.loads takes no more
    assert "unexpected" not in err.lower() and "Traceback" not in err, err
    if code != 0:
        assert "error" in document or "run_id" in document or "source" in document, document
    if "error" in document:
        assert document["error"]["code"] == code
        assert document["error"]["message"] in err  # the same words as on stderr
