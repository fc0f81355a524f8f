"""Environment and paths: where daglab reads its config, keeps its state and finds a dev server.

Ground floor: imports nothing of daglab's but ``errors``. An empty environment variable
counts as unset.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from daglab.helpers.errors import ConfigFileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "DEFAULT_HTTP_TIMEOUT",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_URL",
    "MAX_RUN_CONFIG_BYTES",
    "config_dir",
    "config_path",
    "dev_state_path",
    "env_value",
    "load_config_file",
    "read_dev_state",
    "state_dir",
    "tomllib",
]

DEFAULT_URL = "http://localhost:3000"
DEFAULT_HTTP_TIMEOUT = 30.0
# The largest answer daglab reads, raw or decompressed (DAGLAB_MAX_RESPONSE_MB): a discovery
# of 10,000 assets is about 10 MiB, so this leaves room for twenty times that and more.
DEFAULT_MAX_RESPONSE_BYTES = 256 * 2**20
# The largest run-config file or text daglab reads (and the largest YAML after aliases).
MAX_RUN_CONFIG_BYTES = 16 * 2**20


def env_value(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """An environment variable, with empty counted as unset."""
    value = (os.environ if env is None else env).get(name)
    return value if value else None


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    base = env_value("XDG_CONFIG_HOME", env)
    return (Path(base) if base else Path.home() / ".config") / "daglab"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / "config.toml"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    base = env_value("XDG_STATE_HOME", env)
    return (Path(base) if base else Path.home() / ".local" / "state") / "daglab"


def dev_state_path(env: Mapping[str, str] | None = None) -> Path:
    """The file a running ``daglab dev`` server describes itself in."""
    return state_dir(env) / "dev.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_dev_state(env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The running ``daglab dev`` server's state, or None if none runs."""
    path = dev_state_path(env)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("url"), str):
        return None
    pid = state.get("pid")
    if not isinstance(pid, int) or not _pid_alive(pid):
        return None
    return state


def load_config_file(path: Path) -> dict[str, Any]:
    """Parse config.toml; a missing file is an empty config, a malformed one exit 2."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigFileError(f"Cannot read the config file {path}: {exc.strerror}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(
            f"The config file {path} is not valid TOML: {exc}.",
            hint="Fix that line, or move the file aside.",
        ) from None
