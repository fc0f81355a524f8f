"""``daglab backfills list|show|cancel|resume``, and the backfill half of ``daglab run
--partitions/--partition-range``.

Only typer and the standard library are imported at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab.commands._options import (
    GlobalOptions,
    err,
    out,
    print_json,
    run_async,
    with_global_options,
)

if TYPE_CHECKING:
    from daglab.helpers.models import BackfillInfo

app = typer.Typer(
    help="List, show, cancel and resume partition backfills.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


def counts(info: BackfillInfo) -> str:
    return (
        f"{info.requested} requested, {info.in_progress} in progress, "
        f"{info.succeeded} succeeded, {info.failed} failed"
    )


class BackfillProgress:
    def __init__(self) -> None:
        import time

        self.started = time.monotonic()

    def __call__(self, info: BackfillInfo) -> None:
        import time

        elapsed = time.monotonic() - self.started
        err(f"[{elapsed:6.1f}s] backfill {info.status}: {counts(info)}")


def finish(info: BackfillInfo, opts: GlobalOptions) -> None:
    """Print a waited-for backfill's outcome; exit 0 only if every partition succeeded."""
    from daglab.helpers.runs.backfills import backfill_error

    if opts.json:
        print_json(info.to_json())
    problem = backfill_error(info)
    if problem is None:
        err(f"Backfill {info.backfill_id} {info.status}: {counts(info)}.")
        err(info.url)
        return
    raise problem


def wait_for(opts: GlobalOptions, backfill_id: str, timeout: float | None) -> BackfillInfo:
    from daglab.helpers.runs.backfills import watch_backfill

    async def main() -> BackfillInfo:
        async with opts.client() as client:
            return await watch_backfill(
                client, backfill_id, timeout or None, on_progress=BackfillProgress()
            )

    return run_async(main())


def launch_from_run(
    opts: GlobalOptions,
    target_args: dict[str, Any],
    partitions: list[str] | None,
    partition_range: str | None,
    tags: dict[str, str],
    wait: bool,
    timeout: float | None,
) -> None:
    """``daglab run ... --partitions a,b | --partition-range A...B``: one backfill."""
    import uuid

    from daglab.helpers.runs.backfills import (
        choose_partitions,
        launch_backfill,
        resolve_backfill_target,
    )
    from daglab.helpers.text import plural

    request_id = uuid.uuid4().hex

    async def main() -> BackfillInfo:
        async with opts.client() as client:
            target = await resolve_backfill_target(client, **target_args)
            chosen = await choose_partitions(client, target, partitions, partition_range)
            info = await launch_backfill(client, target, chosen, tags=tags, request_id=request_id)
            what = (
                f"job {target.job}"
                if not target.is_asset_run
                else (
                    f"{plural(len(target.asset_selection), 'asset')} ({', '.join(target.asset_selection[:3])})"
                )
            )
            err(
                f"Launched backfill {info.backfill_id}: {plural(len(chosen), 'partition')} "
                f"({chosen[0]} … {chosen[-1]}) of {what}"
            )
            err(f"  {info.url}")
            return info

    info = run_async(main())
    if not wait:
        if opts.json:
            print_json(info.to_json())
        err(f"Not waiting. Follow it with `daglab backfills show {info.backfill_id} --wait`.")
        return
    finish(wait_for(opts, info.backfill_id, timeout), opts)


@app.command("list")
@with_global_options
def list_(
    opts: GlobalOptions,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only backfills with this status (REQUESTED, COMPLETED, FAILED, CANCELED, ...).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many.", min=1)] = 20,
) -> None:
    """List backfills, newest first. --json: {"backfills": [...], "count": N}."""
    from daglab.helpers.display import format_time, text_table
    from daglab.helpers.runs.backfills import list_backfills

    async def main() -> list[BackfillInfo]:
        async with opts.client() as client:
            return await list_backfills(client, status, limit)

    found = run_async(main())
    if opts.json:
        print_json({"backfills": [b.to_json() for b in found], "count": len(found)})
        return
    if not found:
        err("No backfills.")
        return
    rows = [
        [
            b.backfill_id,
            b.status,
            b.job or ", ".join(b.asset_selection),
            b.requested,
            format_time(b.created_at),
        ]
        for b in found
    ]
    out(text_table(["backfill", "status", "job or assets", "partitions", "created"], rows))


@app.command("show")
@with_global_options
def show(
    opts: GlobalOptions,
    backfill_id: Annotated[str, typer.Argument(metavar="BACKFILL", help="The backfill id.")],
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Wait until it ends, with its partition counts as they "
            "change: exit 0 only if every partition succeeded, 1 otherwise, 4 on "
            "timeout.",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="With --wait: seconds before giving up (exit 4); 0 waits without limit.",
            min=0.0,
        ),
    ] = 600.0,
) -> None:
    """Show a backfill: status, partitions requested, in progress, succeeded and failed."""
    from daglab.helpers.runs.backfills import get_backfill

    if wait:
        finish(wait_for(opts, backfill_id, timeout), opts)
        return

    async def main() -> BackfillInfo:
        async with opts.client() as client:
            return await get_backfill(client, backfill_id)

    info = run_async(main())
    if opts.json:
        print_json(info.to_json())
        return
    from daglab.helpers.display import clean

    lines = [
        f"Backfill   {clean(info.backfill_id)}",
        f"Status     {clean(info.status)}",
        f"Target     {clean(info.job or ', '.join(info.asset_selection))}",
        f"Partitions {counts(info)}",
    ]
    if info.failed_partitions:
        lines.append(f"Failed     {clean(', '.join(info.failed_partitions))}")
    if info.error:
        lines.append(f"Error      {clean(info.error)}")
    lines.append(f"URL        {info.url}")
    out("\n".join(lines))


def _act(opts: GlobalOptions, backfill_id: str, action: str) -> None:
    from daglab.helpers.runs import backfills

    operation = backfills.cancel_backfill if action == "cancel" else backfills.resume_backfill

    async def main() -> BackfillInfo:
        async with opts.client() as client:
            return await operation(client, backfill_id)

    info = run_async(main())
    if opts.json:
        print_json(info.to_json())
    err(f"Backfill {info.backfill_id} is {info.status} ({counts(info)}).")


@app.command("cancel")
@with_global_options
def cancel(
    opts: GlobalOptions,
    backfill_id: Annotated[str, typer.Argument(metavar="BACKFILL", help="The backfill id.")],
) -> None:
    """Cancel a backfill: no new runs; runs in flight are canceled by the daemon."""
    _act(opts, backfill_id, "cancel")


@app.command("resume")
@with_global_options
def resume(
    opts: GlobalOptions,
    backfill_id: Annotated[str, typer.Argument(metavar="BACKFILL", help="The backfill id.")],
) -> None:
    """Resume a failed or canceled backfill."""
    _act(opts, backfill_id, "resume")
