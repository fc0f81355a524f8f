"""``daglab status``: where daglab connects, with which credentials, and what it finds there."""

from __future__ import annotations

import typer

from daglab.commands._options import (
    GlobalOptions,
    err,
    print_json,
    run_async,
    state,
    with_global_options,
)


def register(app: typer.Typer) -> None:
    app.command("status")(status)


@with_global_options
def status(opts: GlobalOptions) -> None:
    """Show the server daglab talks to: URL, credential source, Dagster version, code locations."""

    from daglab.helpers.status import server_status

    settings = opts.settings()
    result = run_async(server_status(settings, transport=state.transport))
    if opts.json:
        print_json(result.model_dump())
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
    if any(not loc.loaded for loc in result.locations):
        err("Some code locations did not load; see above.")
