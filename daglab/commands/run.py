"""``daglab run``, ``daglab watch`` and ``daglab cancel``: launch, follow and stop runs.

Only typer and the standard library are imported at module level; the helpers load when a
command runs, so ``daglab --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab.commands._options import GlobalOptions, err, print_json, run_async, with_global_options

if TYPE_CHECKING:
    from daglab.helpers.graphql import DagsterClient
    from daglab.helpers.models import RunResult, ValidationResult
    from daglab.helpers.runs import ProgressEvent, RunRequest, RunTarget, RunWorkflow

TARGET = "Target"
CONFIG = "Run config"
WATCHING = "Watching"


def register(app: typer.Typer) -> None:
    """Add ``run``, ``watch`` and ``cancel`` to the app."""
    app.command("run")(run)
    app.command("watch")(watch)
    app.command("cancel")(cancel)


# -- rendering ----------------------------------------------------------------------------------


def _clean(text: object, one_line: bool = False) -> str:
    """Server text, safe for a terminal: ANSI escapes and control characters removed."""
    from daglab.helpers.text import clean

    return clean(text, one_line=one_line)


def _one(text: object) -> str:
    """Server text for a place in one line (a run id, a status, a job name)."""
    return _clean(text, one_line=True)


def _elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:5.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s".rjust(6)


# The failed steps whose error the live progress of this command showed in full (one line),
# so that the end of the run does not say it again.
_shown_failures: set[str] = set()


class ProgressPrinter:
    """Live progress on stderr, one plain line per change (readable in CI logs too)."""

    def __init__(self) -> None:
        _shown_failures.clear()

    def __call__(self, event: ProgressEvent) -> None:
        from daglab.helpers.runs import describe

        line = describe(event)
        if line:
            err(f"[{_elapsed(event.elapsed)}] {_one(line)}")
        if event.kind == "step_failed" and event.step and len(_message_lines(event.message)) <= 1:
            _shown_failures.add(event.step)


def _message_lines(message: object) -> list[str]:
    return [line for line in _clean(message).strip().splitlines() if line.strip()]


def _print_problems(result: ValidationResult) -> None:
    err(
        f"The run config is not valid for job {_one(result.job)} "
        f"({_one(result.location)}/{_one(result.repository)}):"
    )
    for problem in result.errors:
        message = " ".join(_clean(problem.message).split())
        err(f"  - at {_clean(problem.where)}: {message}")


def _print_failure(result: RunResult) -> bool:
    """The run's error, unless the live progress already showed all of it; True if the
    error's text is on stderr now."""
    error = result.error
    if error is None:
        return False
    err(f"Failed step: {_clean(error.step)}" if error.step else "The run failed:")
    if error.step and error.step in _shown_failures:
        return True  # "step X FAILED: <the whole message>" is a line above
    lines = _message_lines(error.message) or ["(no message)"]
    for line in lines[:20]:
        err(f"  {line}")
    if len(lines) > 20:
        err(f"  ... ({len(lines) - 20} more lines in the Dagster UI)")
    return True


STDERR_TAIL_LINES = 10


def _print_stderr_tail(run_id: str, step: str, opts: GlobalOptions) -> None:
    """The last lines of the failed step's captured stderr, and how to read it all; nothing
    if the server keeps none or cannot say (the failure itself is already shown)."""
    from daglab.helpers.errors import DaglabError
    from daglab.helpers.runs.logs import tail_captured

    async def main() -> tuple[object, list[str]]:
        async with opts.client() as client:
            return await tail_captured(client, run_id, step, "stderr", STDERR_TAIL_LINES)

    try:
        info, lines = run_async(main())
    except DaglabError:
        return
    if lines:
        err(f"Last lines of the stderr of step {_clean(step)}:")
        for line in lines:
            err(f"  | {_clean(line)}")
    external = getattr(info, "external_url", None)
    if external:
        err(f"Its captured logs are kept at {_clean(external)}")
    if lines or external:
        err(f"Read it all with `daglab logs {run_id} --stderr --step {step}`.")


def _summary(result: RunResult) -> str:
    from daglab.helpers.text import plural

    parts = [f"Run {_one(result.run_id)} {_one(result.status)}"]
    if result.duration_s is not None:
        parts.append(f"in {result.duration_s:.1f}s")
    if result.materialized:
        parts.append(f"({plural(len(result.materialized), 'asset')} materialized)")
    if result.checks:
        failed = len(result.failed_checks)
        parts.append(
            f"checks: {len(result.checks) - failed} passed"
            + (f", {failed} failed" if failed else "")
        )
    if result.steps_skipped:
        parts.append(f"skipped: {', '.join(_clean(s) for s in result.steps_skipped)}")
    return " ".join(parts)


