"""``daglab run``, ``daglab watch`` and ``daglab cancel``: launch, follow and stop runs.

Only typer and the standard library are imported at module level; the helpers load when a
command runs, so ``daglab --help`` stays fast.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab.commands._options import GlobalOptions, err, print_json, run_async, with_global_options

if TYPE_CHECKING:
    from daglab.helpers.graphql import DagsterClient
    from daglab.helpers.models import RunResult, RunSubmitResult, ValidationResult
    from daglab.helpers.runs import ProgressEvent, RunTarget, RunWatcher

TARGET = "Target"
CONFIG = "Run config"
WATCHING = "Watching"


def register(app: typer.Typer) -> None:
    """Add ``run``, ``watch`` and ``cancel`` to the app."""
    app.command("run")(run)
    app.command("watch")(watch)
    app.command("cancel")(cancel)


# -- rendering ----------------------------------------------------------------------------------


def _clean(text: object) -> str:
    """Server text, safe for a terminal: ANSI escapes and control characters removed."""
    from daglab.helpers.text import clean

    return clean(text)


def _elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:5.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s".rjust(6)


def _first_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


class ProgressPrinter:
    """Live progress on stderr, one plain line per change (readable in CI logs too)."""

    def __init__(self) -> None:
        self.last_status: str | None = None

    def __call__(self, event: ProgressEvent) -> None:
        line = self.line(event)
        if line:
            err(f"[{_elapsed(event.elapsed)}] {line}")

    def line(self, ev: ProgressEvent) -> str | None:
        step = _clean(ev.step) if ev.step else "?"
        if ev.kind == "status":
            self.last_status = ev.status
            return f"status {ev.status}"
        if ev.kind == "step_started":
            return f"step {step} started"
        if ev.kind == "step_succeeded":
            return f"step {step} succeeded"
        if ev.kind == "step_failed":
            return f"step {step} FAILED: {_clean(_first_line(ev.message))}"
        if ev.kind == "materialized":
            of = f" of {ev.total}" if ev.total else ""
            return f"materialized {_clean(ev.asset)} ({ev.done}{of})"
        if ev.kind == "waiting":
            return f"still {ev.status}"
        if ev.kind == "queued_warning":
            return f"warning: {ev.message}"
        if ev.kind == "poll_failed":
            return f"poll failed ({ev.done} in a row), will retry: {_clean(ev.message)}"
        if ev.kind == "contact_restored":
            return f"back in contact with the server ({ev.message})"
        if ev.kind == "timed_out":
            return f"timed out after {ev.message} (run is {ev.status})"
        if ev.kind == "canceling":
            return "canceling the run (--cancel-on-timeout)"
        return None


def _print_problems(result: ValidationResult) -> None:
    err(
        f"The run config is not valid for job {result.job} ({result.location}/{result.repository}):"
    )
    for problem in result.errors:
        message = " ".join(_clean(problem.message).split())
        err(f"  - at {_clean(problem.where)}: {message}")


def _print_failure(result: RunResult) -> None:
    error = result.error
    if error is None:
        return
    err(f"Failed step: {_clean(error.step)}" if error.step else "The run failed:")
    lines = _clean(error.message).strip().splitlines() or ["(no message)"]
    for line in lines[:20]:
        err(f"  {line}")
    if len(lines) > 20:
        err(f"  ... ({len(lines) - 20} more lines in the Dagster UI)")


def _summary(result: RunResult) -> str:
    parts = [f"Run {result.run_id} {result.status}"]
    if result.duration_s is not None:
        parts.append(f"in {result.duration_s:.1f}s")
    if result.materialized:
        parts.append(f"({len(result.materialized)} asset materializations)")
    return " ".join(parts)


# -- the shared end of run and watch ------------------------------------------------------------


@dataclass
class _Session:
    """What an interrupted or failed command still knows, so nothing is lost."""

    request_id: str | None = None
    submitted: RunSubmitResult | None = None
    watcher: RunWatcher | None = None
    run_id: str | None = None
    url: str | None = None

    def snapshot(self) -> RunResult | None:
        if self.watcher is not None:
            return self.watcher.result()
        if self.submitted is not None:
            return _submitted_result(self.submitted)
        return None


def _submitted_result(submitted: RunSubmitResult) -> RunResult:
    from daglab.helpers.models import RunResult

    return RunResult(
        run_id=submitted.run_id,
        status=submitted.status,
        url=submitted.url,
        job=submitted.job,
        location=submitted.location,
        repository=submitted.repository,
        asset_selection=submitted.asset_selection,
        partition=submitted.partition,
    )


def _reattach_hint(run_id: str) -> str:
    return f"Re-attach with `daglab watch {run_id}` or cancel it with `daglab cancel {run_id}`."


def _on_interrupt(session: _Session, opts: GlobalOptions) -> None:
    from daglab.helpers.errors import InterruptedByUser

    snapshot = session.snapshot()
    if snapshot is not None:
        err(
            f"Interrupted. Run {snapshot.run_id} was left alone ({snapshot.status}): {snapshot.url}"
        )
        err(_reattach_hint(snapshot.run_id))
        if opts.json:
            print_json(snapshot.to_json())
    elif session.run_id is not None:
        err(f"Interrupted. Run {session.run_id} was left alone: {session.url}")
    elif session.request_id is not None:
        err(
            "Interrupted while launching. If the server created the run, it carries the tag "
            f"daglab/request_id={session.request_id}."
        )
    raise InterruptedByUser("Interrupted.")


def _exit_soon() -> None:
    """The command is about to end: spare the interpreter's final garbage collection of
    everything it loaded (the OS frees it), which takes 0.1-0.4 s on a busy machine, so a
    script sees the run's end as soon as daglab does."""
    import gc

    gc.freeze()


