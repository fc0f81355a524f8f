"""Input checks: run-config text and files, YAML, URLs, output paths and file names.

Ground floor: what a user (or a server) hands daglab is checked here before anything is
sent or written. A problem is a ``BadInputError`` (or ``ConfigFileError``) that names where
the input came from, never a secret it may hold. Server text for display is cleaned by
``daglab.helpers.text.clean``.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from daglab.helpers import errors
from daglab.helpers.settings import MAX_RUN_CONFIG_BYTES
from daglab.helpers.text import CONTROL_CHARS, ESCAPE_SEQUENCES, clean

__all__ = [
    "MAX_CONFIG_DEPTH",
    "MAX_URL_LENGTH",
    "MAX_YAML_NODES",
    "InputContext",
    "YamlSyntaxError",
    "check_depth",
    "check_seconds",
    "check_url",
    "load_run_config",
    "parse_config_yaml",
    "safe_filename",
    "safe_output_path",
    "sanitize_input",
    "validate_url",
    "validate_yaml_config",
]

InputContext = Literal["terminal", "line", "url", "path", "filename", "header"]

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|\u202a-\u202e\u2066-\u2069]")
MAX_URL_LENGTH = 2048
# A run config nests a few levels (ops: op: config: ...); 200 is far past any real one.
MAX_CONFIG_DEPTH = 200
# Nodes a YAML document may build, aliases expanded: a real run config has hundreds; the
# 342-byte "billion laughs" builds billions. Past the bound the text is refused.
MAX_YAML_NODES = 1_000_000
MAX_SECONDS = 7 * 24 * 3600


def check_seconds(value: object, origin: str, *, unit: str = "seconds") -> float:
    """``value`` as a finite, positive number (at most a week of seconds); ``BadInputError``
    naming ``origin`` otherwise. Accepts numbers and numeric text (a profile's string)."""
    problem = f"{origin} must be a positive number of {unit}"
    if isinstance(value, bool):
        raise errors.BadInputError(f"{problem}, not {value}.")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        shown = clean(str(value), one_line=True)[:40]
        raise errors.BadInputError(f"{problem}, not {shown!r}.") from None
    if not math.isfinite(number) or number <= 0 or number > MAX_SECONDS:
        raise errors.BadInputError(f"{problem} (finite, at most {MAX_SECONDS}), not {number:g}.")
    return number


def check_depth(value: object, source: str, limit: int = MAX_CONFIG_DEPTH) -> None:
    """Refuse data nested deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise errors.ConfigFileError(
                f"The run config in {source} is nested more than {limit} levels deep."
            )
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _bounded_yaml(text: str, source: str) -> Any:
    """``yaml.safe_load(text)``, refusing text that is too long, whose aliases would build
    more than ``MAX_YAML_NODES`` nodes, or that nests too deeply."""
    import yaml

    if len(text) > MAX_RUN_CONFIG_BYTES:
        raise errors.ConfigFileError(
            f"The run config in {source} is longer than {MAX_RUN_CONFIG_BYTES // 2**20} MiB."
        )
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_size(node, source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_yaml_size(root: Any, source: str) -> None:
    """Count the nodes ``root`` expands to (aliases counted each time they are used),
    without expanding them: each node's expanded size is computed once."""
    import yaml

    sizes: dict[int, int] = {}
    depth_of: dict[int, int] = {}
    # Iterative post-order walk over the node graph (aliases are shared node objects).
    stack: list[tuple[Any, bool, int]] = [(root, False, 0)]
    while stack:
        node, children_done, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise errors.ConfigFileError(
                f"The run config in {source} is nested more than {MAX_CONFIG_DEPTH} levels deep."
            )
        key = id(node)
        if key in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = [part for pair in node.value for part in pair]
        if not children_done:
            if depth_of.get(key) is not None:  # a cycle (a recursive alias)
                raise errors.ConfigFileError(f"The run config in {source} refers to itself.")
            depth_of[key] = depth
            stack.append((node, True, depth))
            stack.extend((c, False, depth + 1) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(c), 1) for c in children)
        if total > MAX_YAML_NODES:
            raise errors.ConfigFileError(
                f"The run config in {source} expands (through its aliases) to more than "
                f"{MAX_YAML_NODES:,} values; daglab refuses it.",
                hint="Write the config out without anchors and aliases (&name / *name).",
            )
        sizes[key] = total


