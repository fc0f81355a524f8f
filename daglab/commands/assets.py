"""``daglab assets status|history``: asset health (latest materialization, runs in flight,
staleness, partitions, checks) and an asset's materialization history.

Only typer and the standard library are imported at module level.
"""

from __future__ import annotations

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
    from daglab.helpers.models import AssetHealth, AssetInfo, MaterializationRecord

app = typer.Typer(
    help="Asset health: latest materialization, runs, staleness, partitions, checks; history.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

Selection = Annotated[
    str | None,
    typer.Argument(
        metavar="[SELECTION]",
        help="A Dagster asset selection, e.g. 'key:\"sales/*\"', 'group:reporting', "
        "'+key:\"sales/report\"' (default: every asset; the same as --select).",
        show_default=False,
    ),
]
AssetKeys = Annotated[
    str | None,
    typer.Option(
        "--asset-selection",
        help="Exactly these assets: comma-separated keys, e.g. 'sales/orders,sales/customers'.",
        show_default=False,
    ),
]
Pattern = Annotated[
    str | None,
    typer.Option(
        "--asset-pattern",
        help="The assets whose key matches a wildcard pattern, e.g. 'sales/*'.",
        show_default=False,
    ),
]
SelectOption = Annotated[
    str | None,
    typer.Option(
        "--select",
        help="A Dagster asset selection, as SELECTION (for scripts that pass it as for `daglab run`).",
        show_default=False,
    ),
]
Location = Annotated[
    str | None, typer.Option("--location", help="Only this code location.", show_default=False)
]
Repo = Annotated[
    str | None, typer.Option("--repo", help="Only this repository.", show_default=False)
]


def chosen_assets(
    opts: GlobalOptions,
    select: str | None,
    keys: str | None,
    pattern: str | None,
    location: str | None,
    repo: str | None,
    select_option: str | None = None,
) -> list[AssetInfo]:
    from daglab.helpers.assets import select_assets

    if select is not None and select_option is not None:
        from daglab.helpers.errors import BadInputError

        raise BadInputError("Give the selection once: as SELECTION or with --select.")
    select = select if select is not None else select_option

    async def main() -> list[AssetInfo]:
        async with opts.client() as client:
            return await select_assets(
                client,
                keys=keys,
                pattern=pattern,
                select=select,
                location=location,
                repository=repo,
            )

    return run_async(main())


def _when(ts: float | None) -> str:
    from daglab.helpers.display import format_time

    return format_time(ts) if ts is not None else "-"


def health_lines(h: AssetHealth) -> list[str]:
    """One asset's health as text lines (every value already bounded and cleaned)."""
    from daglab.helpers.display import clean

    lines = [f"{clean(h.key)}  ({clean(h.location)})"]
    m = h.latest_materialization
    if m is None:
        lines.append("  materialized: never")
    else:
        part = f", partition {m.partition}" if m.partition else ""
        lines.append(f"  materialized: {_when(m.timestamp)} by run {m.run_id}{part}")
        for item in m.metadata:
            lines.append(
                f"    {item.label}: {item.value if item.value is not None else '(' + item.type + ')'}"
            )
    if h.latest_run_id:
        lines.append(f"  latest run: {h.latest_run_id} {h.latest_run_status or ''}".rstrip())
    if h.in_progress_run_ids:
        lines.append(f"  in progress: {', '.join(h.in_progress_run_ids)}")
    if h.queued_run_ids:
        lines.append(f"  queued: {', '.join(h.queued_run_ids)}")
    if h.stale_status is not None:
        lines.append(f"  staleness: {h.stale_status}")
        lines.extend(f"    {cause}" for cause in h.stale_causes)
    elif h.staleness_note:
        lines.append(f"  {h.staleness_note}")
    p = h.partitions
    if p is not None:
        lines.append(
            f"  partitions: {p.total} ({p.materialized} materialized, {p.failed} failed, "
            f"{p.in_progress} in progress, {p.missing} missing)"
        )
        for name, keys in (
            ("failed", p.failed_keys),
            ("in progress", p.in_progress_keys),
            ("missing", p.missing_keys),
        ):
            if keys:
                lines.append(f"    {name}: {', '.join(keys)}")
        if p.keys_truncated:
            lines.append("    (key lists cut short)")
        if p.keys_note:
            lines.append(f"    ({p.keys_note})")
    for c in h.checks:
        verdict = c.status or "never executed"
        severity = f", {c.severity}" if c.severity else ""
        blocking = ", blocking" if c.blocking else ""
        lines.append(f"  check {c.name}: {verdict}{severity}{blocking}")
    if h.checks_note:
        lines.append(f"  {h.checks_note}")
    return lines


@app.command("status")
@with_global_options
def status(
    opts: GlobalOptions,
    select: Selection = None,
    select_option: SelectOption = None,
    asset_selection: AssetKeys = None,
    asset_pattern: Pattern = None,
    location: Location = None,
    repo: Repo = None,
    partitions: Annotated[
        bool,
        typer.Option(
            "--partitions", help="List the partition keys that are missing, failed or in progress."
        ),
    ] = False,
) -> None:
    """Show the health of assets: the latest materialization (when, which run, its metadata),
    runs in progress, staleness, partition counts, checks and their latest execution.

    --json: {"assets": [...], "count": N}. Exit 0, or 2 for a bad selection.
    """
    from daglab.helpers.assets import asset_health

    assets = chosen_assets(
        opts, select, asset_selection, asset_pattern, location, repo, select_option
    )

    async def main() -> list[AssetHealth]:
        async with opts.client() as client:
            return await asset_health(client, assets, partition_keys=partitions)

    found = run_async(main())
    if opts.json:
        print_json({"assets": [h.to_json() for h in found], "count": len(found)})
        return
    lines: list[str] = []
    for h in found:
        lines.extend(health_lines(h))
    out("\n".join(lines))


@app.command("history")
@with_global_options
def history(
    opts: GlobalOptions,
    key: Annotated[str, typer.Argument(metavar="KEY", help="The asset key, e.g. sales/orders.")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many.", min=1)] = 20,
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="Only materializations before this time: '2h' ago, an ISO date, or epoch seconds.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """An asset's materializations, newest first, with their run, partition and metadata.

    --json: {"asset": KEY, "materializations": [...], "count": N}.
    """
    from daglab.helpers.assets import asset_history
    from daglab.helpers.runs.history import parse_time
    from daglab.helpers.selection import validate_asset_selection

    keys = validate_asset_selection(key, "keys")
    if len(keys) != 1:
        from daglab.helpers.errors import BadInputError

        raise BadInputError("Give one asset key (history is per asset).")
    cutoff = parse_time(before, name="before") if before is not None else None

    async def main() -> list[MaterializationRecord]:
        async with opts.client() as client:
            return await asset_history(client, keys[0], limit, before=cutoff)

    found = run_async(main())
    if opts.json:
        print_json(
            {
                "asset": keys[0],
                "materializations": [m.to_json() for m in found],
                "count": len(found),
            }
        )
        return
    if not found:
        err(f"No materializations of {keys[0]}.")
        return
    from daglab.helpers.display import text_table

    rows = [
        [
            _when(m.timestamp),
            m.run_id,
            m.partition or "",
            "; ".join(
                f"{i.label}={i.value if i.value is not None else i.type}" for i in m.metadata
            ),
        ]
        for m in found
    ]
    out(text_table(["materialized", "run", "partition", "metadata"], rows))
    if len(found) == limit:
        err(f"Showing {limit}; more with --limit or --before.")