def _finish(result: RunResult, opts: GlobalOptions, timeout: float | None) -> None:
    """Print the outcome and turn it into the exit code (by raising)."""
    from daglab.helpers import errors

    _exit_soon()

    if opts.json:
        print_json(result.to_json())
    if result.timed_out:
        waited = f"{timeout:g}s" if timeout is not None else "the timeout"
        if result.canceled_by_daglab:
            raise errors.RunTimeoutError(
                f"Timed out after {waited} waiting for run {result.run_id}; it was canceled "
                f"(now {result.status}).",
                hint=result.url,
            )
        raise errors.RunTimeoutError(
            f"Timed out after {waited} waiting for run {result.run_id} (still {result.status}). "
            f"The run goes on: {result.url}",
            hint=_reattach_hint(result.run_id),
        )
    err(_summary(result))
    if result.succeeded:
        err(result.url)
        return
    _print_failure(result)
    if result.status == "CANCELED":
        raise errors.RunFailedError(f"Run {result.run_id} was CANCELED.", hint=result.url)
    summary = f"Run {result.run_id} ended {result.status}"
    if result.error is not None:
        where = f" in step {result.error.step}" if result.error.step else ""
        summary += f"{where}: {_clean(_first_line(result.error.message))}"
    raise errors.RunFailedError(summary, hint=result.url)


async def _watch(
    client: DagsterClient,
    session: _Session,
    run_id: str,
    timeout: float | None,
    cancel_on_timeout: bool,
) -> RunResult:
    from daglab.helpers.runs import RunWatcher

    watcher = RunWatcher(client, run_id, on_progress=ProgressPrinter())
    session.watcher = watcher
    return await watcher.watch(timeout, cancel_on_timeout)


def _run_sync(coro_factory: Any, session: _Session, opts: GlobalOptions) -> Any:
    """Run the command's coroutine; Ctrl-C and a lost connection still report the run."""

    from daglab.helpers.errors import LostContactError

    try:
        return run_async(coro_factory())
    except KeyboardInterrupt:
        _on_interrupt(session, opts)
    except LostContactError as exc:
        snapshot = session.snapshot()
        if opts.json and snapshot is not None:
            print_json(snapshot.to_json())
        exc.hint = _reattach_hint(exc.run_id)
        raise


