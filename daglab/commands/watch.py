"""``daglab watch`` and ``daglab cancel``: follow any run to its end, or stop it.

Only typer and the standard library are imported at module level; the helpers load when a
command runs, so ``daglab --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab.commands._follow import CancelOnTimeout, Held, Timeout, finish, one, run_sync
from daglab.commands._options import GlobalOptions, err, print_json, run_async, with_global_options

if TYPE_CHECKING:
    from daglab.helpers.models import RunResult


def register(app: typer.Typer) -> None:
    """Add ``watch`` and ``cancel`` to the app."""
    app.command("watch")(watch)
    app.command("cancel")(cancel)


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
    timeout: Timeout = 300.0,
    cancel_on_timeout: CancelOnTimeout = False,
) -> None:
    """Follow a run to its end with live progress; exit codes as for `daglab run`."""
    from daglab.helpers.runs import RunRequest

    held = Held(RunRequest())

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
            what = f"job {one(current.job)}" if current.job else "run"
            if current.asset_selection:
                what += f" ({plural(len(current.asset_selection), 'asset')})"
            err(
                f"Watching run {one(run_id)}: {what} in {one(current.location)}, "
                f"{one(current.status)}"
            )
            err(f"  {one(current.url)}")
            return await workflow.watch_run(run_id, timeout or None, cancel_on_timeout)

    result = run_sync(main, held, opts)
    finish(result, opts)


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
            f"The Dagster server gave no answer within --timeout {timeout:g}s while {one(what)}."
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
        err(f"Run {one(run_id)} is CANCELED.")
    else:
        err(f"Cancel requested; run {one(run_id)} is {one(result.status)}.")
    err(f"  {one(result.url)}")