def _print_failed_checks(result: RunResult) -> None:
    for check in result.failed_checks:
        err(
            f"Check {_clean(check.name)} on {_clean(check.asset)} FAILED "
            f"(severity {_clean(check.severity)})"
        )


# -- the shared end of run and watch ------------------------------------------------------------


def _reattach_hint(run_id: str) -> str:
    return f"Re-attach with `daglab watch {run_id}` or cancel it with `daglab cancel {run_id}`."


class _Held:
    """The command's workflow, held so that an interrupt or a lost contact can still report
    the run it launched or watched."""

    def __init__(self, request: RunRequest, run_id: str | None = None) -> None:
        self.request = request
        self.run_id = run_id
        self.workflow: RunWorkflow | None = None

    def start(self, client: DagsterClient) -> RunWorkflow:
        from daglab.helpers.runs import RunWorkflow

        self.workflow = RunWorkflow(client, self.request, on_progress=ProgressPrinter())
        return self.workflow

    def snapshot(self) -> RunResult | None:
        return self.workflow.snapshot() if self.workflow is not None else None


def _on_interrupt(held: _Held, opts: GlobalOptions) -> None:
    from daglab.helpers.errors import InterruptedByUser

    snapshot = held.snapshot()
    run_id = held.run_id
    if snapshot is not None:
        err(
            f"Interrupted. Run {_one(snapshot.run_id)} was left alone ({_one(snapshot.status)}): "
            f"{_one(snapshot.url)}"
        )
        err(_reattach_hint(_one(snapshot.run_id)))
        if opts.json:
            print_json(snapshot.to_json())
    elif run_id is not None:
        err(f"Interrupted. Run {_one(run_id)} was left alone.")
        err(_reattach_hint(_one(run_id)))
    else:
        err(
            "Interrupted while launching. If the server created the run, it carries the tag "
            f"daglab/request_id={held.request.request_id}."
        )
    raise InterruptedByUser("Interrupted.")


def _exit_soon() -> None:
    """The command is about to end: spare the interpreter's final garbage collection of
    everything it loaded (the OS frees it), which takes 0.1-0.4 s on a busy machine, so a
    script sees the run's end as soon as daglab does."""
    import gc

    gc.freeze()


def _finish(result: RunResult, opts: GlobalOptions) -> None:
    """Print the outcome and turn it into the exit code (by raising)."""
    from daglab.helpers import errors
    from daglab.helpers.runs import check_outcome
    from daglab.helpers.text import reason_line

    _exit_soon()

    if opts.json:
        print_json(result.to_json())
    check_outcome(result)  # a timeout raises the one RunTimeoutError
    err(_summary(result))
    _print_failed_checks(result)
    if result.ok:
        err(_one(result.url))
        return
    if result.succeeded:  # the run succeeded, but a check of ERROR severity failed
        names = ", ".join(
            f"{_clean(c.name)} on {_clean(c.asset)}" for c in result.failed_checks if c.failed_error
        )
        raise errors.RunFailedError(
            f"Run {_one(result.run_id)} ended SUCCESS, but ERROR-severity checks failed: {names}",
            result=result,
            hint=result.url,
        )
    shown = _print_failure(result)
    if result.status == "FAILURE" and result.error is not None and result.error.step:
        _print_stderr_tail(result.run_id, result.error.step, opts)
    if result.status == "CANCELED":
        raise errors.RunFailedError(
            f"Run {_one(result.run_id)} was CANCELED.", result=result, hint=_one(result.url)
        )
    summary = f"Run {_one(result.run_id)} ended {_one(result.status)}"
    if result.error is not None:
        summary += f" in step {_one(result.error.step)}" if result.error.step else ""
        # The error itself is on the lines above; a message that holds it (--json's error
        # document, a log) gets its one-line reason.
        summary += "." if shown else f": {_one(reason_line(result.error.message))}"
    raise errors.RunFailedError(summary, result=result, hint=_one(result.url))


def _run_sync(coro_factory: Any, held: _Held, opts: GlobalOptions) -> Any:
    """Run the command's coroutine; Ctrl-C and a lost connection still report the run."""

    from daglab.helpers.errors import LostContactError

    try:
        return run_async(coro_factory())
    except KeyboardInterrupt:
        _on_interrupt(held, opts)
    except LostContactError as exc:
        if opts.json and exc.result is not None:
            print_json(exc.result.to_json())
        raise


