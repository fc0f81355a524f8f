"""Dagster's run statuses and event types that daglab gives a meaning to.

Both are open sets: newer servers add statuses and event types, which pass through as text.
"""

from __future__ import annotations

# A run in one of these has ended; its status no longer changes.
TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
# The event that ends a run's event log.
TERMINAL_EVENTS = frozenset({"RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED"})


def is_terminal(status: str | None) -> bool:
    """The run has ended (SUCCESS, FAILURE or CANCELED)."""
    return status in TERMINAL_STATUSES
