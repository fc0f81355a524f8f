"""The test harness: real Dagster servers per minor version, the mock, the pytest plugin.

Importing this package is cheap; the heavy parts load on first use::

    from daglab.harness import DagsterServer, FIXTURE_WORKSPACE
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from daglab.harness.paths import (
    FIXTURE_PROJECT,
    FIXTURE_WORKSPACE,
    FIXTURE_WORKSPACE_BROKEN,
    FIXTURE_WORKSPACE_GENERATED,
)

if TYPE_CHECKING:
    from daglab.harness.envs import NEWEST, OLDEST, SUPPORTED_VERSIONS, ensure_env
    from daglab.harness.errors import (
        EnvInstallError,
        HarnessError,
        ServerStartError,
        UvNotFoundError,
    )
    from daglab.harness.prod import ProdDagsterServer
    from daglab.harness.server import DagsterServer

_LAZY = {
    "DagsterServer": "daglab.harness.server",
    "ProdDagsterServer": "daglab.harness.prod",
    "ServerStartError": "daglab.harness.errors",
    "SUPPORTED_VERSIONS": "daglab.harness.envs",
    "OLDEST": "daglab.harness.envs",
    "NEWEST": "daglab.harness.envs",
    "HarnessError": "daglab.harness.errors",
    "UvNotFoundError": "daglab.harness.errors",
    "EnvInstallError": "daglab.harness.errors",
    "ensure_env": "daglab.harness.envs",
}

__all__ = [
    "FIXTURE_PROJECT",
    "FIXTURE_WORKSPACE",
    "FIXTURE_WORKSPACE_BROKEN",
    "FIXTURE_WORKSPACE_GENERATED",
    "NEWEST",
    "OLDEST",
    "SUPPORTED_VERSIONS",
    "DagsterServer",
    "EnvInstallError",
    "HarnessError",
    "ProdDagsterServer",
    "ServerStartError",
    "UvNotFoundError",
    "ensure_env",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'daglab.harness' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