# -- daglab run ---------------------------------------------------------------------------------


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
    where = _one(target.location)
    if target.repository != "__repository__":
        where += f"/{_one(target.repository)}"
    if target.is_asset_run:
        from daglab.helpers.text import plural

        n = len(target.asset_selection)
        keys = ", ".join(_one(k) for k in target.asset_selection[:5]) + (" ..." if n > 5 else "")
        return f"{plural(n, 'asset')} ({keys}) via {_one(target.job)} in {where}"
    return f"job {_one(target.job)} in {where}"


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
            help="Seconds to wait for the run before giving up (exit 4); 0 waits without limit.",
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
    held = _Held(request)

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
            err(f"Launched run {_one(submitted.run_id)}: {_describe(target)}")
            if submitted.recovered:
                err(
                    "(the launch response was lost; found the run by its request id, tag "
                    f"daglab/request_id={submitted.request_id})"
                )
            err(f"  {_one(submitted.url)}")
            if not wait:
                return runs.submitted_result(submitted)
            return await workflow.watch(timeout or None, cancel_on_timeout)

    outcome = _run_sync(main, held, opts)
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
        _exit_soon()
        if opts.json:
            print_json(outcome.to_json())
        else:  # the run id on stdout, for RID=$(daglab run ... --no-wait)
            sys.stdout.write(_one(outcome.run_id) + "\n")
        err(f"Not waiting. Follow it with `daglab watch {_one(outcome.run_id)}`.")
        return
    _finish(outcome, opts)


def _report_validation(result: ValidationResult, opts: GlobalOptions) -> None:
    if opts.json:
        print_json(result.to_json())
    if result.valid:
        line = (
            f"The run config is valid for job {_one(result.job)} "
            f"({_one(result.location)}/{_one(result.repository)})."
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
    run_ref: Annotated[
        str,
        typer.Argument(
            metavar="RUN",
            help="The run to follow (any run, not only daglab's): full id, unique prefix of 8+ "
            "characters, latest, last-failure.",
        ),
    ],
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Seconds to wait before giving up (exit 4); 0 waits without limit.",
            min=0.0,
        ),
    ] = 300.0,
    cancel_on_timeout: Annotated[
        bool,
        typer.Option("--cancel-on-timeout", help="Cancel the run when the timeout passes."),
    ] = False,
) -> None:
    """Follow a run to its end with live progress; exit codes as for `daglab run`."""
    from daglab.helpers.runs import RunRequest

    held = _Held(RunRequest())

    async def main() -> RunResult:
        from daglab.helpers.runs import get_run
        from daglab.helpers.runs.history import resolve_run_ref
        from daglab.helpers.text import plural

        async with opts.client() as client:
            workflow = held.start(client)
            run_id = held.run_id = await _within(
                resolve_run_ref(client, run_ref), timeout, f"looking up run {run_ref}"
            )
            current = await _within(get_run(client, run_id), timeout, f"looking up run {run_id}")
            what = f"job {_one(current.job)}" if current.job else "run"
            if current.asset_selection:
                what += f" ({plural(len(current.asset_selection), 'asset')})"
            err(
                f"Watching run {_one(run_id)}: {what} in {_one(current.location)}, "
                f"{_one(current.status)}"
            )
            err(f"  {_one(current.url)}")
            return await workflow.watch_run(run_id, timeout or None, cancel_on_timeout)

    result = _run_sync(main, held, opts)
    _finish(result, opts)


async def _within(awaitable: Any, timeout: float, what: str) -> Any:
    """``awaitable``, within the command's ``--timeout`` (no slow server stretches it)."""
    import asyncio

    from daglab.helpers.errors import RequestTimeoutError
    from daglab.helpers.graphql import bounded
    from daglab.helpers.runs.watch import DEADLINE_GRACE

    if not timeout:  # --timeout 0: no limit of daglab's own (each request keeps its own)
        return await awaitable
    try:
        return await bounded(awaitable, timeout + DEADLINE_GRACE)
    except asyncio.TimeoutError:
        raise RequestTimeoutError(
            f"The Dagster server gave no answer within --timeout {timeout:g}s while {_one(what)}."
        ) from None


# -- daglab cancel ------------------------------------------------------------------------------


@with_global_options
def cancel(
    opts: GlobalOptions,
    run_ref: Annotated[
        str,
        typer.Argument(
            metavar="RUN",
            help="The run to cancel: full id, unique prefix of 8+ characters, latest.",
        ),
    ],
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
    from daglab.helpers.runs.history import resolve_run_ref

    async def main() -> RunResult:
        async with opts.client() as client:
            run_id = await resolve_run_ref(client, run_ref)
            return await cancel_run(client, run_id, force=force, wait=10.0)

    result = run_async(main())
    run_id = result.run_id
    if opts.json:
        data = result.to_json()
        data["force"] = force
        print_json(data)
    if result.status == "CANCELED":
        err(f"Run {_one(run_id)} is CANCELED.")
    else:
        err(f"Cancel requested; run {_one(run_id)} is {_one(result.status)}.")
    err(f"  {_one(result.url)}")
