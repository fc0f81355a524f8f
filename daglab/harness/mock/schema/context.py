"""The context every resolver sees: the mock's state and switches, and the request's "now"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from strawberry.types import Info

if TYPE_CHECKING:
    from daglab.harness.mock.config import MockConfig, Switchboard
    from daglab.harness.mock.state import MockState


@dataclass
class MockContext:
    """What every resolver sees: the mock's state and switches, and the request's "now"."""

    state: MockState
    config: MockConfig
    switches: Switchboard
    operation_name: str | None
    now: float


def mock_context(info: Info) -> MockContext:
    return info.context  # type: ignore[no-any-return]
