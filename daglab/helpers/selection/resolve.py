"""What a parsed selection selects among discovered assets, as Dagster's own resolver does,
and the check of a selection before it is sent."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeVar

from daglab.helpers.assetkeys import format_key, parse_key
from daglab.helpers.errors import BadInputError, SelectionError, setting
from daglab.helpers.selection.grammar import (
    EVERY_LEVEL,
    INSTIGATOR_ATTRIBUTES,
    All,
    And,
    Attr,
    Func,
    Node,
    Not,
    Or,
    SelectionSyntaxError,
    Traverse,
    parse_selection,
)
from daglab.helpers.text import CONTROL_CHARS

SelectionKind = Literal["keys", "pattern", "select"]
T = TypeVar("T")
_KEY_PART_FORBIDDEN = re.compile(r"[\s,*?\[\]\"'\x00-\x1f\x7f]")


class SelectableAsset(Protocol):
    """What the resolver reads from an asset (``AssetInfo`` has all of it)."""

    @property
    def key(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def tags(self) -> Mapping[str, str]: ...
    @property
    def kinds(self) -> Sequence[str]: ...
    @property
    def deps(self) -> Sequence[str]: ...


# As Dagster's own resolver (AssetSelection.from_string(...).resolve), on asset *nodes*: an
# asset key defined in two code locations is two nodes, each matched on its own attributes.
# Like Dagster, ``*``, ``not``, ``group:``, ``tag:`` and ``kind:`` leave out assets that cannot
# be materialized (sources, external assets); ``key:``, ``owner:``, ``code_location:``,
# ``job:`` and ``is:`` do not.


def _wildcard(pattern: str, text: str) -> bool:
    if "*" not in pattern:
        return pattern == text
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, text) is not None


def _owners(asset: Any) -> list[str]:
    return [str(o) for o in (getattr(asset, "owners", None) or [])]


def _plain_key(asset: Any) -> str:
    """Dagster's ``AssetKey.to_user_string()``: components joined by ``/``, not escaped."""
    path = getattr(asset, "path", None)
    return "/".join(path) if path else str(asset.key)


_PARTITION_TYPES = {
    "none": None,
    "static": "STATIC",
    "dynamic": "DYNAMIC",
    "time": "TIME_WINDOW",
    "multipartitions": "MULTIPARTITIONED",
}


def _materializable(asset: Any) -> bool:
    return bool(getattr(asset, "materializable", True))


def _matches(attr: Attr, asset: SelectableAsset) -> bool:
    name = attr.name
    if name == "key":
        value = attr.value.strip("/")
        # Dagster matches the unescaped text; daglab's escaped form (``a\/b``) works too.
        return _wildcard(value, _plain_key(asset)) or _wildcard(value, asset.key)
    if name == "owner":
        return attr.value in _owners(asset)
    if name == "code_location":
        location = attr.value
        if "@" in location:  # Dagster's repo@location
            repo, _, location = location.partition("@")
            if getattr(asset, "repository", None) != repo:
                return False
        return asset.location == location
    if name in INSTIGATOR_ATTRIBUTES:
        targeting = getattr(asset, f"{name}s", None)
        if targeting is None:  # a caller that did not read them: say so, never guess
            raise SelectionError(f"'{name}:' needs the instigators of each asset, not read.")
        return attr.value in targeting
    if name == "job":
        return attr.value in (
            *(getattr(asset, "jobs", None) or ()),
            *(getattr(asset, "implicit_jobs", None) or ()),
        )
    if name == "is":
        if attr.value == "materializable":
            return _materializable(asset)
        return not _materializable(asset)  # external
    if not _materializable(asset):  # group, tag, kind, partitions: as Dagster, sources left out
        return False
    if name == "group":
        return _wildcard(attr.value, asset.group)
    if name == "tag":
        # As in Dagster, ``tag:k`` means the tag ``k`` with an empty value (a label).
        return asset.tags.get(attr.value) == (attr.tag_value or "")
    if name == "kind":
        return attr.value in asset.kinds
    if name == "partitions":
        wanted = _PARTITION_TYPES[attr.value]
        found = getattr(asset, "partition_type", None)
        if wanted is None:
            return not getattr(asset, "partitioned", False)
        return found == wanted
    raise SelectionError(f"Unknown attribute {name}:")  # pragma: no cover - parser checks


