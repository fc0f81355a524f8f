"""Hypothesis: whatever a user (or a server) types, daglab's parsers answer with a value or
with one of daglab's own errors, never with a stray exception.

Kept fast for the unit suite: ~200 examples each, no deadline.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daglab.helpers.auth import AuthConfig, parse_header_flags, parse_token_output
from daglab.helpers.checks import (
    YamlSyntaxError,
    check_url,
    safe_filename,
    safe_output_path,
    sanitize_input,
    validate_url,
    validate_yaml_config,
)
from daglab.helpers.discovery import parse_tags
from daglab.helpers.errors import BadInputError, DaglabError, SelectionError
from daglab.helpers.selection import validate_asset_selection

FUZZ = settings(
    max_examples=int(os.environ.get("DAGLAB_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Text that leans on what breaks parsers: syntax characters, escapes, controls, odd Unicode.
SPECIAL = list("\x00\x07\x1b\x7f\x85\x9b\u200f\u202e\u2028\ufeff\r\n\t :=,/\\\"'*?[](){}+!&|#@%-.")
YAMLISH = [*":-[]{}|>&*!%@`#,?\"' \n\t", "- ", ": ", "---", "...", "!!python/object", "<<"]
SELECTIONISH = [
    "key:",
    "group:",
    "tag:",
    "kind:",
    "owner:",
    "code_location:",
    "and",
    "or",
    "not",
    "roots(",
    "sinks(",
    "+",
    "*",
    "(",
    ")",
    '"',
    "=",
    ",",
    " ",
    "orders/raw_orders",
    "2",
    "status:",
]


def texts(fragments: list[str] | None = None, max_size: int = 80) -> st.SearchStrategy[str]:
    pieces = st.sampled_from(SPECIAL + (fragments or [])) | st.text(max_size=6)
    return st.lists(pieces, max_size=max_size).map("".join) | st.text(max_size=max_size)


def only_daglab_errors(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func``; a DaglabError is a fine answer, anything else fails the test."""
    try:
        return func(*args, **kwargs)
    except DaglabError as exc:
        assert exc.message  # every error says something
        return exc


@FUZZ
@given(texts(YAMLISH, max_size=120))
def test_yaml_config_raises_only_daglab_errors(text: str) -> None:
    result = only_daglab_errors(validate_yaml_config, text, "fuzz.yaml")
    if isinstance(result, YamlSyntaxError) and result.line is not None:
        assert f"line {result.line}, column {result.column}" in result.message
        assert result.line >= 1 and result.column is not None and result.column >= 1


@FUZZ
@given(texts(YAMLISH, max_size=120))
def test_yaml_run_config_is_a_mapping_or_a_daglab_error(text: str) -> None:
    result = only_daglab_errors(validate_yaml_config, text, "fuzz.yaml", require_mapping=True)
    assert isinstance(result, dict | DaglabError)


def test_yaml_error_points_at_line_and_column() -> None:
    with pytest.raises(YamlSyntaxError) as info:
        validate_yaml_config("ops:\n  a: 1\n b: [2\n", "run.yaml")
    assert info.value.line == 3 and info.value.source == "run.yaml"
    assert "run.yaml, line 3, column" in info.value.message


def test_yaml_never_builds_python_objects() -> None:
    with pytest.raises(YamlSyntaxError):
        validate_yaml_config("!!python/object/apply:os.system ['true']")


@FUZZ
@given(st.lists(texts(["=", "X-Api-Key", "Dagster-Cloud-Api-Token"], max_size=20), max_size=4))
def test_header_flags_raise_only_bad_input(values: list[str]) -> None:
    result = only_daglab_errors(parse_header_flags, values)
    if isinstance(result, dict):
        for name, value in result.items():
            assert re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name)
            assert not any(ch in value.get_secret_value() for ch in "\r\n\x00")


@FUZZ
@given(texts(["=", ",", "k", "v"], max_size=40))
def test_discover_tag_parsing_raises_only_bad_input(text: str) -> None:
    only_daglab_errors(parse_tags, text)


