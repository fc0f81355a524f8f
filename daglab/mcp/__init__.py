"""``daglab mcp``: the library's powers for agents, over the Model Context Protocol.

The package sits beside ``commands`` and imports only ``helpers`` (and the ``mcp`` SDK, an
optional extra: ``pip install 'daglab[mcp]'``). Modules, lowest first: ``bounds`` (deadlines,
caps, safe text), ``schemas`` (the tools' output models: the ``--json`` documents),
``deployments`` (which server a call talks to: the server's connection or a profile),
``tools`` (one tool per library operation), ``server`` (the SDK server, stdio or HTTP).
"""

from __future__ import annotations

__all__ = ["MISSING_SDK", "sdk_available"]

MISSING_SDK = "daglab mcp needs the MCP SDK: pip install 'daglab[mcp]'"


def sdk_available() -> bool:
    """Whether the ``mcp`` SDK (v2: ``mcp.server.MCPServer``) can be imported."""
    try:
        from mcp.server import MCPServer  # noqa: F401
    except ImportError:
        return False
    return True
