"""What a new user reads must be true: the classes of issue 17, kept away for good.

- every ``daglab ...`` command quoted in a message, a hint or ``--help`` is a valid command
  line of the CLI as it is now;
- no message names a job, asset or op of the fixture project (only the server's own names);
- a failure is told once: no sentence twice on stderr;
- counts agree in number, worded by one helper (``daglab.helpers.text.plural``);
- ``--help`` is plain text, without RST or rich markup residue.
"""

from __future__ import annotations

import ast
import re
import shlex
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer._click.core import Command, Context

from daglab.harness.mock import MockDagster
from tests.conftest import REPO, CliResult, isolated_env, run_cli

DAGLAB = REPO / "daglab"
FIXTURES = REPO / "fixtures" / "dagster_project"


# -- the CLI's commands and their rendered help ---------------------------------------------------


def _walk(command: Command, path: list[str], parent: Context | None) -> Iterator[tuple[str, str]]:
    """(command path, rendered --help) of ``command`` and every subcommand."""
    ctx = Context(
        command, info_name=path[-1], parent=parent, terminal_width=100, max_content_width=100
    )
    yield " ".join(path), command.get_help(ctx)
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, [*path, name], ctx)


@pytest.fixture(scope="module")
def helps(monkeypatch_module: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch_module.setenv("TERM", "dumb")
    from daglab.cli import app

    return dict(_walk(typer.main.get_command(app), ["daglab"], None))


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def parse_command_line(line: str) -> None:
    """Parse ``line`` (``daglab ...``) as the CLI would, down to the last subcommand, without
    running anything; raises click's UsageError (or BadParameter) if it is not valid.

    A line that is only a command's name (`daglab watch` in "exit codes as for `daglab
    watch`") names that command: it must exist."""
    from typer import Exit

    from daglab.cli import app

    words = shlex.split(line)
    assert words[0] == "daglab", line
    command: Command = typer.main.get_command(app)
    named = command
    for word in words[1:]:
        sub = named.get_command(Context(named), word) if hasattr(named, "get_command") else None
        if sub is None:
            break
        named = sub
    else:
        return  # a command's name, and it exists
    try:
        ctx = command.make_context("daglab", words[1:], resilient_parsing=False)
        while hasattr(command, "resolve_command"):
            rest = [*ctx._protected_args, *ctx.args]
            if not rest:
                break
            name, sub, rest = command.resolve_command(ctx, rest)
            assert sub is not None and name is not None, line
            command = sub
            ctx = command.make_context(name, rest, parent=ctx, resilient_parsing=False)
    except Exit:  # --help, --version: valid, and they end there
        return


# -- strings in daglab's source -------------------------------------------------------------------

PLACEHOLDER = "ab12cd34ef56"  # stands for a value an f-string or str.format fills in


def _docstring_ids(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def source_strings(*, docstrings: bool = False) -> Iterator[tuple[str, int, str]]:
    """(file, line, text) of every string literal and f-string in daglab/ (the harness, which
    serves the fixture project, left out); an f-string's values are ``PLACEHOLDER``."""
    for path in sorted(DAGLAB.rglob("*.py")):
        if "harness" in path.relative_to(DAGLAB).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = set() if docstrings else _docstring_ids(tree)
        inside_fstrings: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                parts = []
                for value in node.values:
                    inside_fstrings.add(id(value))
                    if isinstance(value, ast.Constant):
                        parts.append(str(value.value))
                    else:
                        parts.append(PLACEHOLDER)
                yield str(path.relative_to(REPO)), node.lineno, "".join(parts)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and id(node) not in inside_fstrings
            ):
                yield str(path.relative_to(REPO)), node.lineno, node.value


QUOTED = re.compile(r"`(daglab(?: [^`]*)?)`")


def quoted_commands(text: str) -> list[str]:
    """The ``daglab ...`` command lines quoted in backticks in ``text``, placeholders
    (``{}``, ``{run_id}``, ``ID``) filled in and ``...`` (more arguments) left out."""
    found = []
    for line in QUOTED.findall(text):
        line = re.sub(r"\{[^{}]*\}", PLACEHOLDER, line)
        words = [w for w in line.split() if w not in ("...", "…")]
        found.append(" ".join(words))
    return found


def library_operations() -> set[str]:
    """The library operations the helpers name in hints (``operation("discover_jobs")``)."""
    names = set()
    for path in (DAGLAB / "helpers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "operation"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(str(node.args[0].value))
    return names


# -- 1. every quoted command runs -----------------------------------------------------------------


def test_the_parser_refuses_what_the_cli_refuses() -> None:
    """The check below can fail: a command line the CLI refuses is refused here too."""
    from typer._click.exceptions import ClickException

    parse_command_line("daglab discover --filter jobs")
    parse_command_line(f"daglab watch {PLACEHOLDER} --timeout 0")
    parse_command_line("daglab watch")  # names the command
    for bad in (
        "daglab discover jobs",
        "daglab runs latest",
        "daglab run --no-such-flag",
        "daglab list runs",
    ):
        with pytest.raises(ClickException):
            parse_command_line(bad)


def test_every_daglab_command_quoted_in_the_source_parses() -> None:
    from typer._click.exceptions import ClickException

    quoted = [
        (f"{file}:{line}", command)
        for file, line, text in source_strings()
        for command in quoted_commands(text)
    ]
    assert len(quoted) > 15  # the collector finds them
    assert ("daglab/notebooks/templates.py", "daglab discover --filter jobs") in {
        (where.split(":")[0], command) for where, command in quoted
    }
    bad = []
    for where, command in quoted:
        try:
            parse_command_line(command)
        except ClickException as exc:
            bad.append(f"{where}: `{command}`: {exc.format_message()}")
    assert not bad, "\n".join(bad)


def test_every_command_a_library_hint_names_parses_in_the_cli() -> None:
    """A helper's hint names a library operation; the CLI spells it as a command."""
    from daglab.commands._options import cli_spelling

    operations = library_operations()
    assert {"discover_jobs", "wait_for_run", "cancel_run"} <= operations
    for name in sorted(operations):
        spelled = cli_spelling("operation", name, PLACEHOLDER)
        (command,) = quoted_commands(spelled)
        parse_command_line(command)


def test_every_daglab_command_quoted_in_help_parses(helps: dict[str, str]) -> None:
    assert {"daglab", "daglab run", "daglab notebook create", "daglab auth logout"} <= set(helps)
    quoted = [command for text in helps.values() for command in quoted_commands(text)]
    assert "daglab auth login" in quoted
    for command in quoted:
        parse_command_line(command)


# -- 2. no fixture names in messages --------------------------------------------------------------


def fixture_names() -> set[str]:
    """The jobs, assets, ops, checks and repositories the fixture project defines (names of
    two words or more: ``raw_orders``, ``config_job``; a plain word is not telling)."""
    names = set()
    for path in FIXTURES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.decorator_list:
                names.add(node.name)
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        names.add(str(keyword.value.value))
    return {name for name in names if "_" in name.strip("_")}


def test_no_message_names_a_fixture_job_asset_or_op() -> None:
    names = fixture_names()
    assert {"config_job", "process_rows", "raw_orders", "order_summary"} <= names
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(names))) + r")(?![\w-])")
    hits = [
        f"{file}:{line}: {match.group(1)} in {text[:80]!r}"
        for file, line, text in source_strings()
        for match in [pattern.search(text)]
        if match
    ]
    assert not hits, "\n".join(hits)


