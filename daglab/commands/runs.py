"""``daglab runs list`` and ``daglab runs show``: the run history and one run in full.

Only typer and the standard library are imported at module level.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

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
    from daglab.helpers.models import RunDetails, RunSummary
    from daglab.helpers.runs.history import RunFilter

app = typer.Typer(
    help="List the runs of the server, and show one run in full.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

FILTERS = "Filters"

StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        help="Only runs with this status (repeatable): SUCCESS, FAILURE, CANCELED, STARTED, "
        "QUEUED, ...",
        rich_help_panel=FILTERS,
        show_default=False,
    ),
]
JobOpt = Annotated[
    str | None,
    typer.Option("--job", help="Only runs of this job.", rich_help_panel=FILTERS),
]
TagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        help="Only runs carrying this tag key=value (repeatable: all of them).",
        rich_help_panel=FILTERS,
        show_default=False,
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Only runs created after: a duration ago (30m, 2h, 7d) or an ISO date/time.",
        rich_help_panel=FILTERS,
    ),
]
BeforeOpt = Annotated[
    str | None,
    typer.Option(
        "--before",
        help="Only runs created before: a duration ago (30m, 2h, 7d) or an ISO date/time.",
        rich_help_panel=FILTERS,
    ),
]
LocationOpt = Annotated[
    str | None,
    typer.Option("--location", help="Only runs of this code location.", rich_help_panel=FILTERS),
]
DaglabOpt = Annotated[
    bool | None,
    typer.Option(
        "--daglab/--not-daglab",
        help="Only runs daglab launched (they carry the daglab/request_id tag), or only others.",
        rich_help_panel=FILTERS,
        show_default=False,
    ),
]


def build_filter(
    status: list[str] | None,
    job: str | None,
    tag: list[str] | None,
    since: str | None,
    before: str | None,
    location: str | None,
    daglab: bool | None,
) -> RunFilter:
    from daglab.helpers.runs.history import RunFilter, parse_time, tag_filter

    return RunFilter(
        statuses=tuple(s.upper() for s in status or []),
        job=job,
        tags=tag_filter(tag or []),
        created_after=parse_time(since, name="since") if since else None,
        created_before=parse_time(before, name="before") if before else None,
        location=location,
        launched_by_daglab=daglab,
    )


# -- rendering ----------------------------------------------------------------------------------

HEADERS = ["run id", "job or assets", "status", "started", "duration"]


def _what(run: RunSummary) -> str:
    if run.asset_selection:
        keys = ", ".join(run.asset_selection[:3]) + (" ..." if len(run.asset_selection) > 3 else "")
        return keys
    return run.job or ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def row(run: RunSummary) -> list[object]:
    from daglab.helpers.display import format_time

    what = _what(run)
    if run.partition:
        what += f" [{run.partition}]"
    return [
        run.run_id[:8],
        what,
        run.status,
        format_time(run.started_at or run.created_at),
        _duration(run.duration_s),
    ]


# -- daglab runs list ---------------------------------------------------------------------------


@app.command("list")
@with_global_options
def list_(
    opts: GlobalOptions,
    status: StatusOpt = None,
    job: JobOpt = None,
    tag: TagOpt = None,
    since: SinceOpt = None,
    before: BeforeOpt = None,
    location: LocationOpt = None,
    daglab: DaglabOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Show at most this many runs.", min=1)
    ] = 20,
    all_: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every matching run, streamed page by page (with --json: one JSON object "
            "per line, JSON Lines, instead of one document).",
        ),
    ] = False,
) -> None:
    """List runs, newest first: id, job or assets, status, start, duration.

    With --json: one document {"runs": [...], "count": N, "truncated": bool}; with --all
    --json: one run per line (JSON Lines), nothing else on stdout.
    """
    from daglab.helpers.runs.history import iter_runs
    from daglab.helpers.text import plural

    filters = build_filter(status, job, tag, since, before, location, daglab)

    if all_:

        async def stream() -> int:
            from daglab.helpers.display import clean

            count = 0
            async with opts.client() as client:
                async for run in iter_runs(client, filters, limit=None, page_size=500):
                    if opts.json:
                        sys.stdout.write(dumps_json_line(run.to_json()) + "\n")
                    else:
                        cells = [clean(c).replace("\n", " ") for c in map(str, row(run))]
                        if count == 0:
                            out(_fixed(HEADERS))
                        out(_fixed(cells))
                    count += 1
            sys.stdout.flush()
            return count

        count = run_async(stream())
        err(f"{plural(count, 'run')}.")
        return

    async def first() -> tuple[list[RunSummary], bool]:
        async with opts.client() as client:
            runs = [r async for r in iter_runs(client, filters, limit=limit + 1)]
        return runs[:limit], len(runs) > limit

    runs, truncated = run_async(first())
    if opts.json:
        print_json(
            {"runs": [r.to_json() for r in runs], "count": len(runs), "truncated": truncated}
        )
        return
    if not runs:
        err("No runs match.")
        return
    from daglab.helpers.display import text_table

    out(text_table(HEADERS, [row(r) for r in runs]))
    more = f"; more with --limit {limit * 5} or --all" if truncated else ""
    err(f"{plural(len(runs), 'run')}, newest first{more}.")


_WIDTHS = (8, 40, 10, 19, 8)


def _fixed(cells: list[str]) -> str:
    padded = []
    for cell, width in zip(cells, _WIDTHS, strict=False):
        text = cell if len(cell) <= width else cell[: width - 1] + "…"
        padded.append(text.ljust(width))
    return "  ".join(padded).rstrip()


def dumps_json_line(document: object) -> str:
    import json

    return json.dumps(document, separators=(",", ":"), default=str)


# -- daglab runs show ---------------------------------------------------------------------------


@app.command("show")
@with_global_options
def show(
    opts: GlobalOptions,
    run: Annotated[
        str,
        typer.Argument(
            help="The run: full id, a unique prefix of 8+ characters, or latest / "
            "last-failure / last-success (scoped by the filters)."
        ),
    ],
    status: StatusOpt = None,
    job: JobOpt = None,
    tag: TagOpt = None,
    since: SinceOpt = None,
    before: BeforeOpt = None,
    location: LocationOpt = None,
    daglab: DaglabOpt = None,
) -> None:
    """Show one run: status, times, job, tags, assets, steps, materializations, the failing
    step with its error and causes, and its URL."""
    from daglab.helpers.runs.history import resolve_run_ref
    from daglab.helpers.runs.logs import get_run_details

    filters = build_filter(status, job, tag, since, before, location, daglab)

    async def main() -> RunDetails:
        async with opts.client() as client:
            run_id = await resolve_run_ref(client, run, filters)
            return await get_run_details(client, run_id)

    details = run_async(main())
    if opts.json:
        print_json(details.to_json())
        return
    out(render_details(details))


def render_details(details: RunDetails) -> str:
    from daglab.helpers.display import clean, format_time, text_table

    r = details.run
    lines = [
        f"Run       {r.run_id}",
        f"Status    {r.status}",
        f"Job       {clean(r.job or '')}"
        + (f"  ({clean(r.location)}/{clean(r.repository)})" if r.location else ""),
    ]
    if r.asset_selection:
        lines.append(f"Assets    {clean(', '.join(r.asset_selection))}")
    if r.partition:
        lines.append(f"Partition {clean(r.partition)}")
    lines.append(f"Created   {format_time(r.created_at)}")
    if r.started_at:
        lines.append(f"Started   {format_time(r.started_at)}")
    if r.ended_at:
        lines.append(f"Ended     {format_time(r.ended_at)}  ({_duration(r.duration_s)})")
    if details.parent_run_id:
        lines.append(f"Parent    {details.parent_run_id} (root {details.root_run_id})")
    user_tags = {k: v for k, v in r.tags.items()}
    if user_tags:
        lines.append("Tags      " + clean(", ".join(f"{k}={v}" for k, v in user_tags.items())))
    lines.append(f"URL       {r.url}")
    if details.steps:
        lines.append("")
        lines.append(
            text_table(
                ["step", "status", "started", "duration"],
                [
                    [s.key, s.status or "", format_time(s.started_at), _duration(s.duration_s)]
                    for s in details.steps
                ],
            )
        )
    if details.materializations:
        lines.append("")
        lines.append(f"Materialized ({len(details.materializations)}):")
        for m in details.materializations:
            part = f" [{m.partition}]" if m.partition else ""
            lines.append(f"  {clean(m.key)}{clean(part)}")
    for failure in details.failures:
        lines.append("")
        lines.append(f"Failed step: {clean(failure.step or '?')}")
        lines.extend("  " + line for line in clean(failure.message).strip().splitlines()[:20])
        for cause in failure.causes:
            head = clean(cause.message).strip().splitlines() or [""]
            name = _cause_prefix(cause)
            lines.append(f"  caused by {clean(name)}{head[0]}")
            lines.extend("    " + line for line in head[1:10])
    if details.run_error and not details.failures:
        lines.append("")
        lines.append("The run failed: " + clean(details.run_error))
    return "\n".join(lines)


def _cause_prefix(cause: object) -> str:
    """``ClassName: `` unless the cause's message already starts with it."""
    name = getattr(cause, "class_name", None)
    message = str(getattr(cause, "message", "") or "")
    return f"{name}: " if name and not message.startswith(f"{name}:") else ""
