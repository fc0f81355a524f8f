"""What every tool shares: its context, the one way an answer or an error leaves the server
(``guarded``), how an error names settings and operations (as tool arguments and tools), and
the argument types whose descriptions are the tools' input schemas."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field

from daglab.helpers import errors
from daglab.mcp.bounds import Limits, safe_json, safe_text, within
from daglab.mcp.deployments import Deployments

# -- the context every tool shares --------------------------------------------------------------


@dataclass
class ToolContext:
    deployments: Deployments
    limits: Limits = field(default_factory=Limits)
    secrets: list[str] = field(default_factory=list)


# How an error's message spells the settings and operations it names: as tool arguments
# and tools, which is what an agent can act on.
_TOOL_OF = {
    "discover_locations": "list_locations",
    "connect": "list_locations",
    "discover_jobs": "discover_jobs",
    "discover_assets": "discover_assets",
    "validate_config": "validate_run_config",
    "wait_for_run": "get_run",
    "get_run": "get_run",
    "cancel_run": "cancel_run",
}
_ARGUMENT_OF = {"pattern": "asset_pattern", "http_timeout": "--http-timeout of daglab mcp"}


def mcp_spelling(kind: str, name: str, argument: str = "") -> str:
    """``location`` -> the argument ``location``; ``wait_for_run`` of ID -> ``get_run(run_id='ID')``."""
    if kind == "setting":
        arg = _ARGUMENT_OF.get(name, name)
        return f"`{arg}={argument}`" if argument else f"`{arg}`"
    tool = _TOOL_OF.get(name, name)
    return f"the tool {tool}(run_id={argument!r})" if argument else f"the tool {tool}"


_KIND = {
    errors.EXIT_BAD_INPUT: "bad input",
    errors.EXIT_SERVER: "server",
    errors.EXIT_AUTH: "auth",
    errors.EXIT_TIMEOUT: "timeout",
    errors.EXIT_RUN_FAILED: "run failed",
}


def error_text(exc: BaseException, ctx: ToolContext) -> str:
    """What an agent reads when a tool fails: the kind, daglab's message and hint, and for an
    invalid config each problem with its path. Sanitized, secrets masked, clipped."""
    if isinstance(exc, errors.DaglabError):
        message, hint = exc.render(mcp_spelling)
        text = f"[{_KIND.get(exc.exit_code, 'error')}] {message}"
        if isinstance(exc, errors.ConfigValidationError):
            text += "".join(f"\n  {p.where}: {p.message}" for p in exc.problems)
        if hint:
            text += f"\n{hint}"
    else:
        text = f"[error] unexpected {type(exc).__name__}: {exc}"
    return safe_text(text, ctx.limits.max_text, ctx.secrets)


ToolFn = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    fn: Callable[..., Awaitable[Any]]
    out: type
    write: bool
    title: str
    destructive: bool = False


def guarded(
    ctx: ToolContext,
    fn: ToolFn,
    out: type,
    deadline: Callable[[dict[str, Any]], float] | None = None,
) -> Callable[..., Awaitable[Any]]:
    """``fn`` as a tool: its parameters, ``out`` as its output schema, run under a deadline
    (``ctx.limits.tool_timeout``, or ``deadline(arguments)``), its answer made safe, and any
    failure turned into a tool error with daglab's (safe) message."""
    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    async def tool(**arguments: Any) -> Any:
        seconds = deadline(arguments) if deadline else ctx.limits.tool_timeout
        try:
            result = await within(seconds, fn(**arguments), f"{fn.__name__}")
        except Exception as exc:
            raise ToolError(error_text(exc, ctx)) from None
        return safe_json(result, ctx.limits.max_text, ctx.secrets)

    signature = inspect.signature(fn, eval_str=True)
    tool.__signature__ = signature.replace(return_annotation=out)  # type: ignore[attr-defined]
    return tool


# -- argument types (their descriptions are the input schema) -----------------------------------

Profile = Annotated[
    str | None,
    Field(
        description="A profile of the daglab config (see list_deployments) to talk to instead "
        "of this server's own connection: one server can serve dev and prod."
    ),
]
Limit = Annotated[
    int | None,
    Field(description="The most items to return (default 100; capped by the server).", ge=1),
]
Location = Annotated[
    str | None, Field(description="Only this code location (exact name); default: all.")
]
Repository = Annotated[
    str | None,
    Field(description="Only this repository (a Definitions object is '__repository__')."),
]
Pattern = Annotated[
    str | None,
    Field(
        description="Shell-style wildcard on asset keys (slash-joined) or names: 'orders/*' "
        "(any depth), '*/raw_*', 'raw_*' (also matched against the key's last part)."
    ),
]
Tags = Annotated[
    dict[str, str] | None,
    Field(description="Keep only what carries all these tags with these values."),
]
RunConfig = Annotated[
    dict[str, Any] | None,
    Field(description="The run config as a JSON object (what a YAML run config holds)."),
]
RunTags = Annotated[dict[str, str] | None, Field(description="Tags to set on the run.")]
Partition = Annotated[
    str | None, Field(description="Partition key to run (sets the dagster/partition tag).")
]
AssetKeys = Annotated[
    list[str] | None,
    Field(description="Exactly these assets, by slash-joined key: ['sales/orders']."),
]
Select = Annotated[
    str | None,
    Field(
        description="A Dagster asset selection, resolved by daglab the same on every Dagster "
        "version: 'group:sales', '+key:\"sales/report\"', 'tag:tier=gold and not "
        "kind:pandas', 'sinks(*)'."
    ),
]
RunId = Annotated[
    str,
    Field(
        description="The run: its full id, a unique prefix of at least 8 characters (what "
        "the UI shows), or latest / last-failure / last-success (the newest such run).",
        min_length=1,
    ),
]
Wait = Annotated[
    bool,
    Field(
        description="Wait for the run to end (at most `timeout` seconds); otherwise return "
        "as soon as it is launched and follow it with get_run."
    ),
]
Timeout = Annotated[
    float | None,
    Field(
        description="Seconds to wait when wait=true (default 120; capped by the server). On "
        "a timeout the run goes on and the answer says timed_out.",
        ge=0,
    ),
]
CancelOnTimeout = Annotated[bool, Field(description="Cancel the run if the timeout passes.")]


def clean_tags(tags: dict[str, str] | None) -> dict[str, str] | None:
    return {str(k): str(v) for k, v in tags.items()} if tags else None


def wait_deadline(limits: Limits) -> Callable[[dict[str, Any]], float]:
    """The deadline of a tool that may wait (``wait``, ``timeout``): the wait (capped at
    ``max_wait``) on top of the tool's own ``tool_timeout``."""

    def deadline(arguments: dict[str, Any]) -> float:
        wait = limits.wait(arguments.get("timeout")) if arguments.get("wait") else 0.0
        return wait + limits.tool_timeout

    return deadline
