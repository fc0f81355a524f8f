"""``daglab status``: where daglab connects, with which credentials, and what it finds there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from daglab.commands._options import (
    GlobalOptions,
    err,
    print_json,
    run_async,
    state,
    with_global_options,
)

if TYPE_CHECKING:
    from daglab.helpers.models import ServerStatus


def register(app: typer.Typer) -> None:
    app.command("status")(status)


@with_global_options
def status(opts: GlobalOptions) -> None:
    """Show the server daglab talks to: URL, credential source, Dagster version, code locations.

    Also each daemon's health. Exit 3 when a code location failed to load or a required daemon
    is not healthy (the output is printed first), so it can gate a deploy.
    """

    from daglab.helpers.status import check_status, server_status

    settings = opts.settings()
    result = run_async(server_status(settings, transport=state.transport))
    if opts.json:
        print_json(result.model_dump())
        check_status(result)
        return
    from daglab.commands._render import console, sanitize

    out = console()
    out.print(f"URL:          {sanitize(result.url)}  (from {result.url_source})")
    out.print(f"Credentials:  {result.auth_source}")
    out.print(f"Dagster:      {sanitize(result.version)}")
    out.print(f"Round trip:   {result.round_trip_ms:.0f} ms")
    out.print(f"Locations:    {len(result.locations)}")
    for loc in result.locations:
        line = f"  {sanitize(loc.name)}: {sanitize(loc.load_status)}"
        if loc.repositories:
            line += f" ({', '.join(sanitize(r) for r in loc.repositories)})"
        out.print(line)
        if loc.error:
            first = sanitize(loc.error.strip().splitlines()[0]) if loc.error.strip() else ""
            out.print(f"    error: {first}")
    dep = result.deployment
    if dep is not None:
        storage = dep.storage or "unknown (the server does not show its instance)"
        classes = ", ".join(
            sanitize(c) for c in (dep.run_storage, dep.event_log_storage, dep.schedule_storage) if c
        )
        out.print(f"Storage:      {sanitize(storage)}" + (f" ({classes})" if classes else ""))
        launcher = sanitize(dep.run_launcher or "unknown")
        coordinator = sanitize(dep.run_coordinator or "unknown")
        out.print(f"Runs:         launcher {launcher}, coordinator {coordinator}")
        if dep.max_concurrent_runs is not None and dep.max_concurrent_runs >= 0:
            limits = ", ".join(
                f"{sanitize(t['key'])}{'=' + sanitize(t['value']) if t.get('value') else ''}: "
                f"{sanitize(t.get('limit'))}"
                for t in dep.tag_concurrency_limits
            )
            out.print(
                f"Run queue:    at most {dep.max_concurrent_runs} runs"
                + (f"; tag limits {limits}" if limits else "")
            )
        out.print("Code servers:")
        for cs in dep.code_servers:
            if cs.kind == "grpc":
                where = f"grpc {sanitize(cs.host or '?')}:{sanitize(cs.port or cs.socket or '?')}"
            else:
                where = "managed by the webserver" + (
                    f" ({sanitize(cs.target)})" if cs.target else ""
                )
            out.print(f"  {sanitize(cs.location)}: {where}, {sanitize(cs.state)}")
    _print_daemons(out, result)
    if any(not loc.loaded for loc in result.locations):
        err("Some code locations did not load; see above.")
    check_status(result)


def _print_daemons(out: Any, result: ServerStatus) -> None:
    from daglab.commands._render import sanitize
    from daglab.helpers.display import format_time

    if result.daemons is None:
        out.print(f"Daemons:      not reported by this server ({sanitize(result.daemons_error)})")
        return
    out.print(f"Daemons:      {len(result.daemons)}")
    for d in result.daemons:
        health = {True: "healthy", False: "NOT HEALTHY", None: "not checked"}[d.healthy]
        required = "required" if d.required else "not required"
        beat = format_time(d.last_heartbeat) if d.last_heartbeat else "never"
        out.print(f"  {sanitize(d.daemon_type)}: {health} ({required}, last heartbeat {beat})")
        for e in d.errors[:1]:
            first = sanitize(e.strip().splitlines()[0]) if e.strip() else ""
            out.print(f"    error: {first}")