@FUZZ
@given(st.lists(texts(["=", ",", "k", "v"], max_size=20), max_size=4))
def test_run_tag_parsing_raises_only_bad_input(items: list[str]) -> None:
    runs = importlib.import_module("daglab.helpers.runs")
    parse_run_tags = getattr(runs, "parse_run_tags", None)
    if parse_run_tags is None:
        pytest.skip("daglab.helpers.runs has no parse_run_tags")
    only_daglab_errors(parse_run_tags, items)


@FUZZ
@given(texts(SELECTIONISH, max_size=40))
def test_selection_language_raises_only_selection_errors(text: str) -> None:
    result = only_daglab_errors(validate_asset_selection, text, "select")
    if isinstance(result, DaglabError):
        assert isinstance(result, SelectionError)
        position = getattr(result, "position", None)
        assert position is None or 0 <= position <= len(text)


@FUZZ
@given(texts(["orders", "raw_orders", "/", ",", " ", "*"], max_size=30))
def test_key_lists_raise_only_selection_errors(text: str) -> None:
    result = only_daglab_errors(validate_asset_selection, text, "keys")
    if isinstance(result, list):
        assert result and all(k and "," not in k and not k.startswith("/") for k in result)
    else:
        assert isinstance(result, SelectionError)
        assert 0 <= result.position <= len(text)  # type: ignore[attr-defined]


@FUZZ
@given(texts(["orders/*", "*", "?", "[a-z]"], max_size=30))
def test_patterns_raise_only_selection_errors(text: str) -> None:
    result = only_daglab_errors(validate_asset_selection, text, "pattern")
    assert isinstance(result, str | SelectionError)


def test_key_list_error_points_at_the_problem() -> None:
    with pytest.raises(SelectionError) as info:
        validate_asset_selection("orders/raw_orders, orders//x", "keys")
    assert info.value.position == 26  # type: ignore[attr-defined]
    assert validate_asset_selection(" a/b ,c ", "keys") == ["a/b", "c"]


URLISH = [
    "http://",
    "https://",
    "ftp://",
    "file:///",
    "javascript:",
    "localhost",
    ":3000",
    ":99999",
    "@",
    "user:pw@",
    "[::1]",
    "[",
    "/dagster",
    "?q=1",
    "#frag",
    "%",
    "xn--",
    ".",
]


@FUZZ
@given(texts(URLISH, max_size=12))
def test_url_checking_raises_only_bad_input(text: str) -> None:
    result = only_daglab_errors(check_url, text, "--url")
    if isinstance(result, str):
        assert re.match(r"https?://", result, re.IGNORECASE)
        assert "@" not in result.split("/")[2]
    else:
        assert isinstance(result, BadInputError)
        assert "@" not in result.message or "user:password@" in result.message


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "javascript:alert(1)", "ftp://h", "http://", "http://u:p@h", "h:80"],
)
def test_only_http_and_https_urls_are_accepted(url: str) -> None:
    with pytest.raises(BadInputError):
        validate_url(url)


def test_good_urls_pass() -> None:
    for url in ("http://localhost:3000", "https://org.dagster.cloud/prod", "http://[::1]:80/x"):
        assert validate_url(url) == url


TERMINAL_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@FUZZ
@given(texts(["\x1b[31m", "\x1b]8;;http://x\x07", "\x1bP", "\x9b2J", "\x1b\\"], max_size=60))
def test_terminal_text_has_no_escapes_or_controls(text: str) -> None:
    clean = sanitize_input(text, "terminal")
    assert not TERMINAL_UNSAFE.search(clean)
    line = sanitize_input(text, "line")
    assert "\n" not in line and "\t" not in line and not TERMINAL_UNSAFE.search(line)


def test_terminal_sanitizing_keeps_ordinary_text() -> None:
    assert sanitize_input("orders/raw_orders → ok\n\tdone", "terminal") == (
        "orders/raw_orders → ok\n\tdone"
    )
    assert (
        sanitize_input("\x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07") == "red link"
    )


