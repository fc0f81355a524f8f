"""``daglab logs RUN``: a run's event log (filtered, or followed to the run's end), or the
captured stdout/stderr of one of its steps.

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
    from daglab.helpers.models import RunEvent


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)


def _line(event: RunEvent) -> str:
    from daglab.helpers.display import clean, format_time

    when = format_time(event.timestamp)
    parts = [when, (event.level or "").ljust(7), (event.type or "").ljust(20)]
    if event.step:
        parts.append(f"[{clean(event.step)}]")
    parts.append(
        clean(
            event.message,
        ).replace("\n", " ")
        if event.message
        else ""
    )
    text = " ".join(p for p in parts if p)
    if event.error is not None:
        for cause in event.error.causes:
            name = _cause_prefix(cause)
            first = (clean(cause.message).strip().splitlines() or [""])[0]
            text += f"\n    caused by {clean(name)}{first}"
    return text


@with_global_options
def logs(
    opts: GlobalOptions,
    run: Annotated[
        str,
        typer.Argument(
            help="The run: full id, unique prefix of 8+ characters, latest, last-failure."
        ),
    ],
    level: Annotated[
        list[str] | None,
        typer.Option(
            "--level",
            help="Only events of this level (repeatable): DEBUG, INFO, WARNING, ERROR, CRITICAL.",
            show_default=False,
        ),
    ] = None,
    step: Annotated[
        list[str] | None,
        typer.Option(
            "--step",
            help="Only events of this step (repeatable); with --stdout or "
            "--stderr: the step whose output to print.",
            show_default=False,
        ),
    ] = None,
    type_: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            help="Only events of this Dagster type (repeatable), e.g. "
            "STEP_FAILURE, ASSET_MATERIALIZATION.",
            show_default=False,
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Keep printing new events until the run ends; exit codes as for `daglab watch`.",
        ),
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="With --follow: seconds to follow before giving up (exit 4; the run goes on).",
            min=0.0,
        ),
    ] = None,
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Print the step's captured stdout instead.")
    ] = False,
    stderr: Annotated[
        bool, typer.Option("--stderr", help="Print the step's captured stderr instead.")
    ] = False,
) -> None:
    """Print a run's event log, or with --stdout/--stderr the captured output of a step.

    With --json: {"run_id", "status", "events": [...]}; for captured output
    {"run_id", "step", "stream", "file_key", "kept", "external_url", "location",
    "download_url", "bytes", "text"}.
    """
    from daglab.helpers.errors import BadInputError

    if stdout and stderr:
        raise BadInputError("Give --stdout or --stderr, not both.")
    if stdout or stderr:
        if len(step or []) > 1:
            raise BadInputError("Give one --step with --stdout/--stderr.")
        _captured(opts, run, step[0] if step else None, "stdout" if stdout else "stderr")
        return
    _events(opts, run, level, step, type_, follow, timeout)


def _events(
    opts: GlobalOptions,
    run: str,
    level: list[str] | None,
    step: list[str] | None,
    type_: list[str] | None,
    follow: bool,
    timeout: float | None,
) -> None:
    from daglab.helpers import errors
    from daglab.helpers.runs.history import resolve_run_ref
    from daglab.helpers.runs.logs import EventFilter, EventLog

    filters = EventFilter(levels=level or (), steps=step or (), types=type_ or ())
    collected: list[dict[str, object]] = []
    state: dict[str, object] = {}

    async def main() -> EventLog:
        async with opts.client() as client:
            run_id = await resolve_run_ref(client, run)
            state["run_id"] = run_id
            log = EventLog(client, run_id, filters, follow=follow, timeout=timeout)
            async for event in log.events():
                if opts.json:
                    collected.append(event.to_json())
                else:
                    out(_line(event))
            return log

    try:
        log = run_async(main())
    except KeyboardInterrupt:
        if opts.json and "run_id" in state:
            print_json(
                {
                    "run_id": state["run_id"],
                    "status": None,
                    "events": collected,
                    "interrupted": True,
                }
            )
        raise
    if opts.json:
        print_json(
            {
                "run_id": log.run_id,
                "status": log.status,
                "events": collected,
                "timed_out": log.timed_out,
            }
        )
    if not follow:
        return
    if log.timed_out:
        raise errors.RunTimeoutError(
            f"Timed out after {timeout:g}s following run {log.run_id} (still {log.status}). "
            "The run goes on.",
            run_id=log.run_id,
            hint=f"Follow it again with `daglab logs {log.run_id} --follow`.",
        )
    err(f"Run {log.run_id} {log.status}")
    if log.status != "SUCCESS":
        raise errors.RunFailedError(f"Run {log.run_id} ended {log.status}.")


def _captured(opts: GlobalOptions, run: str, step: str | None, stream: str) -> None:
    from daglab.helpers.runs.history import resolve_run_ref
    from daglab.helpers.runs.logs import captured_log_info, read_captured
    from daglab.helpers.text import clean

    pieces: list[str] = []

    async def main() -> tuple[object, int]:
        async with opts.client() as client:
            run_id = await resolve_run_ref(client, run)
            info, log_key = await captured_log_info(client, run_id, step, stream)
            size = 0
            if info.kept:
                async for text in read_captured(client, log_key, stream):
                    size += len(text.encode("utf-8", "replace"))
                    safe = clean(text)
                    if opts.json:
                        pieces.append(safe)
                    else:
                        out(safe, end="")
            return info, size

    info, size = run_async(main())
    from daglab.helpers.models import CapturedLogInfo

    assert isinstance(info, CapturedLogInfo)
    info = info.model_copy(update={"bytes": size})
    if opts.json:
        print_json({**info.to_json(), "text": "".join(pieces)})
    where = f"step {info.step}" if info.step else f"file {info.file_key}"
    if not info.kept:
        err(
            f"No captured {stream} for {where} of run {info.run_id}: the instance keeps no "
            "compute logs (NoOpComputeLogManager), or the step wrote none."
        )
        return
    if size == 0:
        if info.external_url:
            err(f"The {stream} of {where} is kept outside Dagster: {info.external_url}")
        else:
            err(f"The {stream} of {where} is empty.")
        return
    if info.external_url:
        err(f"(also at {info.external_url})")


def _cause_prefix(cause: object) -> str:
    """``ClassName: `` unless the cause's message already starts with it."""
    name = getattr(cause, "class_name", None)
    message = str(getattr(cause, "message", "") or "")
    return f"{name}: " if name and not message.startswith(f"{name}:") else ""
