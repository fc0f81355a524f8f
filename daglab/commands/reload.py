"""``daglab reload [LOCATION | --all]``: reload code locations and wait until each is loaded
or failed."""

from __future__ import annotations

from typing import Annotated

import typer

from daglab.commands._options import GlobalOptions, err, print_json, run_async, with_global_options


def register(app: typer.Typer) -> None:
    app.command("reload")(reload)


@with_global_options
def reload(
    opts: GlobalOptions,
    location: Annotated[
        str | None, typer.Argument(metavar="[LOCATION]", help="The code location to reload.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Reload the whole workspace.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for loading to end.", min=0.0)
    ] = 120.0,
) -> None:
    """Reload a code location (or --all) and wait until it is LOADED or failed.

    Exit 0 loaded; 2 unknown location, or neither LOCATION nor --all; 3 a location failed to
    load (its error is printed) or the server cannot be reached. --json: {"locations": [...],
    "waited_s": S, "ok": bool}, also on failure.
    """
    from daglab.helpers.automation import check_reload, reload_locations
    from daglab.helpers.errors import BadInputError
    from daglab.helpers.text import clean

    if (location is None) == (not all_):
        raise BadInputError("Name one code location to reload, or give --all.")

    async def main():  # type: ignore[no-untyped-def]
        async with opts.client() as client:
            return await reload_locations(client, location, timeout=timeout)

    result = run_async(main())
    if opts.json:
        print_json(result.to_json())
    for loc in result.locations:
        line = f"{clean(loc.name)}: {loc.load_status}"
        if loc.repositories:
            line += f" ({', '.join(clean(r) for r in loc.repositories)})"
        err(line)
    err(f"Waited {result.waited_s:.1f}s.")
    check_reload(result)
