"""Run-config validation: the server checks a config against the job's own schema.

What daglab says is what Dagster would say at launch. Reading a run config (YAML or JSON)
is an input check, in ``daglab.helpers.checks``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import parse_key

if TYPE_CHECKING:
    from daglab.helpers.graphql import DagsterClient
    from daglab.helpers.models import ConfigProblem, ValidationResult


_PATH_IN_MESSAGE = re.compile(r"at path root(\S*)")


def _config_path(error: Mapping[str, Any]) -> list[str]:
    """Where a config error is: from its evaluation stack (``path`` is always empty on real
    Dagster), else from the ``at path root:a:b`` in its message."""
    if error.get("path"):
        return [str(p) for p in error["path"]]
    entries = ((error.get("stack") or {}).get("entries")) or []
    path: list[str] = []
    for entry in entries:
        if "fieldName" in entry:
            path.append(str(entry["fieldName"]))
        elif "listIndex" in entry:
            path.append(str(entry["listIndex"]))
        elif "mapKey" in entry:
            path.append(str(entry["mapKey"]))
    if path:
        return path
    found = _PATH_IN_MESSAGE.search(str(error.get("message") or ""))
    return [p for p in found.group(1).rstrip(".").split(":") if p] if found else []


def config_problems(payload: Mapping[str, Any]) -> list[ConfigProblem]:
    """The problems of a ``RunConfigValidationInvalid`` payload, each with its config path."""
    from daglab.helpers.models import ConfigProblem

    return [
        ConfigProblem(
            path=_config_path(e),
            message=str(e.get("message") or "invalid"),
            reason=e.get("reason"),
        )
        for e in payload.get("errors") or []
    ]


async def validate_run_config(
    client: DagsterClient,
    job: str,
    location: str,
    repository: str,
    config: Mapping[str, Any] | None,
    asset_selection: Sequence[str] | None = None,
) -> ValidationResult:
    """Ask the server whether ``config`` is valid for ``job``; every problem has its path.

    ``asset_selection`` (slash-joined keys) validates against that subset of an asset job.
    Raises ``TargetNotFoundError`` if the server does not know the job.
    """
    from daglab.helpers.graphql import check_union
    from daglab.helpers.models import ValidationResult
    from daglab.helpers.queries import CONFIG_VALID

    selector: dict[str, Any] = {
        "repositoryLocationName": location,
        "repositoryName": repository,
        "pipelineName": job,
    }
    if asset_selection:
        selector["assetSelection"] = [{"path": parse_key(key)} for key in asset_selection]
    data = await client.execute(
        CONFIG_VALID,
        {"selector": selector, "mode": "default", "runConfigData": dict(config or {})},
    )
    payload = data.get("isPipelineConfigValid")
    typename = (payload or {}).get("__typename")
    if typename in ("PipelineConfigValidationValid", "RunConfigValidationInvalid"):
        return ValidationResult(
            valid=typename == "PipelineConfigValidationValid",
            job=job,
            location=location,
            repository=repository,
            asset_selection=list(asset_selection or []),
            errors=config_problems(payload or {}),
        )
    if typename == "PipelineNotFoundError":
        raise errors.TargetNotFoundError(
            f"The server has no job {job!r} in {location}/{repository}: "
            f"{(payload or {}).get('message', '')}".rstrip(": ")
        )
    if typename == "InvalidSubsetError":
        raise errors.SelectionError(
            f"The server cannot run that selection of {job!r}: {(payload or {}).get('message')}"
        )
    check_union(payload, "PipelineConfigValidationValid", "validating the run config")
    raise errors.BadResponseError("Unexpected answer while validating the run config.")