@FUZZ
@given(texts(["..", "/", "\\", ".", "~"], max_size=30))
def test_file_names_from_server_text_stay_one_component(text: str) -> None:
    name = safe_filename(text)
    assert name and "/" not in name and "\\" not in name and name not in (".", "..")
    assert not name.startswith(".")


@FUZZ
@given(texts(["..", "/", "a", "~", "\n"], max_size=30))
def test_output_paths_stay_inside_their_base(text: str) -> None:
    base = Path("/tmp/daglab-fuzz-base")
    result = only_daglab_errors(safe_output_path, text, base=base)
    if isinstance(result, Path):
        assert result == base or base in result.parents


def test_output_path_resolves_dot_dot_lexically(tmp_path: Path) -> None:
    assert safe_output_path(str(tmp_path / "a" / ".." / "b.json")) == tmp_path / "b.json"
    with pytest.raises(BadInputError, match="outside"):
        safe_output_path("../escape.ipynb", base=tmp_path)


@FUZZ
@given(texts(['{"token":', '"expires_in":', '"expires_at":', "}", "1e308", "null"], 40))
def test_token_output_raises_only_auth_errors(text: str) -> None:
    only_daglab_errors(parse_token_output, text, now=0.0)


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(texts(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
AUTH_KEYS = [
    "type",
    "token",
    "username",
    "password",
    "header_name",
    "headers",
    "token_file",
    "token_command",
    "token_lifetime",
    "token_url",
    "client_id",
    "client_secret",
    "scope",
]


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(AUTH_KEYS) | texts(max_size=6),
        toml_values | st.sampled_from(["bearer", "basic", "header"]),
        max_size=5,
    )
)
def test_auth_tables_raise_only_daglab_errors(table: dict[str, Any]) -> None:
    only_daglab_errors(AuthConfig.from_config, table, source="profile 'fuzz'")


# -- GraphQL documents are constants; user text travels only as variables ---------------------

DAGLAB = Path(__file__).resolve().parents[2] / "daglab"


def _client_modules() -> list[Path]:
    return [p for p in DAGLAB.rglob("*.py") if "harness" not in p.parts]


def test_every_execute_call_sends_a_named_document() -> None:
    """``client.execute(X, ...)``: X is a name (a queries/ constant, or a variable holding
    one), never an f-string, a concatenation or a call that builds text."""
    import ast

    offenders = []
    for path in _client_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "execute"
                and node.args
                and not isinstance(node.args[0], ast.Name | ast.Attribute)
            ):
                offenders.append(f"{path.relative_to(DAGLAB.parent)}:{node.lineno}")
    assert not offenders, f"GraphQL built at run time: {offenders}"


def test_every_document_is_a_literal() -> None:
    """Each ``Document(...)`` in queries/ is made of string literals (and module-level string
    constants of queries/, joined with ``+``), so no run-time value can reach the document
    text."""
    import ast

    trees = {
        path.name: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted((DAGLAB / "helpers" / "queries").glob("*.py"))
    }
    constants: set[str] = set()

    def static(node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        if isinstance(node, ast.Name):
            return node.id in constants
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return static(node.left) and static(node.right)
        return False

    # Constants may be built from constants of a sibling module: collect to a fixed point.
    while True:
        before = len(constants)
        for tree in trees.values():
            for statement in tree.body:
                if (
                    isinstance(statement, ast.Assign)
                    and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name)
                    and static(statement.value)
                ):
                    constants.add(statement.targets[0].id)
        if len(constants) == before:
            break
    documents = [
        (name, node)
        for name, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Document"
    ]
    assert len(documents) >= 40
    for name, call in documents:
        for arg in call.args:
            assert static(arg), f"queries/{name}:{call.lineno} is not built from literals"


@pytest.mark.parametrize("text", ["a: 2024-13-45", "[" * 5000])
def test_run_config_text_yaml_cannot_build_is_bad_input(text: str) -> None:
    from daglab.helpers.checks import parse_config_yaml
    from daglab.helpers.errors import ConfigFileError

    with pytest.raises(ConfigFileError, match=r"Cannot parse the run config|nested too deeply"):
        parse_config_yaml(text)
