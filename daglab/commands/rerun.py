"""``daglab rerun RUN``: re-execute a run (all steps, from its failure, or chosen steps) and
wait for it as ``daglab run`` does: the same progress, timeout, JSON and exit codes.

Only typer and the standard library are imported at module level.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from daglab.commands._options import GlobalOptions, err, print_json, with_global_options

if TYPE_CHECKING:
    from daglab.helpers.models import RunResult

WATCHING = "Watching"


def register(app: typer.Typer) -> None:
    app.command("rerun")(rerun)


@with_global_options
def rerun(
    opts: GlobalOptions,
    run: Annotated[
        str,
        typer.Argument(
            help="The run to re-execute: full id, unique prefix of 8+ characters, latest, "
            "last-failure."
        ),
    ],
    from_failure: Annotated[
        bool,
        typer.Option(
            "--from-failure",
            help="Only the failed steps and those after them (the run must have failed).",
        ),
    ] = False,
    steps: Annotated[
        str | None,
        typer.Option("--steps", help="Only these steps, comma-separated.", show_default=False),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Extra run tag key=value (repeatable).", show_default=False),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="Wait for the new run to end, with live progress.",
            rich_help_panel=WATCHING,
        ),
    ] = True,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Seconds to wait before giving up (exit 4); 0 waits without limit.",
            rich_help_panel=WATCHING,
            min=0.0,
        ),
    ] = 300.0,
    cancel_on_timeout: Annotated[
        bool,
        typer.Option(
            "--cancel-on-timeout",
            help="Cancel the run when the timeout passes.",
            rich_help_panel=WATCHING,
        ),
    ] = False,
) -> None:
    """Re-execute a run through Dagster's re-execution (the new run is its child).

    Exit codes as for `daglab run`: 0 success (or launched with --no-wait), 1 failed or
    canceled, 2 bad input (unknown run, a run that did not fail with --from-failure), 3
    server trouble, 4 timed out, 5 auth, 130 Ctrl-C.
    """
    from daglab.commands.run import _exit_soon, _finish, _Held, _run_sync
    from daglab.helpers import runs
    from daglab.helpers.errors import BadInputError
    from daglab.helpers.runs.history import resolve_run_ref
    from daglab.helpers.runs.reexecute import ALL_STEPS, FROM_FAILURE

    step_list = [s.strip() for s in (steps or "").split(",") if s.strip()]
    if from_failure and step_list:
        raise BadInputError("Give --from-failure or --steps, not both.")
    if steps is not None and not step_list:
        raise BadInputError("--steps needs at least one step key.")
    request = runs.RunRequest(tags=runs.parse_run_tags(tag or []))
    held = _Held(request)

    async def main() -> RunResult:
        async with opts.client() as client:
            workflow = held.start(client)
            parent = await resolve_run_ref(client, run)
            submitted = await workflow.reexecute(
                parent, FROM_FAILURE if from_failure else ALL_STEPS, step_list or None
            )
            held.run_id = submitted.run_id
            how = (
                "from failure"
                if from_failure
                else (f"steps {', '.join(step_list)}" if step_list else "all steps")
            )
            err(f"Launched run {submitted.run_id}: re-execution of {parent} ({how})")
            if submitted.recovered:
                err("(the launch response was lost; found the run by its request id)")
            err(f"  {submitted.url}")
            if not wait:
                return runs.submitted_result(submitted)
            return await workflow.watch(timeout or None, cancel_on_timeout)

    outcome = _run_sync(main, held, opts)
    if outcome.stop_reason == "not_waiting":
        _exit_soon()
        if opts.json:
            print_json(outcome.to_json())
        else:  # the run id on stdout, as `daglab run --no-wait` prints it
            sys.stdout.write(outcome.run_id + "\n")
        err(f"Not waiting. Follow it with `daglab watch {outcome.run_id}`.")
        return
    _finish(outcome, opts)
