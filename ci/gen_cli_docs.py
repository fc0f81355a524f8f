"""Write docs/cli.md from the typer app, so the CLI reference cannot drift.

python ci/gen_cli_docs.py          # rewrite docs/cli.md
python ci/gen_cli_docs.py --check  # exit 1 if docs/cli.md is stale
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer.main
from typer._click.core import Command, Context

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "docs" / "cli.md"


def _walk(command: Command, path: list[str]) -> list[tuple[list[str], Command]]:
    found = [(path, command)]
    if hasattr(command, "list_commands"):
        for name in command.list_commands(Context(command)):  # type: ignore[attr-defined]
            sub = command.get_command(Context(command), name)  # type: ignore[attr-defined]
            if sub is not None and not sub.hidden:
                found += _walk(sub, [*path, name])
    return found


def render() -> str:
    os.environ["COLUMNS"] = "100"
    os.environ["TERM"] = "dumb"
    from daglab.cli import app

    root = typer.main.get_command(app)
    parts = [
        "# daglab CLI reference",
        "",
        "Generated from the typer app by `python ci/gen_cli_docs.py`; a unit test fails when",
        "this file is stale. Every command also accepts the shared connection and output options",
        "shown under it.",
        "",
    ]
    for path, command in _walk(root, ["daglab"]):
        parent: Context | None = None
        for i, name in enumerate(path):
            cmd = root if i == 0 else _walk_get(root, path[1 : i + 1])
            parent = Context(
                cmd, info_name=name, parent=parent, terminal_width=100, max_content_width=100
            )
        assert parent is not None
        text = command.get_help(parent).rstrip()
        heading = "#" * min(len(path) + 1, 4)
        parts += [f"{heading} `{' '.join(path)}`", "", "```text", text, "```", ""]
    return "\n".join(parts)


def _walk_get(root: Command, names: list[str]) -> Command:
    cmd = root
    for name in names:
        sub = cmd.get_command(Context(cmd), name)  # type: ignore[attr-defined]
        assert sub is not None
        cmd = sub
    return cmd


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is stale: run python ci/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
