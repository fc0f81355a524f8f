"""The selection language's grammar: tokens, the syntax tree and the parser (Dagster's
precedence: ``not`` over ``and`` over ``or``). What a tree selects is in ``resolve``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from daglab.helpers.errors import SelectionError


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