class _Graph:
    """Asset nodes by index. A dependency on a key goes to the node of that key in the same
    repository, else to the nodes that define it elsewhere (materializable ones first)."""

    def __init__(self, assets: Sequence[SelectableAsset]) -> None:
        self.assets = list(assets)
        self.all = set(range(len(self.assets)))
        by_key: dict[str, list[int]] = {}
        for i, a in enumerate(self.assets):
            by_key.setdefault(a.key, []).append(i)
        self.up: list[set[int]] = [set() for _ in self.assets]
        self.down: list[set[int]] = [set() for _ in self.assets]
        for i, a in enumerate(self.assets):
            place = (a.location, getattr(a, "repository", None))
            for dep in a.deps:
                nodes = by_key.get(dep)
                if not nodes:
                    continue
                here = [
                    j
                    for j in nodes
                    if (self.assets[j].location, getattr(self.assets[j], "repository", None))
                    == place
                ]
                targets = here or [j for j in nodes if _materializable(self.assets[j])] or nodes
                for j in targets:
                    if j != i:
                        self.up[i].add(j)
                        self.down[j].add(i)

    def walk(self, start: set[int], edges: Sequence[set[int]], depth: int) -> set[int]:
        seen = set(start)
        frontier = set(start)
        level = 0
        while frontier and (depth == EVERY_LEVEL or level < depth):
            frontier = {n for k in frontier for n in edges[k]} - seen
            seen |= frontier
            level += 1
        return seen

    def materializable(self) -> set[int]:
        return {i for i in self.all if _materializable(self.assets[i])}

    def evaluate(self, node: Node) -> set[int]:
        if isinstance(node, All):
            return self.materializable()
        if isinstance(node, Attr):
            return {i for i, a in enumerate(self.assets) if _matches(node, a)}
        if isinstance(node, Not):
            return self.materializable() - self.evaluate(node.expr)
        if isinstance(node, And):
            return self.evaluate(node.left) & self.evaluate(node.right)
        if isinstance(node, Or):
            return self.evaluate(node.left) | self.evaluate(node.right)
        if isinstance(node, Traverse):
            base = self.evaluate(node.expr)
            out: set[int] = set() if node.up is not None else set(base)
            if node.up is not None:  # as Dagster's upstream(): materializable assets only
                mat = self.materializable()
                out |= self.walk(base, self.up, node.up) & mat
            if node.down is not None:
                out |= self.walk(base, self.down, node.down)
            return out
        if isinstance(node, Func):
            inner = self.evaluate(node.expr)
            # Transitive, as Dagster's: a root has nothing in the selection upstream of it at
            # any depth (through assets outside it too); a sink, nothing downstream.
            edges = self.up if node.name == "roots" else self.down
            return {i for i in inner if not ((self.walk({i}, edges, EVERY_LEVEL) - {i}) & inner)}
        raise TypeError(f"not a selection node: {node!r}")  # pragma: no cover


def names_instigators(node: Node) -> bool:
    """Whether ``node`` uses ``sensor:`` or ``schedule:`` (the assets' targeting instigators
    must then be read from the server first)."""
    if isinstance(node, Attr):
        return node.name in INSTIGATOR_ATTRIBUTES
    if isinstance(node, (Not, Traverse, Func)):
        return names_instigators(node.expr)
    if isinstance(node, (And, Or)):
        return names_instigators(node.left) or names_instigators(node.right)
    return False


def resolve_selection_nodes(node: Node, assets: Iterable[T]) -> list[T]:
    """The assets ``node`` selects among ``assets`` (each one a node: the same key in two
    code locations is two), in the order of ``assets``."""
    items = list(assets)
    graph = _Graph(items)  # type: ignore[arg-type]
    chosen = graph.evaluate(node)
    return [a for i, a in enumerate(items) if i in chosen]


def resolve_selection(node: Node, assets: Iterable[SelectableAsset]) -> list[str]:
    """The keys ``node`` selects among ``assets``, in the order of ``assets``, each once."""
    keys: list[str] = []
    for a in resolve_selection_nodes(node, assets):
        if a.key not in keys:
            keys.append(a.key)
    return keys


def select_assets(text: str, assets: Iterable[SelectableAsset]) -> list[str]:
    """Parse ``text`` and return the keys it selects among ``assets``."""
    return resolve_selection(parse_selection(text), assets)


def _raw_parts(text: str) -> list[str]:
    """``text`` split at its unescaped slashes, escapes left in (for column offsets)."""
    parts: list[str] = []
    current = ""
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i : i + 2]
            i += 2
            continue
        if text[i] == "/":
            parts.append(current)
            current = ""
        else:
            current += text[i]
        i += 1
    parts.append(current)
    return parts


def validate_asset_selection(text: str, kind: SelectionKind = "select") -> Any:
    """Check the syntax of an asset selection; return what it parses to.

    ``keys``: comma-separated slash-joined keys (``orders/raw_orders,customers/raw``), returned
    as a list of keys. ``pattern``: one shell-style pattern (``orders/*``), returned as is.
    ``select``: Dagster's selection language, returned as the parsed tree (see
    ``parse_selection``). A syntax error is a ``SelectionSyntaxError`` whose
    ``position`` is the 0-based offset of the problem.
    """
    if not isinstance(text, str):
        raise SelectionError("An asset selection must be text.")
    if kind == "select":
        if not text.strip():
            raise SelectionSyntaxError("the selection is empty", text, 0)
        try:
            return parse_selection(text)
        except RecursionError:
            raise SelectionSyntaxError("the selection is nested too deeply", text, 0) from None
    if kind == "pattern":
        if not text.strip():
            raise SelectionSyntaxError("the pattern is empty", text, 0)
        bad = CONTROL_CHARS.search(text) or re.search(r"[\r\n\t,]", text)
        if bad:
            raise SelectionSyntaxError(
                "a pattern is one glob like orders/* (no commas or control characters)",
                text,
                bad.start(),
            )
        return text.strip()
    if kind != "keys":
        raise BadInputError(f"Unknown selection kind {str(kind)[:20]!r}.")
    keys: list[str] = []
    offset = 0
    for item in text.split(","):
        stripped = item.strip()
        start = offset + (len(item) - len(item.lstrip()))
        if not stripped:
            raise SelectionSyntaxError("expected an asset key, found nothing", text, start)
        part_offset = start
        for part in _raw_parts(stripped):
            if not part:
                raise SelectionSyntaxError(
                    "an asset key has an empty part (a leading, trailing or doubled '/')",
                    text,
                    part_offset,
                )
            bad = _KEY_PART_FORBIDDEN.search(part)
            if bad:
                what = (
                    f"a wildcard (use {setting('pattern')})"
                    if bad.group() in "*?[]"
                    else (f"the character {bad.group()!r}")
                )
                raise SelectionSyntaxError(
                    f"an asset key may not contain {what}", text, part_offset + bad.start()
                )
            part_offset += len(part) + 1
        stripped = format_key(parse_key(stripped))
        if stripped not in keys:
            keys.append(stripped)
        offset += len(item) + 1
    return keys
