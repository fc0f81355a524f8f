"""``daglab mcp``'s overhead: a tool call against the helper it wraps, and the server's start-up.

    python bench/mcp_overhead.py [--url URL] [--calls 30] [--starts 5]

Without ``--url`` it serves the strawberry mock over HTTP on 127.0.0.1 (no Dagster needed);
with one, it measures against that server (e.g. a harness server: ``daglab dev up``). Each
figure is a median measured in this run beside its baseline, printed as a ratio:

- a tool call over stdio (the SDK's client, ``python -m daglab mcp`` a subprocess) and
  in-process (``Client(build_server(...))``) against the library call it makes
  (``discover(client, ...)`` on one pooled ``DagsterClient``, same process);
- start-up: spawning ``daglab mcp`` until its tools are listed, against ``daglab --version``.

Benchmarks print; they do not pass or fail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PY = sys.executable


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("DAGLAB_", "DAGSTER_"))}
    out["XDG_CONFIG_HOME"] = "/nonexistent-daglab-bench"
    out["XDG_STATE_HOME"] = "/nonexistent-daglab-bench"
    out["PYTHONPATH"] = str(REPO)
    return out


async def median_of(n: int, once: Callable[[], Awaitable[Any]]) -> float:
    await once()  # warm: the pooled connection, the server's version, caches
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await once()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def row(figure: str, value: float, baseline: float, label: str) -> None:
    print(f"  {figure}: {ms(value)} | {label} {ms(baseline)} | x{value / baseline:.2f}")


async def tool_overhead(url: str, calls: int, tool: str, types: list[str]) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from daglab.helpers.config import resolve_connection
    from daglab.helpers.discovery import discover
    from daglab.helpers.graphql import DagsterClient
    from daglab.mcp.deployments import Deployments
    from daglab.mcp.server import build_server

    settings = resolve_connection(url=url, env={})
    async with DagsterClient.from_settings(settings) as client:
        direct = await median_of(calls, lambda: discover(client, types))

    server = build_server(Deployments(lambda: settings))
    async with Client(server) as inproc:
        in_process = await median_of(calls, lambda: inproc.call_tool(tool, {"limit": 1000}))

    params = StdioServerParameters(
        command=PY, args=["-m", "daglab", "mcp", "--url", url], env=env()
    )
    with open(os.devnull, "w") as log:
        async with Client(stdio_client(params, errlog=log)) as remote:
            stdio = await median_of(calls, lambda: remote.call_tool(tool, {"limit": 1000}))

    print(f"{tool} (median of {calls}; the helper: {ms(direct)})")
    row("MCP tool call, in-process", in_process, direct, "helper")
    row("MCP tool call, over stdio", stdio, direct, "helper")


async def startup(url: str, starts: int) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=PY, args=["-m", "daglab", "mcp", "--url", url], env=env()
    )
    times = []
    with open(os.devnull, "w") as log:
        for _ in range(starts):
            start = time.perf_counter()
            async with Client(stdio_client(params, errlog=log)) as client:
                await client.list_tools()
                times.append(time.perf_counter() - start)
    baseline = []
    for _ in range(starts):
        start = time.perf_counter()
        subprocess.run(
            [PY, "-m", "daglab", "--version"], env=env(), check=True, capture_output=True
        )
        baseline.append(time.perf_counter() - start)
    print(f"start-up (median of {starts})")
    row(
        "spawn daglab mcp until tools are listed",
        statistics.median(times),
        statistics.median(baseline),
        "daglab --version",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a Dagster server (default: the mock over HTTP)")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args(argv)

    mock = None
    url = args.url
    if url is None:
        from daglab.harness.mock import MockDagster

        mock = MockDagster().start()
        url = mock.url
    try:
        print(f"daglab mcp against {'the mock' if mock else url}")
        asyncio.run(tool_overhead(url, args.calls, "list_locations", []))
        asyncio.run(tool_overhead(url, args.calls, "discover_assets", ["assets"]))
        asyncio.run(startup(url, args.starts))
    finally:
        if mock is not None:
            mock.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
