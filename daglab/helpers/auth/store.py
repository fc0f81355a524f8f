"""Tokens stored by ``daglab auth login``: in the OS keyring when one answers, else in a 0600
credentials file; filed under the profile, or else the server URL."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from daglab.helpers.auth.config import AuthConfig, _check_header_value
from daglab.helpers.auth.secrets import (
    DAGSTER_CLOUD_HEADER,
    SecretStr,
    register_secret,
    warn_if_exposed,
)
from daglab.helpers.errors import BadInputError, ConfigFileError
from daglab.helpers.settings import config_dir, env_value, tomllib

log = logging.getLogger("daglab.auth")

KEYRING_TIMEOUT = 2.0
KEYRING_SERVICE = "daglab"


def credentials_path(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / "credentials.toml"


def credential_key(profile: str | None, url: str) -> str:
    """What a stored token is filed under: its profile, or else the server URL."""
    return f"profile:{profile}" if profile else f"url:{url}"


def _keyring_enabled(env: Mapping[str, str] | None) -> bool:
    return (env_value("DAGLAB_KEYRING", env) or "1").lower() not in ("0", "false", "no", "off")


def _keyring_call(method: str, *args: str, timeout: float | None = None) -> tuple[bool, Any]:
    """Call ``keyring.<method>(*args)`` in a thread; (False, None) if it fails or hangs."""
    timeout = KEYRING_TIMEOUT if timeout is None else timeout
    result: list[Any] = []

    def call() -> None:
        try:
            import keyring

            result.append((True, getattr(keyring, method)(*args)))
        except Exception as exc:  # no keyring, no backend, a locked one: all mean "not here"
            result.append((False, type(exc).__name__))

    thread = threading.Thread(target=call, name="daglab-keyring", daemon=True)
    thread.start()
    thread.join(timeout)
    if not result:
        log.debug("The keyring did not answer within %.0fs", timeout)
        return False, None
    ok, value = result[0]
    if not ok:
        log.debug("The keyring is not usable here (%s)", value)
    return ok, value


def _read_credentials(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(
            f"Cannot read the credentials file {path}: {getattr(exc, 'strerror', None) or exc}."
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise ConfigFileError(
            f"The credentials file {path} is not valid TOML.",
            hint="Run `daglab auth logout` and log in again, or move the file aside.",
        ) from None
    targets = data.get("targets")
    return targets if isinstance(targets, dict) else {}


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string (ASCII-escaped) is a valid TOML basic string


def _write_credentials(path: Path, targets: Mapping[str, Mapping[str, str]]) -> None:
    """Write the credentials file 0600 in a 0700 directory, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(path.parent, 0o700)
    lines = ["# Written by `daglab auth login`. Holds secrets: keep it private (mode 0600).", ""]
    for key in sorted(targets):
        lines.append(f"[targets.{_toml_string(key)}]")
        for name, value in sorted(targets[key].items()):
            lines.append(f"{name} = {_toml_string(value)}")
        lines.append("")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the credentials file's lock file (``fcntl.flock``), so two
    logins at once (other processes too) each read, change and write the file in turn."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(path.parent, 0o700)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: the rename alone keeps it whole
        yield
        return
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


StorageKind = Literal["keyring", "file"]


@dataclass(frozen=True)
class StoredLogin:
    key: str
    storage: StorageKind
    path: Path


def store_token(
    key: str,
    token: str,
    *,
    auth_type: str = "bearer",
    header_name: str | None = None,
    env: Mapping[str, str] | None = None,
) -> StoredLogin:
    """Store ``token`` for ``key``: in the OS keyring when one answers, else in a 0600 file."""
    if auth_type not in ("bearer", "header"):
        raise BadInputError("daglab auth login stores a token for bearer or header auth.")
    _check_header_value(token, "the token")
    if not token or any(ch.isspace() for ch in token):
        raise BadInputError("The token is empty or holds whitespace.")
    register_secret(token)
    path = credentials_path(env)
    entry: dict[str, str] = {"type": auth_type}
    if auth_type == "header":
        entry["header_name"] = header_name or DAGSTER_CLOUD_HEADER
    storage: StorageKind = "file"
    if _keyring_enabled(env):
        ok, _ = _keyring_call("set_password", KEYRING_SERVICE, key, token)
        if ok:
            storage = "keyring"
    entry["storage"] = storage
    if storage == "file":
        entry["token"] = token
    with _locked(path):  # read, change, write: one writer at a time
        targets = _read_credentials(path)
        targets[key] = entry
        _write_credentials(path, targets)
    return StoredLogin(key, storage, path)


def load_stored_token(key: str, env: Mapping[str, str] | None = None) -> AuthConfig | None:
    """The token ``daglab auth login`` stored for ``key``, or None."""
    path = credentials_path(env)
    if not path.exists():
        return None
    targets = _read_credentials(path)
    entry = targets.get(key)
    if not isinstance(entry, dict):
        return None
    if entry.get("storage") == "keyring":
        ok, token = _keyring_call("get_password", KEYRING_SERVICE, key)
        if not ok or not token:
            log.warning(
                "The token for %s is in the OS keyring, which did not answer; "
                "run `daglab auth login` again if this persists.",
                key,
            )
            return None
        where = "keyring"
    else:
        warn_if_exposed(path, "The credentials file")
        token = entry.get("token")
        if not isinstance(token, str) or not token:
            return None
        where = str(path)
    kind = entry.get("type", "bearer")
    if kind not in ("bearer", "header"):
        kind = "bearer"
    header = entry.get("header_name") if kind == "header" else None
    return AuthConfig(
        type=kind,
        token=SecretStr(token),
        header_name=str(header)
        if header
        else ("Authorization" if kind == "bearer" else DAGSTER_CLOUD_HEADER),
        source=f"daglab auth login ({where})",
    )


def delete_stored_token(key: str, env: Mapping[str, str] | None = None) -> bool:
    """Forget the token stored for ``key``; True if there was one."""
    path = credentials_path(env)
    with _locked(path):
        targets = _read_credentials(path)
        entry = targets.pop(key, None)
        if entry is None:
            return False
        _write_credentials(path, targets)
    if isinstance(entry, dict) and entry.get("storage") == "keyring":
        _keyring_call("delete_password", KEYRING_SERVICE, key)
    return True
