"""What daglab hands back: plain pydantic models that print, serialize and compare well."""

from __future__ import annotations

from daglab.helpers.models.assets import (
    AssetCheckInfo,
    AssetHealth,
    MaterializationRecord,
    MetadataItem,
    PartitionHealth,
)
from daglab.helpers.models.automation import (
    InstigatorChange,
    InstigatorInfo,
    ReloadResult,
    TickInfo,
)
from daglab.helpers.models.base import Model
from daglab.helpers.models.operate import (
    BackfillInfo,
    CapturedLogInfo,
    Materialization,
    RunDetails,
    RunEvent,
    RunSummary,
    StepFailure,
    StepInfo,
)
from daglab.helpers.models.runs import (
    CheckResult,
    ConfigProblem,
    RunError,
    RunResult,
    RunSubmitResult,
    ValidationResult,
)
from daglab.helpers.models.workspace import (
    AssetInfo,
    CodeServerInfo,
    DaemonInfo,
    DeploymentInfo,
    JobInfo,
    LocationInfo,
    RepositoryInfo,
    ServerStatus,
)

__all__ = [
    "AssetCheckInfo",
    "AssetHealth",
    "AssetInfo",
    "BackfillInfo",
    "CapturedLogInfo",
    "CheckResult",
    "CodeServerInfo",
    "ConfigProblem",
    "DaemonInfo",
    "DeploymentInfo",
    "InstigatorChange",
    "InstigatorInfo",
    "JobInfo",
    "LocationInfo",
    "Materialization",
    "MaterializationRecord",
    "MetadataItem",
    "Model",
    "PartitionHealth",
    "ReloadResult",
    "RepositoryInfo",
    "RunDetails",
    "RunError",
    "RunEvent",
    "RunResult",
    "RunSubmitResult",
    "RunSummary",
    "ServerStatus",
    "StepFailure",
    "StepInfo",
    "TickInfo",
    "ValidationResult",
]
