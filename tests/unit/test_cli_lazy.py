"""The root group builds a command only when it is invoked; `daglab --help` lists them all
from ``cli.COMMANDS`` without importing a command module."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from daglab import cli

PROBE = """
import json, sys
from daglab.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith("daglab.commands."))), file=sys.stderr)
"""


def _command_modules(*args: str) -> tuple[str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_listed_help_is_the_commands_own(name: str) -> None:
    command = cli.load_command(name)
    first_paragraph = " ".join((command.help or "").split("\n\n")[0].split())
    assert cli.COMMANDS[name][1] == first_paragraph
    assert command.name == name


def test_root_help_lists_every_command_without_importing_one() -> None:
    out, modules = _command_modules("--help")
    assert modules == ["daglab.commands._options"]
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == list(cli.COMMANDS)


def test_version_imports_no_command() -> None:
    out, modules = _command_modules("--version")
    assert out.startswith("daglab ")
    assert modules == ["daglab.commands._options"]


def test_invoking_a_command_imports_only_its_module() -> None:
    out, modules = _command_modules("discover", "--help")
    assert "--pattern" in out
    assert modules == ["daglab.commands._options", "daglab.commands.discover"]
