"""Launching one run of a target, never twice.

Every launch carries a unique ``daglab/request_id`` tag. When a launch response is lost after
the request may have reached the server, the run is looked up by that tag for as long as the
server could still be writing it (``LOOKUP_DELAYS``: about 30 s, so a lagging read replica or
a slow run storage shows the run before daglab gives up on it). Only a connection dropped or
timed out, and a lookup that stayed empty all that while, lets the launch be sent again. An
HTTP 5xx after the launch went out means the server saw it: the run is looked up, and if it
does not show, the error says it may exist and names its tag; nothing is re-sent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from daglab.helpers import errors
from daglab.helpers.assetkeys import parse_key
from daglab.helpers.graphql import DagsterClient, check_union
from daglab.helpers.models import RunSubmitResult
from daglab.helpers.queries import LAUNCH_RUN, RUNS_BY_TAG
from daglab.helpers.runs.read import PARTITION_TAG, REQUEST_ID_TAG, get_run_url
from daglab.helpers.runs.targets import (
    RunTarget,
    check_partition,
    job_partition,
    merge_run_config,
    resolve_assets,
    resolve_job,
    split_asset_keys,
)
from daglab.helpers.text import clean, plural
from daglab.helpers.validation import config_problems

log = logging.getLogger("daglab.runs")

# The pauses between lookups of a run by its request id after a lost launch response (31.5 s
# in all), before concluding the server never created it.
LOOKUP_DELAYS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)
MAX_LAUNCH_ATTEMPTS = 3


def _launch_error(payload: Mapping[str, Any], target: RunTarget) -> Exception:
    """The daglab error for a launch that the server refused."""
    typename = payload.get("__typename")
    message = payload.get("message") or ""
    if typename == "RunConfigValidationInvalid":
        problems = config_problems(payload)
        return errors.ConfigValidationError(
            f"The run config is not valid for job {target.job!r} "
            f"({plural(len(problems), 'problem')}); nothing was launched.",
            problems,
        )
    if typename == "PipelineNotFoundError":
        return errors.TargetNotFoundError(
            f"The server has no job {target.job!r} in {target.location}/{target.repository}.",
            [],
        )
    if typename == "InvalidSubsetError":
        return errors.SelectionError(f"The server cannot run that selection: {message}")
    if typename == "InvalidStepError":
        return errors.SelectionError(f"Invalid step {payload.get('invalidStepKey')!r}.")
    if typename == "InvalidOutputError":
        return errors.SelectionError(
            f"Invalid output {payload.get('invalidOutputName')!r} of step {payload.get('stepKey')!r}."
        )
    if typename in (
        "ConflictingExecutionParamsError",
        "NoModeProvidedError",
        "PresetNotFoundError",
    ):
        return errors.BadInputError(f"The server refused the launch: {message} ({typename})")
    try:
        check_union(payload, "LaunchRunSuccess", "launching the run")
    except errors.DaglabError as exc:
        return exc
    return errors.BadResponseError(f"Unexpected answer to the launch: {typename}.")


async def find_run_by_request_id(client: DagsterClient, request_id: str) -> dict[str, Any] | None:
    """The run carrying ``daglab/request_id=request_id``, if the server has one."""
    data = await client.execute(
        RUNS_BY_TAG,
        {"filter": {"tags": [{"key": REQUEST_ID_TAG, "value": request_id}]}, "limit": 5},
    )
    runs = check_union(data.get("runsOrError"), "Runs", "looking up a run by its request id")
    results = [r for r in (runs.get("results") or []) if isinstance(r, dict)]
    return results[-1] if results else None  # newest first: the last is the first launched


def _server_answered_5xx(exc: errors.DaglabError) -> bool:
    """The server (or a proxy before it) answered 5xx: the launch reached it."""
    status = getattr(exc, "status_code", None)
    return isinstance(exc, (errors.HTTPStatusError, errors.GraphQLError)) and (
        isinstance(status, int) and status >= 500
    )


def _may_have_arrived(exc: errors.DaglabError) -> bool:
    """A launch failure after which the server may still have created the run."""
    if _server_answered_5xx(exc):
        return True
    return isinstance(exc, errors.ServerError) and not isinstance(
        exc, (errors.GraphQLError, errors.DagsterPythonError, errors.RateLimitedError)
    )


def run_selector(target: RunTarget) -> dict[str, Any]:
    """The job selector of ``target`` for a launch, with its assets by their exact key paths."""
    selector: dict[str, Any] = {
        "repositoryLocationName": target.location,
        "repositoryName": target.repository,
        "jobName": target.job,
    }
    if target.asset_selection:
        selector["assetSelection"] = [{"path": parse_key(k)} for k in target.asset_selection]
    return selector


async def launch_run(
    client: DagsterClient,
    target: RunTarget,
    *,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    partition: str | None = None,
    request_id: str | None = None,
) -> RunSubmitResult:
    """Launch one run of ``target``. Never launches twice: see the module docstring."""
    request_id = request_id or uuid.uuid4().hex
    run_tags = dict(tags or {})
    if partition is not None:
        run_tags[PARTITION_TAG] = partition
    run_tags[REQUEST_ID_TAG] = request_id
    params = {
        "selector": run_selector(target),
        "runConfigData": dict(run_config or {}),
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in run_tags.items()]},
    }

    def result(run_id: str, status: str, recovered: bool) -> RunSubmitResult:
        return RunSubmitResult(
            run_id=run_id,
            url=get_run_url(client, run_id),
            status=status,
            job=target.job,
            location=target.location,
            repository=target.repository,
            asset_selection=list(target.asset_selection),
            partition=partition,
            tags=run_tags,
            request_id=request_id,
            recovered=recovered,
        )

    lost: errors.DaglabError | None = None
    for _attempt in range(MAX_LAUNCH_ATTEMPTS):  # re-sent only when surely not created
        try:
            data = await client.execute(LAUNCH_RUN, {"executionParams": params}, retry=False)
        except errors.DaglabError as exc:
            if not _may_have_arrived(exc):
                raise
            lost = exc
            found = await _look_for_lost_launch(client, request_id, exc)
            if found is not None:
                return result(_text(found, "runId"), _text(found, "status"), recovered=True)
            if _server_answered_5xx(exc):
                raise errors.ServerError(
                    f"{exc.message.rstrip('.')}. The launch reached the server, so the run may "
                    "exist though "
                    f"it does not show yet; it would carry the tag {REQUEST_ID_TAG}={request_id}.",
                    hint="Check the Dagster UI (filter runs by that tag) before launching again.",
                ) from None
            continue
        payload = data.get("launchRun") or {}
        if not isinstance(payload, Mapping):
            raise errors.BadResponseError("The server's answer to the launch is not an object.")
        if payload.get("__typename") == "LaunchRunSuccess":
            run = payload.get("run")
            if not isinstance(run, Mapping):
                raise errors.BadResponseError("The server's answer to the launch names no run.")
            return result(_text(run, "runId"), _text(run, "status"), recovered=False)
        raise _launch_error(payload, target)
    raise errors.ServerError(
        f"{lost.message if lost else 'The launch failed.'} The launch was sent "
        f"{MAX_LAUNCH_ATTEMPTS} times and the server has no run tagged "
        f"{REQUEST_ID_TAG}={request_id}, so none was created."
    )


def _text(run: Mapping[str, Any], key: str) -> str:
    """A field of a run the server sent, as text; a run without it is a bad answer."""
    value = run.get(key)
    if not isinstance(value, str) or not value:
        raise errors.BadResponseError(f"The server's run has no {key}.")
    return value


async def _look_for_lost_launch(
    client: DagsterClient, request_id: str, cause: errors.DaglabError
) -> dict[str, Any] | None:
    """After a lost launch response: the run, if the server made it; None if surely not."""
    for index, delay in enumerate(LOOKUP_DELAYS):
        if delay:
            if index == 1:
                log.warning(
                    "The launch response was lost (%s); looking the run up by its tag %s=%s "
                    "for up to %.0fs.",
                    clean(cause.message, one_line=True).rstrip("."),
                    REQUEST_ID_TAG,
                    request_id,
                    sum(LOOKUP_DELAYS),
                )
            await asyncio.sleep(delay)
        try:
            found = await find_run_by_request_id(client, request_id)
        except errors.AuthError:
            raise
        except errors.DaglabError:
            if isinstance(cause, errors.UnreachableError) and cause.message.startswith(
                "Cannot reach"
            ):
                raise cause from None  # no connection at all: the launch never left
            raise errors.ServerError(
                f"{cause.message} The run may or may not have been created; it would carry "
                f"the tag {REQUEST_ID_TAG}={request_id}.",
                hint="Check the Dagster UI before launching again.",
            ) from None
        if found is not None:
            return found
    return None


async def submit_job_run(
    client: DagsterClient,
    job_name: str,
    repository: str | None = None,
    location: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    asset_selection: Sequence[str] | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    partition: str | None = None,
) -> RunSubmitResult:
    """Launch ``job_name`` (resolving its location and repository when not given)."""
    if location is not None and repository is not None:
        target = RunTarget(job_name, location, repository)
    else:
        target = await resolve_job(client, job_name, location, repository)
    if asset_selection:
        target = RunTarget(
            target.job, target.location, target.repository, tuple(split_asset_keys(asset_selection))
        )
    else:
        plan = await job_partition(client, target, partition)
        if plan is not None:
            run_config = merge_run_config(plan.run_config, dict(run_config or {}))
            tags = {**plan.tags, **dict(tags or {})}
    return await launch_run(client, target, run_config=run_config, tags=tags, partition=partition)


async def submit_asset_run(
    client: DagsterClient,
    asset_selection: str | Sequence[str],
    repository: str | None = None,
    location: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    partition: str | None = None,
) -> RunSubmitResult:
    """Materialize exactly the assets ``asset_selection`` (keys like ``"orders/raw_orders"``)
    through the implicit asset job that contains them all."""
    target = await resolve_assets(
        client, keys=asset_selection, location=location, repository=repository
    )
    await check_partition(client, target, partition)
    return await launch_run(client, target, run_config=run_config, tags=tags, partition=partition)
