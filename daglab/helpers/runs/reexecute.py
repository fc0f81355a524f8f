"""Re-executing a run: all its steps, from its failure, or chosen steps, never twice.

Sent as ``launchRunReexecution(executionParams:)``, the form every version from 1.7 accepts
with run tags (``reexecutionParams`` takes none before 1.10): the parent's job, asset
selection and run config, ``parentRunId``/``rootRunId``, and for a re-execution from failure
Dagster's ``dagster/is_resume_retry`` tag, from which the server picks the steps to run
again itself. The ``daglab/request_id`` tag makes a lost response safe, as for a launch.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import format_key
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.models import RunSubmitResult
from daglab.helpers.queries import LAUNCH_REEXECUTION, RUN_DETAILS
from daglab.helpers.runs.launch import (
    MAX_LAUNCH_ATTEMPTS,
    _launch_error,
    _look_for_lost_launch,
    _may_have_arrived,
    _server_answered_5xx,
    run_selector,
)
from daglab.helpers.runs.read import (
    PARTITION_TAG,
    REQUEST_ID_TAG,
    _check_run,
    _tag_map,
    get_run_url,
)
from daglab.helpers.runs.targets import RunTarget

ALL_STEPS = "ALL_STEPS"
FROM_FAILURE = "FROM_FAILURE"
STRATEGIES = (ALL_STEPS, FROM_FAILURE)
RESUME_RETRY_TAG = "dagster/is_resume_retry"
PARENT_RUN_TAG = "dagster/parent_run_id"
ROOT_RUN_TAG = "dagster/root_run_id"
STEP_SELECTION_TAG = "dagster/step_selection"

# Parent tags a re-execution keeps: the user's, and Dagster's partition tags.
_KEPT_DAGSTER_TAGS = (
    PARTITION_TAG,
    "dagster/partition_set",
    "dagster/asset_partition_range_start",
    "dagster/asset_partition_range_end",
)


def _inherited(tags: Mapping[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in tags.items()
        if k != REQUEST_ID_TAG and (not k.startswith("dagster/") or k in _KEPT_DAGSTER_TAGS)
    }


async def reexecute_run(
    client: DagsterClient,
    parent_run_id: str,
    *,
    strategy: str = ALL_STEPS,
    steps: Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> RunSubmitResult:
    """Launch a re-execution of ``parent_run_id``: every step (``ALL_STEPS``), the failed
    and skipped ones (``FROM_FAILURE``: the parent must have failed or been canceled), or
    exactly ``steps``. ``tags`` are added to the parent's. Never launches twice."""
    if strategy not in STRATEGIES:
        raise errors.BadInputError(f"strategy must be one of {', '.join(STRATEGIES)}.")
    if steps and strategy == FROM_FAILURE:
        raise errors.BadInputError("Re-execute from the failure or chosen steps, not both.")
    data = await client.execute(RUN_DETAILS, {"runId": parent_run_id})
    parent = _check_run(data.get("runOrError"), parent_run_id)
    status = str(parent.get("status"))
    if strategy == FROM_FAILURE and status not in ("FAILURE", "CANCELED"):
        raise errors.BadInputError(
            f"Run {parent_run_id} ended {status}: only a failed or canceled run can be "
            "re-executed from its failure."
        )
    origin = parent.get("repositoryOrigin") or {}
    selection = [format_key(k["path"]) for k in parent.get("assetSelection") or []]
    target = RunTarget(
        str(parent.get("jobName")),
        str(origin.get("repositoryLocationName")),
        str(origin.get("repositoryName")),
        tuple(selection),
    )
    request_id = request_id or uuid.uuid4().hex
    root = parent.get("rootRunId") or parent_run_id
    run_tags = _inherited(_tag_map(parent))
    run_tags.update(tags or {})
    run_tags[PARENT_RUN_TAG] = parent_run_id
    run_tags[ROOT_RUN_TAG] = root
    if strategy == FROM_FAILURE:
        run_tags[RESUME_RETRY_TAG] = "true"
    if steps:
        run_tags[STEP_SELECTION_TAG] = ",".join(steps)
    run_tags[REQUEST_ID_TAG] = request_id
    params: dict[str, Any] = {
        "selector": run_selector(target),
        "runConfigData": parent.get("runConfigYaml") or {},
        "executionMetadata": {
            "parentRunId": parent_run_id,
            "rootRunId": root,
            "tags": [{"key": k, "value": v} for k, v in run_tags.items()],
        },
    }
    if steps:
        params["stepKeys"] = list(steps)

    def result(run_id: str, run_status: str, recovered: bool) -> RunSubmitResult:
        return RunSubmitResult(
            run_id=run_id,
            url=get_run_url(client, run_id),
            status=run_status,
            job=target.job,
            location=target.location,
            repository=target.repository,
            asset_selection=selection,
            partition=run_tags.get(PARTITION_TAG),
            tags=run_tags,
            request_id=request_id,
            recovered=recovered,
        )

    lost: errors.DaglabError | None = None
    for _attempt in range(MAX_LAUNCH_ATTEMPTS):
        try:
            sent = await client.execute(
                LAUNCH_REEXECUTION, {"executionParams": params}, retry=False
            )
        except errors.DaglabError as exc:
            if not _may_have_arrived(exc):
                raise
            lost = exc
            found = await _look_for_lost_launch(client, request_id, exc)
            if found is not None:
                return result(found["runId"], found["status"], recovered=True)
            if _server_answered_5xx(exc):  # it reached the server: never re-sent
                raise errors.ServerError(
                    f"{exc.message.rstrip('.')}. The re-execution reached the server, so the "
                    "run may exist though it does not show yet; it would carry the tag "
                    f"{REQUEST_ID_TAG}={request_id}.",
                    hint="Check the Dagster UI (filter runs by that tag) before re-executing "
                    "again.",
                ) from None
            continue
        payload = sent.get("launchRunReexecution") or {}
        if payload.get("__typename") == "LaunchRunSuccess":
            run = payload["run"]
            return result(run["runId"], run["status"], recovered=False)
        raise _launch_error(payload, target)
    raise errors.ServerError(
        f"{lost.message if lost else 'The re-execution failed.'} It was sent "
        f"{MAX_LAUNCH_ATTEMPTS} times and the server has no run tagged "
        f"{REQUEST_ID_TAG}={request_id}, so none was created."
    )
