"""Dagster's asset selection syntax, resolved client-side against discovered assets.

Resolving here instead of on the server makes ``--select`` behave the same on every Dagster
version (servers before 1.10 do not understand the syntax at all). Supported::

    key:"orders/*"   key:orders/raw_orders   orders/raw_orders (a bare key)
    group:orders     tag:tier=gold   tag:label (a tag with an empty value)   kind:pandas
    owner:"team:data"  owner:"ada@example.com"  code_location:main  code_location:repo@main
    job:orders_job   is:materializable   is:external   partitions:time (none static dynamic
    multipartitions)
    +X  all upstream of X (and X)      2+X  two levels up
    X+  all downstream of X (and X)    X+1  one level down      *X / (X)*  same as +X / X+
    A and B   A or B   not A   (A)   *  (every asset)   roots(X)   sinks(X)

Precedence is Dagster's: ``not`` binds tighter than ``and``, which binds tighter than ``or``.
Operators are ``and``/``or``/``not`` in lower or upper case. Values may be quoted with
double quotes; ``*`` in a key or group value is a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from daglab.helpers.assetkeys import format_key, parse_key
from daglab.helpers.errors import BadInputError, SelectionError, setting
from daglab.helpers.text import CONTROL_CHARS

__all__ = [
    "SelectionSyntaxError",
    "parse_selection",
    "resolve_selection",
    "resolve_selection_nodes",
    "select_assets",
    "validate_asset_selection",
]

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


class SelectionSyntaxError(SelectionError):
    """The selection text does not parse; ``position`` is the 0-based offset of the problem."""

    def __init__(self, message: str, text: str, position: int) -> None:
        self.position = position
        self.text = text
        super().__init__(
            f"Cannot parse the asset selection at column {position + 1}: {message}.",
            hint=f"  {text}\n  {' ' * position}^",
        )


# -- tokens -----------------------------------------------------------------------------------

_WORD = re.compile(r"[^\s()+:=\",]+")
_DIGITS = re.compile(r"\d+")
_KEYWORDS = {"and": "AND", "or": "OR", "not": "NOT"}
_CASED_KEYWORDS = {"and", "AND", "or", "OR", "not", "NOT"}  # Dagster's: lower or upper case
_SYMBOLS = {"(": "LPAREN", ")": "RPAREN", "+": "PLUS", ":": "COLON", "=": "EQUAL", ",": "COMMA"}

ATTRIBUTES = (
    "key",
    "group",
    "tag",
    "kind",
    "owner",
    "code_location",
    "job",
    "is",
    "partitions",
    "sensor",
    "schedule",
)
# ``sensor:``/``schedule:`` select what an instigator targets: read from the server
# (``AssetNode.targetingInstigators``) only when a selection names them.
INSTIGATOR_ATTRIBUTES = ("sensor", "schedule")
IS_VALUES = ("external", "materializable")
PARTITIONS_VALUES = ("none", "static", "dynamic", "time", "multipartitions")
# Dagster 1.13's grammar knows these too, but outside its UI Dagster itself cannot resolve
# them (its AssetSelection classes raise NotImplementedError): why, for each.
UNSUPPORTED_ATTRIBUTES = {
    "status": "asset health is resolved only in the Dagster UI",
    "column": "column lineage is resolved only in the Dagster UI",
    "table_name": "table names are resolved only in the Dagster UI",
    "column_tag": "column tags are resolved only in the Dagster UI",
    "changed_in_branch": "it needs a Dagster+ branch deployment",
    "automation_type": "automation types are resolved only in the Dagster UI",
}
FUNCTIONS = ("roots", "sinks")


@dataclass(frozen=True)
class Token:
    kind: str  # WORD STRING DIGITS STAR AND OR NOT LPAREN RPAREN PLUS COLON EQUAL COMMA END
    text: str
    pos: int
    value: str = ""


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _SYMBOLS:
            tokens.append(Token(_SYMBOLS[ch], ch, i, ch))
            i += 1
            continue
        if ch == '"':
            end = i + 1
            chars: list[str] = []
            while end < len(text) and text[end] != '"':
                if text[end] == "\\" and end + 1 < len(text):
                    end += 1
                chars.append(text[end])
                end += 1
            if end >= len(text):
                raise SelectionSyntaxError("this quoted value is never closed", text, i)
            tokens.append(Token("STRING", text[i : end + 1], i, "".join(chars)))
            i = end + 1
            continue
        match = _WORD.match(text, i)
        assert match is not None  # any other character starts a word
        word = match.group(0)
        follower = text[match.end() : match.end() + 1]
        if (
            word.startswith("*")
            and follower in (":", "(")
            and word.lstrip("*").lower() in (*ATTRIBUTES, *UNSUPPORTED_ATTRIBUTES, *FUNCTIONS)
        ):  # legacy ``*key:x``: the star is a traversal, not part of a value
            tokens.append(Token("STAR", "*", i, "*"))
            i += 1
            continue
        if word == "*":
            kind = "STAR"
        elif _DIGITS.fullmatch(word):
            kind = "DIGITS"
        else:
            kind = _KEYWORDS[word.lower()] if word in _CASED_KEYWORDS else "WORD"
        tokens.append(Token(kind, word, i, word))
        i = match.end()
    tokens.append(Token("END", "", len(text)))
    return tokens


# -- syntax tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attr:
    name: str  # key group tag kind owner code_location
    value: str
    tag_value: str | None = None


@dataclass(frozen=True)
class All:
    pass


@dataclass(frozen=True)
class Not:
    expr: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class Traverse:
    """``expr`` plus ``up`` levels upstream and ``down`` levels downstream.

    ``None`` means no traversal that way; ``-1`` means every level."""

    expr: Node
    up: int | None = None
    down: int | None = None


@dataclass(frozen=True)
class Func:
    name: str  # roots sinks
    expr: Node


Node = Attr | All | Not | And | Or | Traverse | Func

EVERY_LEVEL = -1


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.tok
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def fail(self, message: str, tok: Token | None = None) -> SelectionSyntaxError:
        return SelectionSyntaxError(message, self.text, (tok or self.tok).pos)

    def found(self, tok: Token | None = None) -> str:
        tok = tok or self.tok
        return "the end of the selection" if tok.kind == "END" else f"{tok.text!r}"

    def parse(self) -> Node:
        if self.tok.kind == "END":
            raise self.fail("the selection is empty")
        node = self.or_expr()
        if self.tok.kind != "END":
            if self.tok.kind == "RPAREN":
                raise self.fail("this ')' has no matching '('")
            raise self.fail(f"expected 'and', 'or' or the end, found {self.found()}")
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.tok.kind == "OR":
            self.take()
            node = Or(node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.tok.kind == "AND":
            self.take()
            node = And(node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.tok.kind == "NOT":
            self.take()
            return Not(self.not_expr())
        return self.traversal()

    def traversal(self) -> Node:
        up: int | None = None
        tok = self.tok
        if tok.kind == "STAR":
            if self.peek().kind in ("END", "AND", "OR", "RPAREN"):
                self.take()
                return All()
            self.take()  # legacy ``*X``: every level upstream
            up = EVERY_LEVEL
        elif tok.kind == "DIGITS" and self.peek().kind == "PLUS":
            self.take()
            self.take()
            up = int(tok.value)
        elif tok.kind == "PLUS":
            self.take()
            up = EVERY_LEVEL
        primary_tok = self.tok
        node = self.primary()
        down: int | None = None
        if self.tok.kind == "PLUS":
            self.take()
            down = int(self.take().value) if self.tok.kind == "DIGITS" else EVERY_LEVEL
        elif self.tok.kind == "STAR" and primary_tok.kind in ("LPAREN", "STRING", "WORD"):
            self.take()
            down = EVERY_LEVEL
        if up is None and down is None:
            return node
        return Traverse(node, up, down)

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "LPAREN":
            self.take()
            if self.tok.kind == "RPAREN":
                raise self.fail("expected an expression inside '()'")
            node = self.or_expr()
            if self.tok.kind != "RPAREN":
                raise self.fail(f"expected ')' to close the '(' at column {tok.pos + 1}")
            self.take()
            return node
        if tok.kind == "WORD" and self.peek().kind == "LPAREN":
            name = tok.value.lower()
            if name not in FUNCTIONS:
                raise self.fail(
                    f"unknown function {tok.value!r} (daglab knows {', '.join(FUNCTIONS)})"
                )
            self.take()
            self.take()
            node = self.or_expr()
            if self.tok.kind != "RPAREN":
                raise self.fail(f"expected ')' to close {tok.value}(")
            self.take()
            return Func(name, node)
        if tok.kind == "WORD" and self.peek().kind == "COLON":
            return self.attribute()
        if tok.kind in ("WORD", "STRING", "DIGITS"):
            self.take()
            return Attr("key", tok.value)
        if tok.kind == "END":
            raise self.fail("expected an asset expression, found the end of the selection")
        raise self.fail(f"expected an asset expression, found {self.found()}")

    def attribute(self) -> Node:
        name_tok = self.take()
        name = name_tok.value.lower()
        if name in UNSUPPORTED_ATTRIBUTES:
            raise SelectionError(
                f"'{name}:' cannot be resolved outside the Dagster UI ("
                f"{UNSUPPORTED_ATTRIBUTES[name]}; Dagster's own resolver refuses it too); "
                f"use {', '.join(a + ':' for a in ATTRIBUTES)}.",
            )
        if name not in ATTRIBUTES:
            raise self.fail(
                f"unknown attribute {name_tok.value!r} (use one of "
                f"{', '.join(a + ':' for a in ATTRIBUTES)})",
                name_tok,
            )
        self.take()  # the colon
        value = self.value(name)
        if name == "owner" and self.tok.kind == "COLON":  # owner:team:data
            self.take()
            value = f"{value}:{self.value(name)}"
        tag_value = None
        if self.tok.kind == "EQUAL":
            if name != "tag":
                raise self.fail(f"'=' only follows a tag key, not {name}:")
            self.take()
            tag_value = self.value(name)
        allowed = {"is": IS_VALUES, "partitions": PARTITIONS_VALUES}.get(name)
        if allowed is not None and value not in allowed:
            raise self.fail(f"'{name}:' takes one of {', '.join(allowed)}, not {value!r}", name_tok)
        return Attr(name, value, tag_value)

    def value(self, name: str) -> str:
        tok = self.tok
        if tok.kind in ("WORD", "STRING", "DIGITS", "STAR", "AND", "OR", "NOT"):
            self.take()
            return tok.value
        raise self.fail(f"expected a value after '{name}:', found {self.found()}")


# Selections nest a handful of levels; far past that is a mistake or an attack (50,000 '(').
MAX_SELECTION_DEPTH = 100
MAX_SELECTION_LENGTH = 100_000

# Dagster's older clause syntax, which ``AssetSelection.from_string`` still accepts for a
# whole selection that is one bare key: ``++key+`` is two levels up and one down (each ``+``
# one level), ``*key`` / ``key*`` every level.
_LEGACY_CLAUSE = re.compile(r"(\*|\++)?([^\s*+():=\",]+)(\*|\++)?")


def _legacy_depth(marks: str | None) -> int | None:
    if not marks:
        return None
    return EVERY_LEVEL if marks == "*" else len(marks)


def parse_selection(text: str) -> Node:
    """Parse selection ``text`` into a syntax tree; a ``SelectionSyntaxError`` points at the
    column of the problem. A whole selection that is one bare key with ``+`` or ``*`` marks
    is Dagster's clause syntax (each ``+`` one level, ``*`` every level); inside a larger
    expression, ``+X`` and ``X+`` are every level, as ``+key:X`` is in Dagster's grammar."""
    if len(text) > MAX_SELECTION_LENGTH:
        raise SelectionSyntaxError(
            f"the selection is longer than {MAX_SELECTION_LENGTH:,} characters", text[:80], 0
        )
    legacy = _LEGACY_CLAUSE.fullmatch(text.strip())
    if (
        legacy
        and legacy.group(2).lower() not in _CASED_KEYWORDS
        and (legacy.group(1) or legacy.group(3))
    ):
        up, key, down = legacy.groups()
        return Traverse(Attr("key", key), _legacy_depth(up), _legacy_depth(down))
    parser = _Parser(text)
    depth = nots = 0
    for tok in parser.tokens:  # a '(' nests one level, and so does each 'not' in a row
        nots = nots + 1 if tok.kind == "NOT" else 0
        if tok.kind == "LPAREN":
            depth += 1
        if depth > MAX_SELECTION_DEPTH or nots > MAX_SELECTION_DEPTH:
            raise SelectionSyntaxError(
                f"the selection nests more than {MAX_SELECTION_DEPTH} levels deep",
                text[:80] if len(text) > 200 else text,
                min(tok.pos, 79) if len(text) > 200 else tok.pos,
            )
        if tok.kind == "RPAREN":
            depth = max(0, depth - 1)
    try:
        return parser.parse()
    except RecursionError:
        raise SelectionSyntaxError("the selection is nested too deeply", text[:80], 0) from None


# -- resolution -------------------------------------------------------------------------------
#
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
