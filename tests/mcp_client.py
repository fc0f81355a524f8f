"""Talk to ``daglab mcp`` as an agent's host does: the MCP SDK's own ``Client`` over stdio,
launching ``python -m daglab mcp ...`` as a subprocess."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import REPO


@asynccontextmanager
async def daglab_mcp(
    *args: str, env: dict[str, str], errlog: Path, timeout: float = 600.0
) -> AsyncIterator[Client]:
    """A connected client of ``daglab mcp ARGS``; the server's stderr goes to ``errlog``."""
    env = {**env, "PYTHONPATH": str(REPO)}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "daglab", "mcp", *args], env=env, cwd=str(REPO)
    )
    with errlog.open("a", encoding="utf-8") as log:
        async with Client(stdio_client(params, errlog=log), read_timeout_seconds=timeout) as c:
            yield c


async def call(client: Client, name: str, arguments: dict[str, Any] | None = None) -> Any:
    """The structured answer of a tool that must succeed."""
    result = await client.call_tool(name, arguments or {})
    assert not result.is_error, text_of(result)
    return result.structured_content


async def call_error(client: Client, name: str, arguments: dict[str, Any] | None = None) -> str:
    """The text of a tool error (the call must fail)."""
    result = await client.call_tool(name, arguments or {})
    assert result.is_error, result.structured_content
    return text_of(result)


def text_of(result: Any) -> str:
    """Everything a result carries, as one string: its text blocks and structured content."""
    parts = [getattr(block, "text", "") for block in result.content or []]
    if result.structured_content is not None:
        parts.append(json.dumps(result.structured_content))
    return "\n".join(parts)


async def tool_names(client: Client) -> set[str]:
    return {t.name for t in (await client.list_tools()).tools}
