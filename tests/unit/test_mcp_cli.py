"""``daglab mcp`` as a command: the SDK stays an optional extra the rest of the CLI never
loads, and without it the command says how to install it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

NO_SDK = """
import sys
sys.modules["mcp"] = None  # as if the extra were not installed
from daglab.cli import main
main(sys.argv[1:])
"""

PROBE = """
import sys
from daglab.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m == "mcp" or m.startswith(("mcp.", "daglab.mcp"))),
      file=sys.stderr)
"""


def run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO
    )


def test_without_the_sdk_daglab_mcp_exits_2_saying_what_to_install() -> None:
    proc = run(NO_SDK, "mcp", "--url", "http://127.0.0.1:9")
    assert proc.returncode == 2
    assert proc.stderr == "Error: daglab mcp needs the MCP SDK: pip install 'daglab[mcp]'.\n"
    assert proc.stdout == ""


def test_help_of_the_cli_and_of_other_commands_never_imports_the_sdk() -> None:
    for args in (["--help"], ["discover", "--help"], ["mcp", "--help"]):
        proc = run(PROBE, *args)
        assert proc.stderr.strip().splitlines()[-1] == "[]", args
