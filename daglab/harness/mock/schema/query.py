"""The Query root: workspace, jobs, config, runs, logs, captured logs, instance, assets and
backfills."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from daglab.harness.mock.records import RunRecord
from daglab.harness.mock.schema.backfills import (
    PartitionBackfill,
    PartitionBackfillOrError,
    PartitionBackfills,
    PartitionBackfillsOrError,
)
from daglab.harness.mock.schema.context import MockContext, mock_context
from daglab.harness.mock.schema.enums import (
    BulkActionStatus,
    RepositoryLocationLoadStatus,
    RunConfigData,
)
from daglab.harness.mock.schema.errors import (
    AssetNotFoundError,
    BackfillNotFoundError,
    InvalidPipelineRunsFilterError,
    PartitionSetNotFoundError,
    RepositoryNotFoundError,
    python_error,
)
from daglab.harness.mock.schema.events import EventConnectionOrError, event_page
from daglab.harness.mock.schema.forced import forced
from daglab.harness.mock.schema.inputs import (
    AssetGroupSelector,
    AssetKeyInput,
    BulkActionsFilter,
    PipelineSelector,
    RepositorySelector,
    RunsFilter,
)
from daglab.harness.mock.schema.instance import DaemonHealth, Instance
from daglab.harness.mock.schema.lookups import asset_paths, resolve_selector, run_not_found
from daglab.harness.mock.schema.partitions import (
    PartitionSetOrError,
    PartitionSets,
    PartitionSetsOrError,
)
from daglab.harness.mock.schema.runs import (
    CapturedLogs,
    CapturedLogsMetadata,
    Run,
    RunIds,
    RunIdsOrError,
    RunOrError,
    Runs,
    RunsOrError,
)
from daglab.harness.mock.schema.validation import (
    PipelineConfigValidationResult,
    RunConfigSchema,
    RunConfigSchemaOrError,
    check_config,
)
from daglab.harness.mock.schema.workspace import (
    Asset,
    AssetConnection,
    AssetNode,
    AssetNodeOrError,
    AssetsOrError,
    Pipeline,
    PipelineOrError,
    RepositoriesOrError,
    Repository,
    RepositoryConnection,
    RepositoryOrError,
    Workspace,
    WorkspaceLocationEntry,
    WorkspaceLocationStatusEntries,
    WorkspaceLocationStatusEntriesOrError,
    WorkspaceLocationStatusEntry,
    WorkspaceOrError,
    asset_key,
    sorted_assets,
)

LOG_BASE_DIR = "/mock/dagster_home/storage"


def _run_or_error(info: Info, run_id: strawberry.ID) -> RunOrError:
    if (err := forced(info, runId=run_id)) is not None:
        return err  # type: ignore[no-any-return]
    ctx = mock_context(info)
    rec = ctx.state.get_run(str(run_id))
    if rec is None:
        return run_not_found(str(run_id))
    return Run(rec=rec, now=ctx.now)


def _runs_page(
    ctx: MockContext, filter: RunsFilter | None, cursor: str | None, limit: int | None
) -> tuple[list[RunRecord], int] | InvalidPipelineRunsFilterError:
    """The runs a filter matches after the run id ``cursor`` (newest first), and their count."""
    f = filter or RunsFilter()
    runs = ctx.state.list_runs(
        run_ids=f.run_ids,
        job_name=f.pipeline_name,
        tags={t.key: t.value for t in f.tags} if f.tags else None,
        statuses=[s.value for s in f.statuses] if f.statuses else None,
        created_after=f.created_after,
        created_before=f.created_before,
    )
    if ctx.config.run_lookup_lag > 0:
        runs = [r for r in runs if r.created_at <= ctx.now - ctx.config.run_lookup_lag]
    count = len(runs)
    if cursor:
        ids = [r.run_id for r in runs]
        if cursor not in ids:
            return InvalidPipelineRunsFilterError(message=f"Run {cursor} not found")
        runs = runs[ids.index(cursor) + 1 :]
    if limit is not None:
        runs = runs[: max(limit, 0)]
    return runs, count


def _runs_or_error(
    info: Info,
    filter: RunsFilter | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> RunsOrError:
    if (err := forced(info)) is not None:
        return err  # type: ignore[no-any-return]
    ctx = mock_context(info)
    page = _runs_page(ctx, filter, cursor, limit)
    if not isinstance(page, tuple):
        return page
    runs, count = page
    return Runs(results=[Run(rec=r, now=ctx.now) for r in runs], count=count)


def _log_file(ctx: MockContext, log_key: list[str]) -> tuple[RunRecord | None, str]:
    """The run and file key of a compute log key ``[run id, "compute_logs", file key]``.
    Parts that leave the log directory are Dagster's ``ValueError: Invalid path``."""
    if any(not part or part in (".", "..") or "/" in part for part in log_key):
        raise ValueError("Invalid path")
    if len(log_key) != 3 or log_key[1] != "compute_logs":
        return None, log_key[-1] if log_key else ""
    return ctx.state.get_run(log_key[0]), log_key[2]


