"""The one sanitizer of text that comes from a server (or any other untrusted source).

Used for the terminal, the notebook and CSV alike (``csv_cell`` also defuses formulas): ANSI/VT escape sequences (CSI, and
OSC/DCS/SOS/PM/APC strings up to their terminator, so an OSC 8 link loses its target too),
two-character escapes, C0/C1 control characters but newline and tab, and the bidirectional
overrides and marks that make text display differently from what it is.
"""

from __future__ import annotations

import re

__all__ = [
    "CONTROL_CHARS",
    "ESCAPE_SEQUENCES",
    "clean",
    "close_matches",
    "csv_cell",
    "plural",
    "reason_line",
]

# CSI (ESC [ or 8-bit 0x9b); OSC/DCS/SOS/PM/APC strings up to their terminator (BEL or ST);
# two-character escapes.
ESCAPE_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)
# Single control characters (but newline and tab), LRM/RLM, bidi embeddings, overrides, isolates.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\n\t]+")


def clean(text: object, *, one_line: bool = False) -> str:
    """``text`` safe to show: no escape sequences, control characters or bidi overrides.

    Newlines and tabs stay, unless ``one_line`` (then each run of them is one space).
    ``None`` is the empty string.
    """
    if text is None:
        return ""
    value = str(text).replace("\r\n", "\n")
    value = CONTROL_CHARS.sub("", ESCAPE_SEQUENCES.sub("", value))
    if one_line:
        value = _LINE_BREAKS.sub(" ", value)
    return value


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: object) -> str:
    """``text`` cleaned for a CSV cell, on one line; a cell a spreadsheet would run as a
    formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``) gets a leading ``'``, as OWASP advises."""
    value = clean(text, one_line=True)
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return value


def reason_line(text: str | None, limit: int = 300) -> str:
    """One line that keeps the reason of a multi-line message: its first line and, when more
    follow, its last meaningful one (the ``Error: reason`` a Python traceback ends with, or
    what a first line ending in ``:`` leads into). Traceback frames are skipped."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    first = lines[0]
    rest = [
        line
        for line in lines[1:]
        if not line.startswith(('File "', "Traceback", "^", "~"))
        and not line.startswith("The above exception")
    ]
    if rest:
        last = rest[-1] if not first.endswith(":") else rest[0]
        if last not in first:
            first = f"{first} {last}"
    return first if len(first) <= limit else first[: limit - 1] + "…"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and ``noun`` agreeing in number: ``1 asset``, ``2 assets``, ``0 assets``;
    ``many`` spells an irregular plural (``plural(n, "repository", "repositories")``).
    Every count daglab shows is worded here."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def close_matches(word: str, names: list[str], n: int = 5) -> list[str]:
    """The names a "did you mean" offers for ``word``: those that contain it (any case),
    then those difflib finds close (ratio 0.75 and up), at most ``n``. A common part such as
    ``_job`` alone does not make two names close."""
    import difflib

    lowered = word.lower()
    found = [name for name in names if lowered and lowered in name.lower()]
    found += difflib.get_close_matches(word, names, n=n, cutoff=0.75)
    return list(dict.fromkeys(found))[:n]
