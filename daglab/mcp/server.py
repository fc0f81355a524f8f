"""The MCP server: daglab's tools on the official SDK's ``MCPServer``, over stdio or HTTP.

``build_server`` makes the server (the test seam: ``Client(build_server(...))`` talks to it
in-process); ``serve`` runs it on stdio, or on Streamable HTTP at ``127.0.0.1:port``.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from daglab import __version__
from daglab.helpers.auth import RedactingFilter
from daglab.mcp.bounds import Limits
from daglab.mcp.deployments import Deployments
from daglab.mcp.tools import ToolContext, read_tools, write_tools

INSTRUCTIONS = """\
daglab: find, validate, launch and follow Dagster work over Dagster's GraphQL API, with the
same answers as the daglab CLI's --json. Discover first (list_locations, discover_jobs,
discover_assets), validate a run config before launching (validate_run_config), then
launch_job or launch_assets (only when the server allows writes) and follow the run with
get_run. Lists are capped (`limit`, `truncated`); every call has a deadline. A `profile`
argument picks another configured deployment (see list_deployments)."""


def build_server(
    deployments: Deployments,
    *,
    allow_writes: bool = False,
    limits: Limits | None = None,
    secrets: list[str] | None = None,
) -> Any:
    """An ``mcp.server.MCPServer`` serving daglab's read tools, and its write tools (launch,
    cancel) only with ``allow_writes``: without it they are not listed at all."""
    from mcp.server import MCPServer
    from mcp_types import ToolAnnotations

    ctx = ToolContext(deployments, limits or Limits(), list(secrets or []))

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        try:
            yield None
        finally:
            await deployments.aclose()

    # MCPServer calls logging.basicConfig (a rich handler on the root logger, bound to the
    # stderr of the moment): a server built in-process leaves the host's logging as it was.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        server = MCPServer(
            "daglab",
            title="daglab",
            version=__version__,
            instructions=INSTRUCTIONS,
            lifespan=lifespan,
            log_level="WARNING",
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    specs = read_tools(ctx) + (write_tools(ctx) if allow_writes else [])
    for spec in specs:
        server.add_tool(
            spec.fn,
            name=spec.name,
            title=spec.title,
            description=inspect.cleandoc(spec.fn.__doc__ or ""),
            annotations=ToolAnnotations(
                title=spec.title,
                read_only_hint=not spec.write,
                destructive_hint=spec.destructive if spec.write else None,
                idempotent_hint=not spec.write,
                open_world_hint=True,
            ),
            structured_output=True,
        )
    return server


@contextmanager
def serving_logs(verbose: bool, secrets: list[str]) -> Iterator[None]:
    """While serving, everything logged goes to stderr (stdout is the protocol on stdio),
    secrets masked; warnings only unless ``verbose``. The logging configuration is put back
    afterwards (``cli.main`` may run in a process that goes on)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    names = ("daglab", "mcp", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx")
    root = logging.getLogger()
    saved = [(root, list(root.handlers), root.level, root.propagate)]
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.level, logger.propagate))
    try:
        root.handlers[:] = [handler]
        root.setLevel(logging.DEBUG if verbose else logging.WARNING)
        for name in names:
            logger = logging.getLogger(name)
            logger.handlers[:] = []
            logger.propagate = True
            logger.setLevel(logging.NOTSET)
        logging.getLogger("daglab").setLevel(logging.DEBUG if verbose else logging.WARNING)
        yield
    finally:
        for logger, handlers, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


def serve(server: Any, *, http: bool = False, port: int = 8765) -> None:
    """Serve until the client goes away (stdio) or the process is stopped (HTTP)."""
    import anyio

    if http:
        anyio.run(
            lambda: server.run_streamable_http_async(
                host="127.0.0.1", port=port, streamable_http_path="/mcp"
            )
        )
    else:
        anyio.run(server.run_stdio_async)