def _parse_log_cursor(cursor: str | None) -> tuple[int, int]:
    """Dagster's ``ComputeLogManager.parse_cursor``: "<stdout offset>:<stderr offset>"."""
    if not cursor:
        return 0, 0
    parts = cursor.split(":")
    if len(parts) != 2:
        return 0, 0
    return int(parts[0]), int(parts[1])


def _read_log(data: bytes | None, offset: int, limit: int | None) -> tuple[str | None, int]:
    """Dagster's ``read_path``: the bytes from ``offset`` (``limit`` of them) and the new
    offset; decoded as ``from_captured_log_data`` does (invalid UTF-8 replaced)."""
    if data is None:
        return None, offset
    chunk = data[offset:] if limit is None else data[offset : offset + max(limit, 0)]
    return (chunk.decode("utf-8", errors="replace") if chunk else None), offset + len(chunk)


def _backfill_not_found(backfill_id: str) -> BackfillNotFoundError:
    return BackfillNotFoundError(
        message=f"Backfill {backfill_id} could not be found.", backfill_id=backfill_id
    )


@strawberry.type
class Query:
    @strawberry.field
    def version(self, info: Info) -> str:
        return mock_context(info).config.version

    @strawberry.field
    def workspace_or_error(self, info: Info) -> WorkspaceOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        locations = mock_context(info).state.locations.values()
        return Workspace(
            id="Workspace", location_entries=[WorkspaceLocationEntry(loc=loc) for loc in locations]
        )

    @strawberry.field
    def location_statuses_or_error(self, info: Info) -> WorkspaceLocationStatusEntriesOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        return WorkspaceLocationStatusEntries(
            entries=[
                WorkspaceLocationStatusEntry(
                    id=strawberry.ID(loc.name),
                    name=loc.name,
                    load_status=RepositoryLocationLoadStatus.LOADED,
                    update_timestamp=loc.updated_timestamp,
                    version_key=f"{loc.name}-{int(loc.updated_timestamp)}",
                )
                for loc in mock_context(info).state.locations.values()
            ]
        )

    @strawberry.field
    def repositories_or_error(
        self, info: Info, repository_selector: RepositorySelector | None = None
    ) -> RepositoriesOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        locations = mock_context(info).state.loaded_locations()
        if repository_selector is not None:
            locations = [
                loc
                for loc in locations
                if loc.name == repository_selector.repository_location_name
                and loc.repository == repository_selector.repository_name
            ]
            if not locations:
                return RepositoryNotFoundError(
                    message="Could not find a repository named "
                    f"{repository_selector.repository_name} in location "
                    f"{repository_selector.repository_location_name}",
                    repository_name=repository_selector.repository_name,
                    repository_location_name=repository_selector.repository_location_name,
                )
        return RepositoryConnection(nodes=[Repository(loc=loc) for loc in locations])

    @strawberry.field
    def repository_or_error(
        self, info: Info, repository_selector: RepositorySelector
    ) -> RepositoryOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        for loc in mock_context(info).state.loaded_locations():
            if (
                loc.name == repository_selector.repository_location_name
                and loc.repository == repository_selector.repository_name
            ):
                return Repository(loc=loc)
        return RepositoryNotFoundError(
            message=f"Could not find a repository named {repository_selector.repository_name}",
            repository_name=repository_selector.repository_name,
            repository_location_name=repository_selector.repository_location_name,
        )

    @strawberry.field
    def partition_sets_or_error(
        self, info: Info, repository_selector: RepositorySelector, pipeline_name: str
    ) -> PartitionSetsOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        return PartitionSets(results=[])

    @strawberry.field
    def partition_set_or_error(
        self,
        info: Info,
        repository_selector: RepositorySelector,
        partition_set_name: str | None = None,
    ) -> PartitionSetOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        return PartitionSetNotFoundError(
            message=f"Partition set {partition_set_name} could not be found.",
            partition_set_name=partition_set_name or "",
        )

    @strawberry.field
    def pipeline_or_error(self, info: Info, params: PipelineSelector) -> PipelineOrError:
        if (err := forced(info, params=params)) is not None:
            return err  # type: ignore[no-any-return]
        found = resolve_selector(mock_context(info), params)
        if not isinstance(found, tuple):
            return found  # type: ignore[no-any-return]
        return Pipeline(loc=found[0], job=found[1])

    @strawberry.field
    def is_pipeline_config_valid(
        self,
        info: Info,
        pipeline: PipelineSelector,
        mode: str,
        run_config_data: RunConfigData | None = None,
    ) -> PipelineConfigValidationResult:
        if (err := forced(info, pipeline=pipeline)) is not None:
            return err  # type: ignore[no-any-return]
        found = resolve_selector(mock_context(info), pipeline)
        if not isinstance(found, tuple):
            return found  # type: ignore[no-any-return]
        return check_config(found[1], run_config_data)  # type: ignore[no-any-return]

    @strawberry.field
    def run_config_schema_or_error(
        self, info: Info, selector: PipelineSelector, mode: str | None = None
    ) -> RunConfigSchemaOrError:
        if (err := forced(info, selector=selector)) is not None:
            return err  # type: ignore[no-any-return]
        found = resolve_selector(mock_context(info), selector)
        if not isinstance(found, tuple):
            return found  # type: ignore[no-any-return]
        return RunConfigSchema(job=found[1])

    # The old pipeline* names answer as the new ones do.
    run_or_error = strawberry.field(resolver=_run_or_error)
    pipeline_run_or_error = strawberry.field(resolver=_run_or_error)
    runs_or_error = strawberry.field(resolver=_runs_or_error)
    pipeline_runs_or_error = strawberry.field(resolver=_runs_or_error)

    @strawberry.field
    def run_ids_or_error(
        self,
        info: Info,
        filter: RunsFilter | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> RunIdsOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        page = _runs_page(mock_context(info), filter, cursor, limit)
        if not isinstance(page, tuple):
            return page
        return RunIds(results=[r.run_id for r in page[0]])

    @strawberry.field
    def captured_logs_metadata(self, info: Info, log_key: list[str]) -> CapturedLogsMetadata:
        _log_file(mock_context(info), log_key)
        *namespace, file_key = log_key
        base = "/".join([LOG_BASE_DIR, *namespace])
        url = "/".join(["/logs", *log_key])
        return CapturedLogsMetadata(
            stdout_download_url=f"{url}/out",
            stdout_location=f"{base}/{file_key}.out",
            stderr_download_url=f"{url}/err",
            stderr_location=f"{base}/{file_key}.err",
        )

    @strawberry.field
    def captured_logs(
        self,
        info: Info,
        log_key: list[str],
        cursor: str | None = None,
        limit: int | None = None,
    ) -> CapturedLogs:
        ctx = mock_context(info)
        run, file_key = _log_file(ctx, log_key)
        out_offset, err_offset = _parse_log_cursor(cursor)
        out = run.captured_bytes(file_key, "stdout", ctx.now) if run else None
        err = run.captured_bytes(file_key, "stderr", ctx.now) if run else None
        stdout, out_offset = _read_log(out, out_offset, limit)
        stderr, err_offset = _read_log(err, err_offset, limit)
        return CapturedLogs(
            log_key=log_key, stdout=stdout, stderr=stderr, cursor=f"{out_offset}:{err_offset}"
        )

    @strawberry.field
    def partition_backfill_or_error(self, info: Info, backfill_id: str) -> PartitionBackfillOrError:
        if (err := forced(info, backfill_id=backfill_id)) is not None:
            return err  # type: ignore[no-any-return]
        ctx = mock_context(info)
        rec = ctx.state.get_backfill(backfill_id)
        if rec is None:
            return _backfill_not_found(backfill_id)
        return PartitionBackfill(rec=rec, state=ctx.state, now=ctx.state.now())

    @strawberry.field
    def partition_backfills_or_error(
        self,
        info: Info,
        status: BulkActionStatus | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        filters: BulkActionsFilter | None = None,
    ) -> PartitionBackfillsOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        ctx = mock_context(info)
        found = ctx.state.list_backfills()
        wanted = {status.value} if status else None
        if filters is not None and filters.statuses:
            wanted = {s.value for s in filters.statuses}
        if wanted:
            found = [b for b in found if b.status in wanted]
        if filters is not None and filters.created_after is not None:
            found = [b for b in found if b.created_at > filters.created_after]
        if filters is not None and filters.created_before is not None:
            found = [b for b in found if b.created_at < filters.created_before]
        if cursor:
            ids = [b.backfill_id for b in found]
            found = found[ids.index(cursor) + 1 :] if cursor in ids else []
        if limit is not None:
            found = found[: max(limit, 0)]
        now = ctx.state.now()
        return PartitionBackfills(
            results=[PartitionBackfill(rec=b, state=ctx.state, now=now) for b in found]
        )

    @strawberry.field
    def logs_for_run(
        self,
        info: Info,
        run_id: strawberry.ID,
        after_cursor: str | None = None,
        limit: int | None = None,
    ) -> EventConnectionOrError:
        if (err := forced(info, runId=run_id)) is not None:
            return err  # type: ignore[no-any-return]
        ctx = mock_context(info)
        rec = ctx.state.get_run(str(run_id))
        if rec is None:
            return run_not_found(str(run_id))
        try:
            return event_page(rec, ctx.now, after_cursor, limit)
        except ValueError as exc:
            return python_error(str(exc), "CheckError")

    @strawberry.field
    def instance(self, info: Info) -> Instance:
        ctx = mock_context(info)
        return Instance(
            id="Instance",
            info=None,
            run_queuing_supported=ctx.config.run_queue,
            daemon_health=DaemonHealth(
                id="daemonHealth",
                required=ctx.config.run_queue,
                healthy=ctx.config.daemon_healthy,
                now=ctx.now,
            ),
            has_info=False,
            executable_path="/mock/bin/python",
        )

    @strawberry.field
    def asset_nodes(
        self,
        info: Info,
        group: AssetGroupSelector | None = None,
        pipeline: PipelineSelector | None = None,
        asset_keys: list[AssetKeyInput] | None = None,
        load_materializations: bool | None = False,
    ) -> list[AssetNode]:
        out = []
        wanted = set(asset_paths(asset_keys) or [])
        for loc in mock_context(info).state.loaded_locations():
            for asset in sorted_assets(loc):
                if wanted and asset.path not in wanted:
                    continue
                if group is not None and (
                    group.group_name != asset.group
                    or group.repository_location_name != loc.name
                    or group.repository_name != loc.repository
                ):
                    continue
                if pipeline is not None:
                    job = loc.jobs.get(pipeline.pipeline_name)
                    if pipeline.repository_location_name != loc.name or job is None:
                        continue
                    if asset.path not in job.assets:
                        continue
                out.append(AssetNode(loc=loc, asset=asset))
        return out

    @strawberry.field
    def asset_node_or_error(self, info: Info, asset_key: AssetKeyInput) -> AssetNodeOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        path = tuple(asset_key.path)
        state = mock_context(info).state
        loc = state.location_of_asset(path)
        if loc is None:
            return AssetNotFoundError(message=f"Asset key {list(path)} not found.")
        return AssetNode(loc=loc, asset=loc.assets[path])

    @strawberry.field
    def assets_or_error(
        self,
        info: Info,
        prefix: list[str] | None = None,
        asset_keys: list[AssetKeyInput] | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> AssetsOrError:
        if (err := forced(info)) is not None:
            return err  # type: ignore[no-any-return]
        nodes = []
        wanted = set(asset_paths(asset_keys) or [])
        for loc in mock_context(info).state.loaded_locations():
            for asset in sorted_assets(loc):
                if prefix and list(asset.path[: len(prefix)]) != prefix:
                    continue
                if wanted and asset.path not in wanted:
                    continue
                nodes.append((asset.key, loc, asset))
        nodes.sort(key=lambda n: n[0])
        if cursor:
            nodes = [n for n in nodes if n[0] > cursor]
        if limit is not None:
            nodes = nodes[: max(limit, 0)]
        return AssetConnection(
            nodes=[
                Asset(
                    id=f'["{key}"]',
                    key=asset_key(asset.path),
                    definition=AssetNode(loc=loc, asset=asset),
                )
                for key, loc, asset in nodes
            ],
            cursor=nodes[-1][0] if nodes else None,
        )
