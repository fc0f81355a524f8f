"""Lookups the query and mutation resolvers share: a job from its selector, a run's absence."""

from __future__ import annotations

from typing import Any

from daglab.harness.mock.definitions import JobDef, LocationDef
from daglab.harness.mock.records import UnknownTarget
from daglab.harness.mock.schema.context import MockContext
from daglab.harness.mock.schema.errors import PipelineNotFoundError, RunNotFoundError
from daglab.harness.mock.schema.inputs import AssetKeyInput, PipelineSelector
from daglab.harness.mock.schema.workspace import InvalidSubsetError, Pipeline


def asset_paths(keys: list[AssetKeyInput] | None) -> list[tuple[str, ...]] | None:
    return [tuple(k.path) for k in keys] if keys else None


def job_not_found(location: str, repository: str, job_name: str) -> PipelineNotFoundError:
    return PipelineNotFoundError(
        message=f"Could not find Pipeline {location}.{repository}.{job_name}",
        pipeline_name=job_name,
        repository_name=repository,
        repository_location_name=location,
    )


def resolve_job(
    ctx: MockContext,
    location: str,
    repository: str,
    job_name: str,
    asset_selection: list[tuple[str, ...]] | None,
) -> tuple[LocationDef, JobDef] | Any:
    try:
        loc, job = ctx.state.find_job(location, repository, job_name)
    except UnknownTarget:
        return job_not_found(location, repository, job_name)
    if asset_selection:
        unknown = [p for p in asset_selection if p not in job.assets]
        if not job.is_asset_job or unknown:
            names = ", ".join("/".join(p) for p in unknown or asset_selection)
            return InvalidSubsetError(
                message=f"Assets not found in job {job_name}: {names}",
                pipeline=Pipeline(loc=loc, job=job),
            )
    return loc, job


def resolve_selector(
    ctx: MockContext, selector: PipelineSelector
) -> tuple[LocationDef, JobDef] | Any:
    """``resolve_job`` for the job (and asset subset) a PipelineSelector names."""
    return resolve_job(
        ctx,
        selector.repository_location_name,
        selector.repository_name,
        selector.pipeline_name,
        asset_paths(selector.asset_selection),
    )


def run_not_found(run_id: str) -> RunNotFoundError:
    return RunNotFoundError(message=f"Run {run_id} could not be found.", run_id=run_id)
