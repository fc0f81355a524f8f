"""``daglab run``: launch a job or a selection of assets (or validate its config, or backfill
partitions) and wait for it.

Only typer and the standard library are imported at module level; the helpers load when a
command runs, so ``daglab --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab.commands._follow import (
    CancelOnTimeout,
    Held,
    RunTags,
    Timeout,
    Wait,
    clean,
    finish,
    launched,
    not_waiting,
    one,
    run_sync,
)
from daglab.commands._options import GlobalOptions, err, out, print_json, with_global_options

if TYPE_CHECKING:
    from daglab.helpers.models import RunResult, ValidationResult
    from daglab.helpers.runs import RunTarget

TARGET = "Target"
CONFIG = "Run config"


def register(app: typer.Typer) -> None:
    """Add ``run`` to the app."""
    app.command("run")(run)


def _print_problems(result: ValidationResult) -> None:
    err(
        f"The run config is not valid for job {one(result.job)} "
        f"({one(result.location)}/{one(result.repository)}):"
    )
    for problem in result.errors:
        message = " ".join(clean(problem.message).split())
        err(f"  - at {clean(problem.where)}: {message}")


# -- daglab run ---------------------------------------------------------------------------------


def _load_config(run_config: Path | None, config_yaml: str | None) -> dict[str, Any]:
    from daglab.helpers.checks import load_run_config, parse_config_yaml
    from daglab.helpers.errors import BadInputError

    if run_config is not None and config_yaml is not None:
        raise BadInputError("Give either --run-config FILE or --config-yaml TEXT, not both.")
    if run_config is not None:
        return load_run_config(run_config)
    if config_yaml is not None:
        return parse_config_yaml(config_yaml)
    return {}


def _describe(target: RunTarget) -> str:
    where = one(target.location)
    if target.repository != "__repository__":
        where += f"/{one(target.repository)}"
    if target.is_asset_run:
        from daglab.helpers.text import plural

        n = len(target.asset_selection)
        keys = ", ".join(one(k) for k in target.asset_selection[:5]) + (" ..." if n > 5 else "")
        return f"{plural(n, 'asset')} ({keys}) via {one(target.job)} in {where}"
    return f"job {one(target.job)} in {where}"


@with_global_options
def run(
    opts: GlobalOptions,
    job: Annotated[
        str | None,
        typer.Option("--job", help="Run this job.", rich_help_panel=TARGET, show_default=False),
    ] = None,
    asset_selection: Annotated[
        str | None,
        typer.Option(
            "--asset-selection",
            help="Materialize exactly these assets: comma-separated keys, e.g. 'sales/orders,sales/customers'.",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    asset_pattern: Annotated[
        str | None,
        typer.Option(
            "--asset-pattern",
            help="Materialize the assets whose key matches a wildcard pattern, e.g. 'sales/*'.",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option(
            "--select",
            help="Materialize a Dagster asset selection, e.g. '+key:\"sales/report\"' or "
            "'group:sales and not tag:tier=bronze' (resolved by daglab, works on every version).",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    repo: Annotated[
        str | None,
        typer.Option(
            "--repo",
            help="Repository of the target (default: found automatically).",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    location: Annotated[
        str | None,
        typer.Option(
            "--location",
            help="Code location of the target (default: found automatically).",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    partition: Annotated[
        str | None,
        typer.Option(
            "--partition",
            help="Partition key to run; checked first. A job gets the config and tags Dagster computes for it (your config merged over them).",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    partitions: Annotated[
        str | None,
        typer.Option(
            "--partitions",
            help="Backfill these partitions, comma-separated (one backfill, a run per "
            "partition; needs the dagster-daemon).",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    partition_range: Annotated[
        str | None,
        typer.Option(
            "--partition-range",
            help="Backfill the partitions from START to END, inclusive: START...END.",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    tag: RunTags = None,
    run_config: Annotated[
        Path | None,
        typer.Option(
            "--run-config",
            help="Run config file (YAML or JSON).",
            rich_help_panel=CONFIG,
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    config_yaml: Annotated[
        str | None,
        typer.Option(
            "--config-yaml",
            help="Run config as YAML (or JSON) text.",
            rich_help_panel=CONFIG,
            show_default=False,
        ),
    ] = None,
    validate_only: Annotated[
        bool,
        typer.Option(
            "--validate-only",
            help="Only ask the server whether the run config is valid (exit 0 valid, 2 invalid); launch nothing.",
            rich_help_panel=CONFIG,
        ),
    ] = False,
    wait: Wait = True,
    timeout: Timeout = 300.0,
    cancel_on_timeout: CancelOnTimeout = False,
) -> None:
    """Launch a job or a selection of assets, and wait for it with live progress.

    Exit codes: 0 success (or launched with --no-wait, or config valid), 1 run failed or was
    canceled, 2 bad input or invalid config, 3 server trouble, 4 timed out, 5 auth, 130 Ctrl-C
    (143 SIGTERM, 129 SIGHUP).
    """
    from daglab.helpers import runs

    runs.require_one_target(
        {"job": job, "asset_selection": asset_selection, "pattern": asset_pattern, "select": select}
    )
    if partitions is not None or partition_range is not None:
        from daglab.commands.backfills import launch_from_run
        from daglab.helpers.errors import BadInputError

        if partition is not None or validate_only or run_config or config_yaml:
            raise BadInputError(
                "A backfill (--partitions, --partition-range) takes no --partition, "
                "--validate-only or run config."
            )
        launch_from_run(
            opts,
            {
                "job": job,
                "asset_selection": asset_selection,
                "pattern": asset_pattern,
                "select": select,
                "location": location,
                "repository": repo,
            },
            partitions.split(",") if partitions is not None else None,
            partition_range,
            runs.parse_run_tags(tag or []),
            wait,
            timeout or None,
        )
        return
    request = runs.RunRequest(
        job=job,
        asset_selection=asset_selection,
        pattern=asset_pattern,
        select=select,
        location=location,
        repository=repo,
        run_config=_load_config(run_config, config_yaml),
        tags=runs.parse_run_tags(tag or []),
        partition=partition,
    )
    held = Held(request)

    async def main() -> RunResult | ValidationResult | None:
        from daglab.helpers import errors

        async with opts.client() as client:
            workflow = held.start(client)
            target = await workflow.resolve()
            if validate_only:
                return await workflow.validate()
            try:
                submitted = await workflow.launch()
            except errors.ConfigValidationError as exc:
                from daglab.helpers.models import ValidationResult

                invalid = ValidationResult(
                    valid=False,
                    job=target.job,
                    location=target.location,
                    repository=target.repository,
                    asset_selection=list(target.asset_selection),
                    errors=exc.problems,
                )
                _report_validation(invalid, opts)
                raise
            launched(submitted, _describe(target))
            if not wait:
                return runs.submitted_result(submitted)
            return await workflow.watch(timeout or None, cancel_on_timeout)

    outcome = run_sync(main, held, opts)
    from daglab.helpers.models import ValidationResult

    if isinstance(outcome, ValidationResult):
        _report_validation(outcome, opts)
        if not outcome.valid:
            from daglab.helpers.errors import ConfigValidationError
            from daglab.helpers.text import plural

            raise ConfigValidationError(
                f"The run config is not valid for job {outcome.job} "
                f"({plural(len(outcome.errors), 'problem')}).",
                outcome.errors,
            )
        return
    if outcome.stop_reason == "not_waiting":  # --no-wait
        not_waiting(outcome, opts)
        return
    finish(outcome, opts)


def _report_validation(result: ValidationResult, opts: GlobalOptions) -> None:
    if opts.json:
        print_json(result.to_json())
    if result.valid:
        line = (
            f"The run config is valid for job {one(result.job)} "
            f"({one(result.location)}/{one(result.repository)})."
        )
        if opts.json:
            err(line)
        else:
            out(line)
        return
    _print_problems(result)
