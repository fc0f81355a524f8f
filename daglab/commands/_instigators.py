"""``daglab schedules`` and ``daglab sensors``: one builder for both (list, show, start, stop).

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
    from daglab.helpers.models import InstigatorInfo

Location = Annotated[
    str | None, typer.Option("--location", "-l", help="Only in this code location.")
]
Repository = Annotated[str | None, typer.Option("--repo", help="Only in this repository.")]
Name = Annotated[str, typer.Argument(metavar="NAME", help="Its name.")]

EXIT_HELP = (
    "Exit codes: 0 done; 2 unknown or ambiguous name, or already in the state asked for "
    "(starting a running one, stopping a stopped one: nothing is changed); 3 server trouble; "
    "5 refused."
)


def _when(epoch: float | None) -> str:
    from daglab.helpers.display import format_time

    return format_time(epoch) if epoch else "-"


def _every(info: InstigatorInfo) -> str:
    if info.kind == "schedule":
        tz = info.timezone or "UTC (the server's default)"
        return f"cron {info.cron_schedule}  ({tz})"
    return f"every {info.min_interval_seconds}s at least"


def _error_lines(error: str) -> list[str]:
    """A tick's error in two lines at most: its first line and its root cause."""
    from daglab.helpers.text import clean

    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    if not lines:
        return []
    shown = [f"error: {clean(lines[0], one_line=True)}"]
    causes = [line for line in lines if line.startswith("Caused by ")]
    if causes:
        shown.append(clean(causes[-1], one_line=True))
    return shown


def build(kind: str) -> typer.Typer:
    kinds = f"{kind}s"
    app = typer.Typer(
        help=f"List, show, start and stop {kinds}.\n\n{EXIT_HELP}",
        no_args_is_help=True,
        rich_markup_mode=None,
        add_completion=False,
    )

    @app.command("list")
    @with_global_options
    def list_(
        opts: GlobalOptions,
        pattern: Annotated[
            str | None,
            typer.Argument(metavar="[PATTERN]", help="Names matching this glob, or containing it."),
        ] = None,
        location: Location = None,
        repository: Repository = None,
        status: Annotated[str | None, typer.Option("--status", help="running or stopped.")] = None,
    ) -> None:
        """List them, in workspace order. --json: {"<kind>s": [...], "count": N}."""
        from daglab.helpers.automation import list_instigators
        from daglab.helpers.display import text_table
        from daglab.helpers.text import clean

        async def main() -> list[InstigatorInfo]:
            async with opts.client() as client:
                return await list_instigators(
                    client,
                    kind,
                    location=location,
                    repository=repository,
                    status=status,
                    pattern=pattern,
                )

        found = run_async(main())
        if opts.json:
            print_json({kinds: [i.to_json() for i in found], "count": len(found)})
            return
        if not found:
            err(f"No {kinds}.")
            return
        rows = [
            [
                clean(i.name),
                i.status,
                clean(i.location),
                clean(i.cron_schedule or "")
                if kind == "schedule"
                else f"{i.min_interval_seconds}s",
                _when(i.next_tick),
            ]
            for i in found
        ]
        every = "cron" if kind == "schedule" else "interval"
        out(text_table([kind, "status", "location", every, "next tick"], rows))

    @app.command("show")
    @with_global_options
    def show(
        opts: GlobalOptions,
        name: Name,
        location: Location = None,
        repository: Repository = None,
        ticks: Annotated[
            int, typer.Option("--ticks", "-n", help="The newest ticks to show.", min=0)
        ] = 10,
    ) -> None:
        """Show one: its cron or interval, status, next tick and recent ticks (outcome, skip
        reason, error, the runs each requested)."""
        from daglab.helpers.automation import get_instigator
        from daglab.helpers.text import clean, plural

        async def main() -> InstigatorInfo:
            async with opts.client() as client:
                return await get_instigator(
                    client, kind, name, location=location, repository=repository, ticks=ticks
                )

        info = run_async(main())
        if opts.json:
            print_json(info.to_json())
            return
        status = info.status
        if info.status != info.default_status:
            status += f" (declared {info.default_status} in code)"
        lines = [
            f"{kind.capitalize():<10} {clean(info.name)}",
            f"Location   {clean(info.location)} / {clean(info.repository)}",
            f"Status     {status}",
            f"Runs       {clean(', '.join(info.jobs)) or '-'}",
            f"When       {clean(_every(info))}",
            f"Next tick  {_when(info.next_tick)}",
        ]
        if info.description:
            lines.append(f"About      {clean(info.description, one_line=True)}")
        lines.append(f"Ticks      the newest {plural(len(info.ticks or []), 'tick')}")
        for t in info.ticks or []:
            line = f"  {_when(t.timestamp)}  {t.status:<8}"
            if t.run_ids:
                line += f" runs {', '.join(t.run_ids)}"
            if t.skip_reason:
                line += f" skipped: {clean(t.skip_reason, one_line=True)}"
            lines.append(line)
            if t.error:
                lines += [f"    {line}" for line in _error_lines(t.error)]
        out("\n".join(lines))

    def act(
        opts: GlobalOptions, name: str, running: bool, location: str | None, repository: str | None
    ) -> None:
        from daglab.helpers.automation import set_instigator_running
        from daglab.helpers.text import clean

        async def main():  # type: ignore[no-untyped-def]
            async with opts.client() as client:
                return await set_instigator_running(
                    client, kind, name, running, location=location, repository=repository
                )

        change = run_async(main())
        if opts.json:
            print_json(change.to_json())
        err(f"{kind.capitalize()} {clean(name)}: {change.before} -> {change.after}.")
        if change.note:
            err(change.note)

    @app.command("start")
    @with_global_options
    def start(
        opts: GlobalOptions, name: Name, location: Location = None, repository: Repository = None
    ) -> None:
        """Start one. Already running: exit 2, nothing changed."""
        act(opts, name, True, location, repository)

    @app.command("stop")
    @with_global_options
    def stop(
        opts: GlobalOptions, name: Name, location: Location = None, repository: Repository = None
    ) -> None:
        """Stop one. Already stopped: exit 2, nothing changed. One declared RUNNING in code stays
        stopped (Dagster stores the stop, overriding the code) until started or reset."""
        act(opts, name, False, location, repository)

    return app