# -- daglab run ---------------------------------------------------------------------------------


def _target_kind(
    job: str | None, asset_selection: str | None, asset_pattern: str | None, select: str | None
) -> str:
    from daglab.helpers.errors import BadInputError

    given = [
        name
        for name, value in (
            ("--job", job),
            ("--asset-selection", asset_selection),
            ("--asset-pattern", asset_pattern),
            ("--select", select),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise BadInputError(
            "Give exactly one target: --job, --asset-selection, --asset-pattern or --select"
            + (f" (got {', '.join(given)})." if given else "."),
            hint="e.g. daglab run --job config_job, or daglab run --asset-pattern 'orders/*'",
        )
    return given[0]


def _load_config(run_config: Path | None, config_yaml: str | None) -> dict[str, Any]:
    from daglab.helpers.checks import load_run_config, parse_config_yaml
    from daglab.helpers.errors import BadInputError

    if run_config is not None and config_yaml is not None:
        raise BadInputError("Give either --run-config FILE or --config-yaml TEXT, not both.")
    if run_config is not None:
        return load_run_config(run_config)
    if config_yaml is not None:
        return parse_config_yaml(config_yaml, "--config-yaml")
    return {}


def _describe(target: RunTarget) -> str:
    where = target.location
    if target.repository != "__repository__":
        where += f"/{target.repository}"
    if target.is_asset_run:
        n = len(target.asset_selection)
        keys = ", ".join(target.asset_selection[:5]) + (" ..." if n > 5 else "")
        return f"{n} asset{'s' if n != 1 else ''} ({keys}) via {target.job} in {where}"
    return f"job {target.job} in {where}"


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
            help="Materialize exactly these assets: comma-separated keys, e.g. 'orders/raw_orders,customers/raw_customers'.",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    asset_pattern: Annotated[
        str | None,
        typer.Option(
            "--asset-pattern",
            help="Materialize the assets whose key matches a wildcard pattern, e.g. 'orders/*'.",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option(
            "--select",
            help="Materialize a Dagster asset selection, e.g. '+key:\"orders/order_summary\"' or "
            "'group:orders and not tag:tier=bronze' (resolved by daglab, works on every version).",
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
            help="Partition key to run (sets the dagster/partition tag).",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            help="Run tag key=value (repeatable).",
            rich_help_panel=TARGET,
            show_default=False,
        ),
    ] = None,
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
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="Wait for the run to end, with live progress on stderr.",
            rich_help_panel=WATCHING,
        ),
    ] = True,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Seconds to wait for the run before giving up (exit 4).",
            rich_help_panel=WATCHING,
            min=0.0,
        ),
    ] = 300.0,
    cancel_on_timeout: Annotated[
        bool,
        typer.Option(
            "--cancel-on-timeout",
            help="Cancel the run when the timeout passes (otherwise it goes on).",
            rich_help_panel=WATCHING,
        ),
    ] = False,
) -> None:
    """Launch a job or a selection of assets, and wait for it with live progress.

    Exit codes: 0 success (or launched with --no-wait, or config valid), 1 run failed or was
    canceled, 2 bad input or invalid config, 3 server trouble, 4 timed out, 5 auth, 130 Ctrl-C.
    """
    import uuid

    from daglab.helpers.runs import parse_run_tags

    kind = _target_kind(job, asset_selection, asset_pattern, select)
    tags = parse_run_tags(tag or [])
    config = _load_config(run_config, config_yaml)
    session = _Session(request_id=uuid.uuid4().hex)

    async def main() -> RunResult | ValidationResult | None:
        from daglab.helpers import errors, runs
        from daglab.helpers.validation import validate_run_config

        async with opts.client() as client:
            if kind == "--job":
                assert job is not None
                target = await runs.resolve_job(client, job, location, repo)
            else:
                target = await runs.resolve_assets(
                    client,
                    keys=asset_selection,
                    pattern=asset_pattern,
                    select=select,
                    location=location,
                    repository=repo,
                )
            await runs.check_partition(client, target, partition)
            if validate_only:
                return await validate_run_config(
                    client,
                    target.job,
                    target.location,
                    target.repository,
                    config,
                    list(target.asset_selection),
                )
            try:
                submitted = await runs.launch_run(
                    client,
                    target,
                    run_config=config,
                    tags=tags,
                    partition=partition,
                    request_id=session.request_id,
                )
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
            session.submitted = submitted
            err(f"Launched run {submitted.run_id}: {_describe(target)}")
            if submitted.recovered:
                err("(the launch response was lost; found the run by its request id)")
            err(f"  {submitted.url}")
            if not wait:
                return None
            return await _watch(
                client, session, submitted.run_id, timeout, cancel_on_timeout and wait
            )

    outcome = _run_sync(main, session, opts)
    from daglab.helpers.models import ValidationResult

    if isinstance(outcome, ValidationResult):
        _report_validation(outcome, opts)
        if not outcome.valid:
            from daglab.helpers.errors import ConfigValidationError

            raise ConfigValidationError(
                f"The run config is not valid for job {outcome.job} "
                f"({len(outcome.errors)} problem{'s' if len(outcome.errors) != 1 else ''}).",
                outcome.errors,
            )
        return
    if outcome is None:  # --no-wait
        assert session.submitted is not None
        _exit_soon()
        if opts.json:
            print_json(_submitted_result(session.submitted).to_json())
        err(f"Not waiting. Follow it with `daglab watch {session.submitted.run_id}`.")
        return
    _finish(outcome, opts, timeout)


