"""One sanitizer of server text: the terminal, the notebook and CSV strip the same things."""

from __future__ import annotations

import pytest

from daglab.helpers.checks import sanitize_input
from daglab.helpers.display import _cell_text, clean
from daglab.helpers.text import clean as text_clean

OSC8_LINK = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
HOSTILE = {
    "an OSC 8 link": (f"see {OSC8_LINK} now", "see click me now"),
    "a BEL": ("ding\x07dong", "dingdong"),
    "a bidi override": ("abc\u202edcba\u202c.txt", "abcdcba.txt"),
    "a CSI colour": ("\x1b[31mred\x1b[0m text", "red text"),
    "an 8-bit CSI": ("\x9b2Jcleared", "cleared"),
    "LRM and RLM": ("a\u200eb\u200fc", "abc"),
    "an OSC title with BEL": ("\x1b]0;pwned\x07title", "title"),
}


@pytest.mark.parametrize("raw, expected", HOSTILE.values(), ids=HOSTILE.keys())
def test_display_clean_strips(raw: str, expected: str) -> None:
    assert clean(raw) == expected


@pytest.mark.parametrize("raw, expected", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_terminal_path_strips(raw: str, expected: str) -> None:
    assert sanitize_input(raw, "terminal") == expected
    assert text_clean(raw) == expected


@pytest.mark.parametrize("raw, expected", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_cli_renderer_strips(raw: str, expected: str) -> None:
    from daglab.commands._render import sanitize

    assert sanitize(raw) == expected


def test_newlines_and_tabs_stay_unless_one_line() -> None:
    assert text_clean("a\r\nb\tc") == "a\nb\tc"
    assert text_clean("a\r\n\tb", one_line=True) == "a b"
    assert sanitize_input("a\n\nb", "line") == "a b"


def test_none_is_empty() -> None:
    assert text_clean(None) == ""
    assert clean(None) == ""


def test_a_notebook_cell_is_cleaned_then_cut_at_200_characters() -> None:
    cell = _cell_text("\x1b]8;;http://x/\x1b\\" + "y" * 300)
    assert cell == "y" * 199 + "…"


def test_csv_cells_are_cleaned() -> None:
    from daglab.commands.discover import _csv_cell

    assert _csv_cell(f"name {OSC8_LINK}") == "name click me"
    assert _csv_cell({"k": "\x1b[1mv"}) == "k=v"
    assert _csv_cell(["a\u202e", "b"]) == "a,b"
    assert _csv_cell(True) == "true"
    assert _csv_cell(3) == 3
