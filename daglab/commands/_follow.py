"""What the commands that launch or follow a run share (``run``, ``watch``, ``rerun``,
``checks run``): their options for waiting, the live progress, the lines about a launched
run, the outcome and its exit code, and what an interrupt or a lost contact still reports.

Only typer and the standard library are imported at module level; the helpers load when a
command runs, so ``daglab --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab.commands._options import GlobalOptions, err, out, print_json, run_async

if TYPE_CHECKING:
    from daglab.helpers.graphql import DagsterClient
    from daglab.helpers.models import RunResult, RunSubmitResult
    from daglab.helpers.runs import ProgressEvent, RunRequest, RunWorkflow

WATCHING = "Watching"

# The options of every command that waits for a run, spelled and explained once.
Wait = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="Wait for the run to end, with live progress on stderr.",
        rich_help_panel=WATCHING,
    ),
]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        help="Seconds to wait for the run before giving up (exit 4); 0 waits without limit.",
        rich_help_panel=WATCHING,
        min=0.0,
    ),
]
CancelOnTimeout = Annotated[
    bool,
    typer.Option(
        "--cancel-on-timeout",
        help="Cancel the run when the timeout passes (otherwise it goes on).",
        rich_help_panel=WATCHING,
    ),
]
RunTags = Annotated[
    list[str] | None,
    typer.Option("--tag", help="Run tag key=value (repeatable).", show_default=False),
]


# -- rendering ----------------------------------------------------------------------------------


def clean(text: object, one_line: bool = False) -> str:
    """Server text, safe for a terminal: ANSI escapes and control characters removed."""
    from daglab.helpers import text as server_text

    return server_text.clean(text, one_line=one_line)


def one(text: object) -> str:
    """Server text for a place in one line (a run id, a status, a job name)."""
    return clean(text, one_line=True)


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
            err(f"[{_elapsed(event.elapsed)}] {one(line)}")
        if event.kind == "step_failed" and event.step and len(_message_lines(event.message)) <= 1:
            _shown_failures.add(event.step)


def _message_lines(message: object) -> list[str]:
    return [line for line in clean(message).strip().splitlines() if line.strip()]


def _print_failure(result: RunResult) -> bool:
    """The run's error, unless the live progress already showed all of it; True if the
    error's text is on stderr now."""
    error = result.error
    if error is None:
        return False
    err(f"Failed step: {clean(error.step)}" if error.step else "The run failed:")
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
        err(f"Last lines of the stderr of step {clean(step)}:")
        for line in lines:
            err(f"  | {clean(line)}")
    external = getattr(info, "external_url", None)
    if external:
        err(f"Its captured logs are kept at {clean(external)}")
    if lines or external:
        err(f"Read it all with `daglab logs {run_id} --stderr --step {step}`.")


def _summary(result: RunResult) -> str:
    from daglab.helpers.text import plural

    parts = [f"Run {one(result.run_id)} {one(result.status)}"]
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
        parts.append(f"skipped: {', '.join(clean(s) for s in result.steps_skipped)}")
    return " ".join(parts)


def _print_failed_checks(result: RunResult) -> None:
    for check in result.failed_checks:
        err(
            f"Check {clean(check.name)} on {clean(check.asset)} FAILED "
            f"(severity {clean(check.severity)})"
        )


# -- the shared end of run and watch ------------------------------------------------------------


def _reattach_hint(run_id: str) -> str:
    return f"Re-attach with `daglab watch {run_id}` or cancel it with `daglab cancel {run_id}`."


class Held:
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


def _on_interrupt(held: Held, opts: GlobalOptions) -> None:
    from daglab.helpers.errors import InterruptedByUser

    snapshot = held.snapshot()
    run_id = held.run_id
    if snapshot is not None:
        err(
            f"Interrupted. Run {one(snapshot.run_id)} was left alone ({one(snapshot.status)}): "
            f"{one(snapshot.url)}"
        )
        err(_reattach_hint(one(snapshot.run_id)))
        if opts.json:
            print_json(snapshot.to_json())
    elif run_id is not None:
        err(f"Interrupted. Run {one(run_id)} was left alone.")
        err(_reattach_hint(one(run_id)))
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


def finish(result: RunResult, opts: GlobalOptions) -> None:
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
        err(one(result.url))
        return
    if result.succeeded:  # the run succeeded, but a check of ERROR severity failed
        names = ", ".join(
            f"{clean(c.name)} on {clean(c.asset)}" for c in result.failed_checks if c.failed_error
        )
        raise errors.RunFailedError(
            f"Run {one(result.run_id)} ended SUCCESS, but ERROR-severity checks failed: {names}",
            result=result,
            hint=result.url,
        )
    shown = _print_failure(result)
    if result.status == "FAILURE" and result.error is not None and result.error.step:
        _print_stderr_tail(result.run_id, result.error.step, opts)
    if result.status == "CANCELED":
        raise errors.RunFailedError(
            f"Run {one(result.run_id)} was CANCELED.", result=result, hint=one(result.url)
        )
    summary = f"Run {one(result.run_id)} ended {one(result.status)}"
    if result.error is not None:
        summary += f" in step {one(result.error.step)}" if result.error.step else ""
        # The error itself is on the lines above; a message that holds it (--json's error
        # document, a log) gets its one-line reason.
        summary += "." if shown else f": {one(reason_line(result.error.message))}"
    raise errors.RunFailedError(summary, result=result, hint=one(result.url))


def run_sync(coro_factory: Any, held: Held, opts: GlobalOptions) -> Any:
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


def launched(submitted: RunSubmitResult, what: str) -> None:
    """The lines that say a run was launched: its id, what it runs, how it was found if the
    launch response was lost, and its URL."""
    err(f"Launched run {one(submitted.run_id)}: {what}")
    if submitted.recovered:
        err(
            "(the launch response was lost; found the run by its request id, tag "
            f"daglab/request_id={submitted.request_id})"
        )
    err(f"  {one(submitted.url)}")


def not_waiting(result: RunResult, opts: GlobalOptions) -> None:
    """The end of a command told not to wait: the run's document with --json, else its id on
    stdout (for ``RID=$(daglab run ... --no-wait)``), and how to follow it."""
    _exit_soon()
    if opts.json:
        print_json(result.to_json())
    else:
        out(one(result.run_id))
    err(f"Not waiting. Follow it with `daglab watch {one(result.run_id)}`.")
