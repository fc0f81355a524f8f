"""Terminal rendering shared by commands: a rich console that respects NO_COLOR and pipes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def sanitize(text: object) -> str:
    """Text from the server, safe to print: ANSI escapes, control characters and bidi
    overrides removed (``daglab.helpers.text.clean``), rich markup escaped."""
    from rich.markup import escape

    from daglab.helpers.text import clean

    return escape(clean(text))


def console(stderr: bool = False) -> Console:
    """A console whose broken pipe is daglab's (cli.py: exit 141, quietly), not rich's exit 1."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    return _Console(stderr=stderr, highlight=False, soft_wrap=False)