def test_no_help_names_a_fixture_job_asset_or_op(helps: dict[str, str]) -> None:
    names = fixture_names()
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(names))) + r")(?![\w-])")
    hits = [
        f"{where}: {m.group(1)}" for where, text in helps.items() for m in pattern.finditer(text)
    ]
    assert not hits


# -- 3. a failure is told once --------------------------------------------------------------------

_SPLIT = re.compile(r"(?<=[.;:!?])\s+|[()]|\n")
_PREFIXES = re.compile(r"^(\[\s*[\d.ms]+\]\s*|Error:\s*|Warning:\s*|\|\s*)+")


def sentences(stderr: str) -> list[str]:
    """The sentences and clauses of ``stderr`` worth comparing: three words or more, URLs
    (printed at launch and at the end, to click on) left out."""
    found = []
    for piece in _SPLIT.split(stderr):
        piece = _PREFIXES.sub("", piece.strip()).strip(" .;:")
        if len(piece.split()) >= 3 and not piece.startswith(("http://", "https://")):
            found.append(piece)
    return found


def assert_told_once(result: CliResult) -> None:
    """No sentence twice in daglab's own words: the step's quoted stderr (``  | `` lines,
    where the server's traceback repeats the error) is the step's, not a repeat."""
    seen: dict[str, int] = {}
    own = "\n".join(ln for ln in result.stderr.splitlines() if not ln.startswith("  | "))
    for sentence in sentences(own):
        seen[sentence] = seen.get(sentence, 0) + 1
    twice = [s for s, n in seen.items() if n > 1]
    assert not twice, f"said more than once: {twice}\n--- stderr:\n{result.stderr}"


def test_the_once_check_sees_a_repeat() -> None:
    repeated = (
        "[  0.3s] step explode FAILED: Exception: the explode op always fails\n"
        "Failed step: explode\n  Exception: the explode op always fails\n"
    )
    with pytest.raises(AssertionError, match="said more than once"):
        assert_told_once(CliResult(1, "", repeated))
    nested = "Error: The server rejected the credentials (The server rejected the credentials.)"
    with pytest.raises(AssertionError):
        assert_told_once(CliResult(5, "", nested))


def _refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


FAILURE_PATHS = {
    "unknown job": (["run", "--job", "no_such_job_here"], 2),
    "failing run": (["run", "--job", "failing_job"], 1),
    "bad config": (["run", "--job", "config_job", "--config-yaml", "ops: {}"], 2),
    "unknown asset": (["run", "--asset-selection", "nowhere/nothing"], 2),
    "no target": (["run"], 2),
}


