"""Shell completion: the script typer installs, and the completions it answers with."""

from __future__ import annotations

import os
import subprocess
import sys


def _daglab(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daglab", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_show_completion_prints_a_bash_script() -> None:
    result = _daglab({"SHELL": "/bin/bash"}, "--show-completion", "bash")
    assert result.returncode == 0, result.stderr
    assert "_daglab_completion()" in result.stdout
    assert "complete " in result.stdout


def test_completion_answers_command_and_option_names() -> None:
    env = {"_DAGLAB_COMPLETE": "complete_bash", "COMP_WORDS": "daglab disc", "COMP_CWORD": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", "from daglab.cli import main; main()"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.split() == ["discover"]
    env = {
        "_DAGLAB_COMPLETE": "complete_bash",
        "COMP_WORDS": "daglab run --asset-p",
        "COMP_CWORD": "2",
    }
    proc = subprocess.run(
        [sys.executable, "-c", "from daglab.cli import main; main()"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.split() == ["--asset-pattern"]
