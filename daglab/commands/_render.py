"""Terminal rendering shared by commands: a rich console that respects NO_COLOR and pipes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def sanitize(text: object) -> str:
    """Text from the server, safe to print: ANSI escapes and control characters removed,
    rich markup escaped."""
    from rich.markup import escape

    return escape(_CONTROL.sub("", str(text)))


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)
