"""``daglab rerun RUN``: re-execute a run (all steps, from its failure, or chosen steps) and
wait for it as ``daglab run`` does: the same progress, timeout, JSON and exit codes.

Only typer and the standard library are imported at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from daglab.commands._follow import (
    CancelOnTimeout,
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
from daglab.commands._options import GlobalOptions, with_global_options

if TYPE_CHECKING:
    from daglab.helpers.models import RunResult


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
    tag: RunTags = None,
    wait: Wait = True,
    timeout: Timeout = 300.0,
    cancel_on_timeout: CancelOnTimeout = False,
) -> None:
    """Re-execute a run through Dagster's re-execution (the new run is its child).

    Exit codes as for `daglab run`: 0 success (or launched with --no-wait), 1 failed or
    canceled, 2 bad input (unknown run, a run that did not fail with --from-failure), 3
    server trouble, 4 timed out, 5 auth, 130 Ctrl-C.
    """
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
    held = Held(request)

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
            launched(submitted, f"re-execution of {one(parent)} ({one(how)})")
            if not wait:
                return runs.submitted_result(submitted)
            return await workflow.watch(timeout or None, cancel_on_timeout)

    outcome = run_sync(main, held, opts)
    if outcome.stop_reason == "not_waiting":  # --no-wait
        not_waiting(outcome, opts)
        return
    finish(outcome, opts)
