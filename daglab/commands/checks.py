"""``daglab checks list|run``: asset checks with their latest execution, and a run of the
selected checks (no materialization) through the run workflow of ``daglab run``.

Only typer and the standard library are imported at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from daglab.commands._follow import (
    Held,
    RunTags,
    Timeout,
    Wait,
    finish,
    launched,
    not_waiting,
    one,
    run_sync,
)
from daglab.commands._options import (
    GlobalOptions,
    err,
    out,
    print_json,
    run_async,
    with_global_options,
)
from daglab.commands.assets import (
    AssetKeys,
    Location,
    Pattern,
    Repo,
    Selection,
    SelectOption,
    chosen_assets,
)

if TYPE_CHECKING:
    from daglab.helpers.models import AssetCheckInfo, RunResult

app = typer.Typer(
    help="List asset checks with their latest execution, and run them.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

CheckNames = Annotated[
    list[str] | None,
    typer.Option(
        "--check",
        help="Only this check (its name, or ASSET:NAME); repeatable.",
        show_default=False,
    ),
]


def _checks(
    opts: GlobalOptions,
    select: str | None,
    keys: str | None,
    pattern: str | None,
    location: str | None,
    repo: str | None,
    names: list[str] | None,
    select_option: str | None,
) -> list[AssetCheckInfo]:
    from daglab.helpers.assets import choose_checks, list_checks

    assets = chosen_assets(opts, select, keys, pattern, location, repo, select_option)

    async def main() -> list[AssetCheckInfo]:
        async with opts.client() as client:
            return await list_checks(client, assets)

    return choose_checks(run_async(main()), names)


@app.command("list")
@with_global_options
def list_(
    opts: GlobalOptions,
    select: Selection = None,
    select_option: SelectOption = None,
    asset_selection: AssetKeys = None,
    asset_pattern: Pattern = None,
    location: Location = None,
    repo: Repo = None,
    check: CheckNames = None,
) -> None:
    """List the asset checks of the selected assets: name, asset, blocking, and the latest
    execution (status, severity, run). --json: {"checks": [...], "count": N}."""
    found = _checks(
        opts, select, asset_selection, asset_pattern, location, repo, check, select_option
    )
    if opts.json:
        print_json({"checks": [c.to_json() for c in found], "count": len(found)})
        return
    if not found:
        err("No asset checks on the selected assets.")
        return
    from daglab.helpers.display import format_time, text_table

    rows = [
        [
            c.asset,
            c.name,
            "yes" if c.blocking else "no",
            c.status or "never executed",
            c.severity or "-",
            c.run_id or "-",
            format_time(c.timestamp) if c.timestamp is not None else "-",
        ]
        for c in found
    ]
    headers = ["asset", "check", "blocking", "latest", "severity", "run", "when"]
    out(text_table(headers, rows))


@app.command("run")
@with_global_options
def run(
    opts: GlobalOptions,
    select: Selection = None,
    select_option: SelectOption = None,
    asset_selection: AssetKeys = None,
    asset_pattern: Pattern = None,
    location: Location = None,
    repo: Repo = None,
    check: CheckNames = None,
    tag: RunTags = None,
    wait: Wait = True,
    timeout: Timeout = 600.0,
) -> None:
    """Run the selected asset checks (without materializing their assets) and wait.

    Exit codes as for `daglab run`: 0 when the run succeeded and no check of severity ERROR
    failed (a failed WARN check is printed, exit 0), 1 when one did or the run failed, 2 bad
    selection, 4 timed out. --json: the run's document, with "checks".
    """
    from daglab.helpers import runs
    from daglab.helpers.assets import checks_target
    from daglab.helpers.text import plural

    checks = _checks(
        opts, select, asset_selection, asset_pattern, location, repo, check, select_option
    )
    target = checks_target(checks)
    held = Held(runs.RunRequest(tags=runs.parse_run_tags(tag or [])))

    async def main() -> RunResult:
        async with opts.client() as client:
            workflow = held.start(client)
            workflow.target = target
            submitted = await workflow.launch()
            held.run_id = submitted.run_id
            names = ", ".join(f"{one(c.name)} on {one(c.asset)}" for c in checks[:5])
            more = " ..." if len(checks) > 5 else ""
            launched(
                submitted,
                f"{plural(len(checks), 'check')} ({names}{more}) via {one(target.job)}",
            )
            if not wait:
                return runs.submitted_result(submitted)
            return await workflow.watch(timeout or None)

    result = run_sync(main, held, opts)
    if result.stop_reason == "not_waiting":  # --no-wait
        not_waiting(result, opts)
        return
    finish(result, opts)