def _report_validation(result: ValidationResult, opts: GlobalOptions) -> None:
    if opts.json:
        print_json(result.to_json())
    if result.valid:
        line = (
            f"The run config is valid for job {result.job} ({result.location}/{result.repository})."
        )
        if opts.json:
            err(line)
        else:
            sys.stdout.write(line + "\n")
        return
    _print_problems(result)


# -- daglab watch -------------------------------------------------------------------------------


@with_global_options
def watch(
    opts: GlobalOptions,
    run_id: Annotated[str, typer.Argument(help="The run to follow (any run, not only daglab's).")],
    timeout: Annotated[
        float,
        typer.Option("--timeout", help="Seconds to wait before giving up (exit 4).", min=0.0),
    ] = 300.0,
    cancel_on_timeout: Annotated[
        bool,
        typer.Option("--cancel-on-timeout", help="Cancel the run when the timeout passes."),
    ] = False,
) -> None:
    """Follow a run to its end with live progress; exit codes as for `daglab run`."""
    session = _Session(run_id=run_id)

    async def main() -> RunResult:
        from daglab.helpers.runs import get_run

        async with opts.client() as client:
            current = await get_run(client, run_id)
            session.url = current.url
            what = f"job {current.job}" if current.job else "run"
            if current.asset_selection:
                what += f" ({len(current.asset_selection)} assets)"
            err(f"Watching run {run_id}: {what} in {current.location}, {current.status}")
            err(f"  {current.url}")
            return await _watch(client, session, run_id, timeout, cancel_on_timeout)

    result = _run_sync(main, session, opts)
    _finish(result, opts, timeout)


# -- daglab cancel ------------------------------------------------------------------------------


@with_global_options
def cancel(
    opts: GlobalOptions,
    run_id: Annotated[str, typer.Argument(help="The run to cancel.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Mark the run canceled immediately, without waiting for its process to stop.",
        ),
    ] = False,
) -> None:
    """Cancel (terminate) a run. Exit 0 once the server accepted; 2 if it already finished."""

    from daglab.helpers.runs import cancel_run

    async def main() -> RunResult:
        async with opts.client() as client:
            return await cancel_run(client, run_id, force=force, wait=10.0)

    result = run_async(main())
    if opts.json:
        data = result.to_json()
        data["force"] = force
        print_json(data)
    if result.status == "CANCELED":
        err(f"Run {run_id} is CANCELED.")
    else:
        err(f"Cancel requested; run {run_id} is {result.status}.")
    err(f"  {result.url}")
