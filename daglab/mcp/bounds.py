"""What keeps an agent's call bounded and its answer safe: time, size, and clean text.

Every tool runs under a deadline (``Limits.tool_timeout``; a launch that waits gets its wait
on top, and the wait itself is capped at ``Limits.max_wait``), every list is cut to a
``limit`` the caller may lower or raise up to ``Limits.max_limit`` (the answer says
``truncated``), and every string in an answer or an error is sanitized (``text.clean``: no
escape sequences, control characters or bidi overrides), stripped of every secret daglab
knows (``auth.redact_text``) and clipped to ``Limits.max_text`` characters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from daglab.helpers.auth import redact_text
from daglab.helpers.errors import BadInputError, DaglabError
from daglab.helpers.text import clean

T = TypeVar("T")

CLIPPED = " …[clipped]"


@dataclass(frozen=True)
class Limits:
    """The bounds of one server (``daglab mcp --tool-timeout/--max-wait/--max-limit``)."""

    tool_timeout: float = 60.0
    max_wait: float = 600.0
    default_wait: float = 120.0
    default_limit: int = 100
    max_limit: int = 1000
    max_text: int = 4000

    def __post_init__(self) -> None:
        for name in ("tool_timeout", "max_wait", "default_wait"):
            if getattr(self, name) <= 0:
                raise BadInputError(f"{name} must be a positive number of seconds.")
        if not 0 < self.default_limit <= self.max_limit:
            raise BadInputError("default_limit must be between 1 and max_limit.")
        if self.max_text < 100:
            raise BadInputError("max_text must be at least 100 characters.")

    def limit(self, asked: int | None) -> int:
        """How many items a list answer may hold: ``asked`` (at least 1), at most ``max_limit``."""
        if asked is None:
            return self.default_limit
        return max(1, min(int(asked), self.max_limit))

    def wait(self, asked: float | None) -> float:
        """How long a launch may wait for its run: ``asked`` (0 allowed), at most ``max_wait``."""
        if asked is None:
            return min(self.default_wait, self.max_wait)
        return max(0.0, min(float(asked), self.max_wait))


def capped(items: Sequence[T], limit: int) -> tuple[list[T], bool]:
    """The first ``limit`` items, and whether any were left out."""
    return list(items[:limit]), len(items) > limit


def safe_text(text: object, max_text: int, secrets: Iterable[str] = ()) -> str:
    """``text`` as an agent may see it: sanitized, secrets masked, at most ``max_text`` long.

    Redaction runs before and after cleaning, so a secret split by a control character (or
    one the cleaning would join) is masked either way."""
    value = redact_text(clean(redact_text(str(text), secrets)), secrets)
    if len(value) > max_text:
        value = value[: max_text - len(CLIPPED)] + CLIPPED
    return value


def safe_json(value: Any, max_text: int, secrets: Iterable[str] = ()) -> Any:
    """A JSON document with every string (keys included) passed through ``safe_text``."""
    secrets = list(secrets)
    if isinstance(value, str):
        return safe_text(value, max_text, secrets)
    if isinstance(value, Mapping):
        return {
            safe_text(k, max_text, secrets): safe_json(v, max_text, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [safe_json(v, max_text, secrets) for v in value]
    return value


class ToolDeadlineError(DaglabError):
    """A tool call ran past its deadline (the server's ``tool_timeout``)."""

    exit_code = 4


async def within(seconds: float, work: Awaitable[T], what: str) -> T:
    """``await work``, but give up after ``seconds`` with a ``ToolDeadlineError`` saying ``what``
    was cut short."""
    try:
        return await asyncio.wait_for(work, timeout=seconds)
    except asyncio.TimeoutError:
        raise ToolDeadlineError(
            f"{what} did not finish within the tool's deadline of {seconds:g}s.",
            hint="The server may be slow or unreachable; try again, narrow the request, or "
            "start `daglab mcp` with a larger --tool-timeout.",
        ) from None
