"""Asset keys: lists of components, and their one text form.

The text form joins the components with ``/``. A ``/`` inside a component is written ``\\/``
and a backslash ``\\\\``, so every key has exactly one text form and every text form parses
back to its key: ``AssetKey(["backslash/interpretation"])`` is ``backslash\\/interpretation``,
``AssetKey(["a", "b"])`` is ``a/b``. JSON output keeps the exact components in ``"path"``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["format_key", "needs_escape", "parse_key"]


def format_key(path: Iterable[str]) -> str:
    """The text form of a key: components joined with ``/``, each escaped."""
    return "/".join(str(c).replace("\\", "\\\\").replace("/", "\\/") for c in path)


def needs_escape(path: Iterable[str]) -> bool:
    """Whether a component of ``path`` holds a ``/`` or a backslash."""
    return any("/" in c or "\\" in c for c in path)


def parse_key(text: str) -> list[str]:
    """The components of a key's text form (the inverse of ``format_key``). Leading and
    trailing unescaped slashes are dropped; a backslash before any character keeps it."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            i += 2
            continue
        if ch == "/":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    while parts and parts[0] == "":
        parts.pop(0)
    while parts and parts[-1] == "":
        parts.pop()
    return parts