def parse_config_yaml(text: str, source: str | None = None) -> dict[str, Any]:
    """Parse run-config text (YAML, or JSON which YAML reads too) into a mapping.

    ``source`` names where the text came from in error messages (by default the
    ``config_yaml`` setting: ``--config-yaml`` in the CLI). Empty text is ``{}``.
    """
    import yaml

    source = source or errors.setting("config_yaml")

    try:
        value = _bounded_yaml(text, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        problem = exc.problem or exc.context or "invalid YAML"
        raise errors.ConfigFileError(
            f"Cannot parse the run config in {where}: {problem}.",
            hint="Run config is YAML or JSON, e.g. 'ops: {my_op: {config: {rows: 3}}}'.",
        ) from None
    except yaml.YAMLError as exc:
        raise errors.ConfigFileError(f"Cannot parse the run config in {source}: {exc}.") from None
    except RecursionError:
        raise errors.ConfigFileError(
            f"The run config in {source} is nested too deeply to read."
        ) from None
    except ValueError as exc:  # e.g. a date like 2024-13-45, or deep nesting
        raise errors.ConfigFileError(
            f"Cannot parse the run config in {source}: {exc or type(exc).__name__}.",
            hint="Quote values YAML would read as dates or numbers.",
        ) from None
    return _as_mapping(value, source)


def _parse_json(text: str, source: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.ConfigFileError(
            f"Cannot parse the run config in {source}, line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}."
        ) from None
    except RecursionError:
        raise errors.ConfigFileError(f"The run config in {source} is nested too deeply.") from None
    check_depth(value, source)
    return _as_mapping(value, source)


def _as_mapping(value: object, source: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.ConfigFileError(
            f"The run config in {source} must be a mapping (like 'ops: ...'), "
            f"not a {type(value).__name__}."
        )
    return value


def load_run_config(path: str | Path) -> dict[str, Any]:
    """Read a run-config file: JSON if it ends in ``.json``, YAML otherwise."""
    file = Path(path)
    text = read_text_file(file, "run-config file")
    if file.suffix.lower() == ".json":
        return _parse_json(text, str(file))
    return parse_config_yaml(text, str(file))


def read_text_file(file: Path, what: str, limit: int = MAX_RUN_CONFIG_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes. A device (``/dev/zero``),
    a FIFO or a socket is refused at once, without reading or blocking on it."""
    shown = clean(str(file), one_line=True)
    try:
        # O_NONBLOCK: opening a FIFO with no writer must not block; it is refused below.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise errors.ConfigFileError(f"No {what} at {shown}.") from None
    except IsADirectoryError:
        raise errors.ConfigFileError(f"{shown} is a directory, not a {what}.") from None
    except OSError as exc:
        raise errors.ConfigFileError(f"Cannot read the {what} {shown}: {exc.strerror}.") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise errors.ConfigFileError(f"{shown} is a directory, not a {what}.")
        raise errors.ConfigFileError(
            f"{shown} is not a regular file (a device, FIFO or socket); give a {what}."
        )
    with os.fdopen(fd, "rb") as fh:
        if info.st_size > limit:
            raise errors.ConfigFileError(f"The {what} {shown} is larger than {limit // 2**20} MiB.")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise errors.ConfigFileError(f"The {what} {shown} is larger than {limit // 2**20} MiB.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.ConfigFileError(f"The {what} {shown} is not UTF-8 text.") from None


class YamlSyntaxError(errors.ConfigFileError):
    """YAML text does not parse; ``line`` and ``column`` are 1-based (None if unknown)."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.source = source
        self.line = line
        self.column = column


def validate_yaml_config(
    text: str, source: str = "<text>", *, require_mapping: bool = False
) -> Any:
    """Parse YAML ``text`` (JSON too) and return its value; empty text is ``None``.

    A syntax error is a ``YamlSyntaxError`` naming ``source``, the line and the column.
    Only plain data is built (no Python objects). With ``require_mapping`` the top level
    must be a mapping (as a run config is); ``{}`` is returned for empty text then.
    """
    import yaml

    try:
        value = _bounded_yaml(text, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        where = f"{source}, line {line}, column {column}" if line is not None else source
        problem = sanitize_input(str(exc.problem or exc.context or "invalid YAML"), "line")
        raise YamlSyntaxError(
            f"Cannot parse YAML in {where}: {problem}.",
            source=source,
            line=line,
            column=column,
            hint="Check the indentation and quoting on that line.",
        ) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(
            f"Cannot parse YAML in {source}: {sanitize_input(str(exc), 'line')[:200]}.",
            source=source,
        ) from None
    except RecursionError:
        raise YamlSyntaxError(
            f"Cannot parse YAML in {source}: nested too deeply.", source=source
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2024-13-45
        raise YamlSyntaxError(
            f"Cannot parse YAML in {source}: {sanitize_input(str(exc), 'line')[:200]}.",
            source=source,
        ) from None
    if require_mapping:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise errors.ConfigFileError(
                f"The YAML in {source} must be a mapping (like 'ops: ...'), "
                f"not a {type(value).__name__}."
            )
    return value


def validate_url(url: str, origin: str = "the URL") -> str:
    """``url`` if it is an http(s) URL naming a host; ``BadInputError`` otherwise.

    Refused: other schemes (``file:``, ``javascript:`` ...), credentials in the URL (they
    would show wherever the URL is printed), whitespace and control characters, a query or
    fragment, a bad port. The message names ``origin``, never the URL (it may hold a secret).
    """
    import httpx

    example = "For example: http://localhost:3000 or https://org.dagster.cloud/prod"
    if not isinstance(url, str) or not url:
        raise errors.BadInputError(f"{origin} is empty; it must be an http(s) URL.", hint=example)
    if len(url) > MAX_URL_LENGTH:
        raise errors.BadInputError(f"{origin} is longer than {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise errors.BadInputError(f"{origin} contains whitespace or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError:
        raise errors.BadInputError(f"{origin} is not a valid URL.", hint=example) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise errors.BadInputError(
            f"{origin} must start with http:// or https:// and name a host.", hint=example
        )
    if "@" in parts.netloc:
        raise errors.BadInputError(
            f"{origin} carries credentials (user:password@); daglab does not take them there.",
            hint="Use DAGLAB_USERNAME/DAGLAB_PASSWORD or the profile's auth table instead.",
        )
    if not hostname:
        raise errors.BadInputError(f"{origin} names no host.", hint=example)
    if port == 0:
        raise errors.BadInputError(f"{origin} has port 0; use a port from 1 to 65535.")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise errors.BadInputError(
            f"{origin} has a query or fragment; give the webserver's base URL.", hint=example
        )
    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise errors.BadInputError(f"{origin} is not a valid URL.", hint=example) from None
    return url


def safe_filename(name: str, default: str = "untitled") -> str:
    """One file-name component made from server text: no separators, no leading dots."""
    clean = _UNSAFE_NAME.sub("_", ESCAPE_SEQUENCES.sub("", str(name)))
    clean = re.sub(r"_+", "_", clean).strip(" ._")
    clean = clean[:200].rstrip(" .")
    return clean or default


def safe_output_path(path: str | os.PathLike[str], *, base: Path | None = None) -> Path:
    """Where to write ``path`` (``--output``, notebooks), as an absolute, normalized path.

    ``..`` is resolved lexically, so the file written is the one the user reads in the
    path. With ``base`` the result (symlinks resolved) must stay inside ``base``.
    """
    text = os.fspath(path)
    if not text or CONTROL_CHARS.search(text) or any(ch in text for ch in "\r\n\t"):
        raise errors.BadInputError("The output path is empty or contains control characters.")
    try:
        expanded = Path(text).expanduser()
    except RuntimeError:  # ~name of a user that does not exist
        raise errors.BadInputError("The output path names an unknown home directory.") from None
    if base is not None and not expanded.is_absolute():
        expanded = Path(base) / expanded
    target = Path(os.path.normpath(os.path.abspath(expanded)))
    if base is not None:
        root = Path(os.path.realpath(base))
        real = Path(os.path.realpath(target))
        if real != root and root not in real.parents:
            raise errors.BadInputError(
                f"The path {sanitize_input(text, 'line')} leads outside {root}.",
                hint="Give a path inside that directory.",
            )
    return target


def sanitize_input(text: object, context: InputContext = "terminal") -> str:
    """Make ``text`` safe for where it goes.

    ``terminal``: ANSI/VT escapes, control characters (but newline and tab) and bidi
    overrides removed. ``line``: the same, on one line. ``url``: checked by ``validate_url``.
    ``path``: ``safe_output_path`` as text. ``filename``: ``safe_filename``. ``header``: an
    HTTP header value, refused if it has a line break or NUL. GraphQL documents are never
    built from text: values travel as variables.
    """
    value = str(text)
    if context in ("terminal", "line"):
        return clean(value, one_line=context == "line")
    if context == "url":
        return validate_url(value)
    if context == "path":
        return str(safe_output_path(value))
    if context == "filename":
        return safe_filename(value)
    if context == "header":
        if any(ch in value for ch in "\r\n\x00"):
            raise errors.BadInputError("A header value may not contain a line break or NUL.")
        return value
    raise errors.BadInputError(f"Unknown input context {str(context)[:20]!r}.")


def check_url(url: str, origin: str) -> str:
    """Accept an http(s) URL with an optional path prefix; return it without a trailing slash."""
    url = validate_url(url, f"The Dagster URL from {origin}").rstrip("/")
    if url.endswith("/graphql"):
        url = url[: -len("/graphql")]
    return url
