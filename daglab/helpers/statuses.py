"""Dagster's run statuses and event types that daglab gives a meaning to.

Both are open sets: newer servers add statuses and event types, which pass through as text.
"""

from __future__ import annotations

from collections.abc import Mapping as _Mapping
from typing import Any

# A run in one of these has ended; its status no longer changes.
TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
# The event that ends a run's event log.
TERMINAL_EVENTS = frozenset({"RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED"})


def is_terminal(status: str | None) -> bool:
    """The run has ended (SUCCESS, FAILURE or CANCELED)."""
    return status in TERMINAL_STATUSES


def parse_tag_limits(text: Any) -> list[dict[str, Any]]:
    """The ``tag_concurrency_limits`` of a run queue, from ``runQueueConfig``'s YAML: a list
    of {key, value (None: any value), limit}. Anything unreadable is left out."""
    if not isinstance(text, str) or not text.strip() or len(text) > 100_000:
        return []
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    out = []
    for item in doc if isinstance(doc, list) else []:
        if not isinstance(item, _Mapping) or not isinstance(item.get("key"), str):
            continue
        value = item.get("value")
        out.append(
            {
                "key": item["key"],
                "value": value if isinstance(value, str) else None,
                "limit": item.get("limit"),
            }
        )
    return out
