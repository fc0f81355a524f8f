"""docs/cli.md is generated from the typer app; it must not drift from the code."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_cli_reference_is_current() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "ci" / "gen_cli_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr + "\nRegenerate with: python ci/gen_cli_docs.py"