@pytest.mark.parametrize("name", sorted(FAILURE_PATHS))
def test_a_failure_is_told_once(name: str, mock_dagster: MockDagster, tmp_path: Path) -> None:
    args, code = FAILURE_PATHS[name]
    result = run_cli(*args, "--url", mock_dagster.url, env=isolated_env(tmp_path), timeout=120)
    assert result.returncode == code, result.stderr
    assert_told_once(result)


@pytest.mark.parametrize(
    "args", [["auth", "status"], ["status"], ["discover"], ["run", "--job", "config_job"]]
)
def test_a_rejected_token_is_told_once(
    args: list[str], mock_dagster: MockDagster, tmp_path: Path
) -> None:
    mock_dagster.require_bearer("the-right-token-1234")
    result = run_cli(
        *args,
        "--url",
        mock_dagster.url,
        "--auth-token",
        "a-wrong-token-5678",
        env=isolated_env(tmp_path, DAGLAB_KEYRING="0"),
        timeout=120,
    )
    assert result.returncode == 5, result.stderr
    assert "HTTP 401" in result.stderr
    assert_told_once(result)


@pytest.mark.parametrize("args", [["status"], ["auth", "status"], ["run", "--job", "a_job"]])
def test_a_refused_connection_is_told_once(args: list[str], tmp_path: Path) -> None:
    result = run_cli(*args, "--url", _refused_url(), env=isolated_env(tmp_path), timeout=120)
    assert result.returncode == 3, result.stderr
    assert_told_once(result)


def test_a_failing_run_shows_its_error_once_and_names_the_step(
    mock_dagster: MockDagster, tmp_path: Path
) -> None:
    result = run_cli(
        "run", "--job", "failing_job", "--url", mock_dagster.url, env=isolated_env(tmp_path)
    )
    assert result.returncode == 1
    own = "\n".join(ln for ln in result.stderr.splitlines() if not ln.startswith("  | "))
    assert own.count("the explode op always fails") == 1, result.stderr  # besides its stderr
    assert "ended FAILURE in step explode." in result.stderr


# -- 4. counts agree in number, by one helper -----------------------------------------------------


def test_plural_agrees_in_number() -> None:
    from daglab.helpers.text import plural

    assert plural(1, "asset") == "1 asset"
    assert [plural(n, "asset") for n in (0, 2)] == ["0 assets", "2 assets"]
    assert plural(1, "repository", "repositories") == "1 repository"
    assert plural(3, "repository", "repositories") == "3 repositories"


_NOT_A_NOUN = {"in", "of", "more", "left", "and", "or", "to", "at", "per", "x"}


def test_every_count_is_worded_by_plural() -> None:
    """No ``'s' if n != 1`` of a command's own, and no ``{len(x)} things`` that says
    "1 things": a count followed by a noun goes through ``plural``."""
    hand_made = []
    for path in sorted(DAGLAB.rglob("*.py")):
        if "harness" in path.relative_to(DAGLAB).parts:
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"""['"](s|es)['"] if\b""", text):
            hand_made.append(f"{path.name}:{text.count(chr(10), 0, match.start()) + 1}")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.JoinedStr):
                continue
            for value, after in zip(node.values, node.values[1:], strict=False):
                counted = isinstance(value, ast.FormattedValue) and (
                    (
                        isinstance(value.value, ast.Call)
                        and getattr(value.value.func, "id", "") == "len"
                    )
                    or (isinstance(value.value, ast.Name) and value.value.id in ("n", "count"))
                )
                word = (
                    re.match(r" ([a-z]+)", after.value) if isinstance(after, ast.Constant) else None
                )
                if counted and word and word.group(1) not in _NOT_A_NOUN:
                    hand_made.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:80]}")
    for file, line, string in source_strings():
        if re.search(r"[a-z]\(s\)", string.replace("http(s)", "")):
            hand_made.append(f"{file}:{line}: {string[:80]!r}")
    assert not hand_made, "\n".join(hand_made)


def test_a_single_asset_run_says_1_asset(mock_dagster: MockDagster, tmp_path: Path) -> None:
    result = run_cli(
        "run",
        "--asset-selection",
        "orders/raw_orders",
        "--url",
        mock_dagster.url,
        env=isolated_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "(1 asset materialized)" in result.stderr
    assert ": 1 asset (orders/raw_orders) via" in result.stderr


# -- 5. --help is plain text ----------------------------------------------------------------------

MARKUP = re.compile(
    r"``|:(?:func|class|meth|mod|attr|ref|doc|envvar|option|code):`"
    r"|\[/?(?:bold|italic|dim|red|green|yellow|blue|cyan|magenta|b|i|u|link)(?:[ =][^\]]*)?\]"
    r"|\*\*\w|\.\. \w+::"
)


def test_help_of_every_command_is_plain_text(helps: dict[str, str]) -> None:
    assert len(helps) > 20
    residue = {where: MARKUP.findall(text) for where, text in helps.items()}
    assert not {k: v for k, v in residue.items() if v}
    assert MARKUP.search("Forget the token ``daglab auth login`` stored")  # it can see some
