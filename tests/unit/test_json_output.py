"""What `--json` prints: the same document `json.dumps` would, laid out two levels deep."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from daglab.commands._options import dumps_json

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(documents)
def test_it_is_the_document_json_dumps_gives(document: Any) -> None:
    assert json.loads(dumps_json(document)) == json.loads(json.dumps(document))


def test_one_entity_per_line() -> None:
    document = {
        "jobs": [{"name": "a", "tags": {"k": "v"}}, {"name": "b", "tags": {}}],
        "assets": [],
        "run_id": "r1",
    }
    assert dumps_json(document).splitlines() == [
        "{",
        '  "jobs": [',
        '    {"name": "a", "tags": {"k": "v"}},',
        '    {"name": "b", "tags": {}}',
        "  ],",
        '  "assets": [],',
        '  "run_id": "r1"',
        "}",
    ]


def test_values_json_cannot_encode_are_written_as_text() -> None:
    class Odd:
        def __str__(self) -> str:
            return "odd"

    assert json.loads(dumps_json({"when": [Odd()]})) == {"when": ["odd"]}
