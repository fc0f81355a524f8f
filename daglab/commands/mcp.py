"""``daglab mcp``: serve daglab's library to agents over the Model Context Protocol."""

from __future__ import annotations

from typing import Annotated

import typer

from daglab.commands._options import GlobalOptions, flag_secrets, state, with_global_options

SERVER = "Server"


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


@with_global_options
def mcp(
    opts: GlobalOptions,
    allow_writes: Annotated[
        bool,
        typer.Option(
            "--allow-writes",
            help="Also serve the tools that change things (launches, cancels, re-executions, "
            "backfills, schedule and sensor switches, reloads). Without it they are not listed "
            "at all.",
            rich_help_panel=SERVER,
        ),
    ] = False,
    http: Annotated[
        bool,
        typer.Option(
            "--http",
            help="Serve Streamable HTTP on 127.0.0.1 (at /mcp) instead of stdio.",
            rich_help_panel=SERVER,
        ),
    ] = False,
    port: Annotated[
        int,
        typer.Option("--port", help="Port for --http.", min=1, max=65535, rich_help_panel=SERVER),
    ] = 8765,
    allow_profile: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-profile",
            metavar="NAME",
            help="The only profiles a tool call may name (repeatable); default: every "
            "configured profile.",
            rich_help_panel=SERVER,
            show_default=False,
        ),
    ] = None,
    tool_timeout: Annotated[
        float,
        typer.Option(
            "--tool-timeout",
            help="Seconds any tool call may take (a launch that waits: its wait on top).",
            min=1.0,
            rich_help_panel=SERVER,
        ),
    ] = 60.0,
    max_wait: Annotated[
        float,
        typer.Option(
            "--max-wait",
            help="The longest a launch may wait for its run, whatever the call asks.",
            min=1.0,
            rich_help_panel=SERVER,
        ),
    ] = 600.0,
    max_limit: Annotated[
        int,
        typer.Option(
            "--max-limit",
            help="The most items a list tool returns, whatever the call asks.",
            min=1,
            rich_help_panel=SERVER,
        ),
    ] = 1000,
) -> None:
    """Serve daglab's library to agents over the Model Context Protocol (stdio, or --http).

    Read-only unless --allow-writes. The connection options choose the deployment, as for
    every command; a tool call may name another configured profile. Needs the mcp extra:
    pip install 'daglab[mcp]'.
    """
    from daglab.helpers.errors import BadInputError
    from daglab.mcp import MISSING_SDK, sdk_available

    if not sdk_available():
        raise BadInputError(MISSING_SDK + ".")

    from daglab.mcp.bounds import Limits
    from daglab.mcp.deployments import Deployments, profile_settings
    from daglab.mcp.server import build_server, serve, serving_logs

    secrets = flag_secrets(opts)
    limits = Limits(
        tool_timeout=tool_timeout,
        max_wait=max_wait,
        default_wait=min(120.0, max_wait),
        default_limit=min(100, max_limit),
        max_limit=max_limit,
    )
    deployments = Deployments(
        opts.settings,
        lambda name: profile_settings(name, opts.http_timeout),
        allowed=frozenset(allow_profile) if allow_profile else None,
        transport=state.transport,
    )
    opts.settings()  # a bad flag, profile or config file is exit 2 now, not a tool error later
    with serving_logs(opts.verbose, secrets):
        server = build_server(
            deployments, allow_writes=allow_writes, limits=limits, secrets=secrets
        )
        serve(server, http=http, port=port)
