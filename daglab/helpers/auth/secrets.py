"""The redaction layer: every secret daglab learns is registered here and masked wherever it
might surface (logs, exception text, reprs, JSON and notebook output); ``SecretStr`` keeps a
secret out of reprs and dumps; files that hold secrets are checked for their permissions.
"""

from __future__ import annotations

import logging
import os
import shlex
import stat
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from daglab.helpers.errors import DaglabError

log = logging.getLogger("daglab.auth")

DAGSTER_CLOUD_HEADER = "Dagster-Cloud-Api-Token"
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        DAGSTER_CLOUD_HEADER.lower(),
    }
)
MASK = "***"
_SECRET_KEYS = frozenset({"token", "password", "client_secret", "headers"})


# -- the redaction layer -----------------------------------------------------------------------

_registry: set[str] = set()
_registry_lock = threading.Lock()
_MIN_SECRET = 3  # shorter values would mask ordinary text; no real secret is this short


def register_secret(*values: str | None) -> None:
    """Remember ``values`` as secrets: every redaction from now on masks them."""
    with _registry_lock:
        for value in values:
            if value and len(value) >= _MIN_SECRET:
                _registry.add(value)
                stripped = value.strip()
                if stripped != value and len(stripped) >= _MIN_SECRET:
                    _registry.add(stripped)


def known_secrets() -> frozenset[str]:
    with _registry_lock:
        return frozenset(_registry)


def mask_secret(value: str | None, keep: int = 4) -> str:
    """``********abcd``: enough to tell tokens apart, never enough to use one."""
    if not value:
        return "(none)"
    if len(value) <= keep * 3:
        return "*" * 8
    return "*" * 8 + value[-keep:]


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret (``secrets`` and every registered one) replaced by ``***``."""
    values = {s for s in secrets if s and len(s) >= _MIN_SECRET} | known_secrets()
    for secret in sorted(values, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """A copy of ``headers`` safe to log: sensitive header names and secret values masked."""
    secret_values = {s for s in secrets if s} | known_secrets()
    out = {}
    for name, value in headers.items():
        if name.lower() in SENSITIVE_HEADERS or value in secret_values:
            out[name] = MASK
        else:
            out[name] = redact_text(value, secret_values)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that masks every registered secret in a record's message."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        super().__init__()
        self.extra = [s for s in extra if s]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: show it raw rather than drop it
            message = str(record.msg)
        clean = redact_text(message, self.extra)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            scrub_exception(record.exc_info[1], self.extra)
        return True


def scrub_exception(exc: BaseException, extra: Iterable[str] = ()) -> BaseException:
    """Mask secrets in ``exc`` (and the exceptions chained to it), in place; return it."""
    secrets = [s for s in extra if s]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        try:
            current.args = tuple(
                redact_text(a, secrets) if isinstance(a, str) else a for a in current.args
            )
            if isinstance(current, DaglabError):
                current.message = redact_text(current.message, secrets)
                if current.hint:
                    current.hint = redact_text(current.hint, secrets)
        except (AttributeError, TypeError):  # an exception type with read-only args
            pass
        current = current.__cause__ or current.__context__
    return exc


# -- permissions of files that hold secrets ----------------------------------------------------

_warned_paths: set[str] = set()


def warn_if_exposed(path: Path, what: str) -> bool:
    """Warn (once per file) if ``path``, which holds secrets, is group- or world-readable."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    if os.name != "posix" or not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return False
    key = str(path)
    if key not in _warned_paths:
        _warned_paths.add(key)
        log.warning(
            "%s %s holds secrets and is readable by other users (mode %s); run: chmod 600 %s",
            what,
            path,
            oct(stat.S_IMODE(mode)),
            shlex.quote(str(path)),
        )
    return True


def config_holds_secrets(config: Mapping[str, Any]) -> bool:
    """Whether a parsed config.toml has a token, password, client secret or header value."""
    profiles = config.get("profiles")
    if not isinstance(profiles, Mapping):
        return False
    for table in profiles.values():
        auth = table.get("auth") if isinstance(table, Mapping) else None
        if isinstance(auth, Mapping) and any(auth.get(k) for k in _SECRET_KEYS):
            return True
    return False


# -- a secret value --------------------------------------------------------------------------


class SecretStr:
    """A secret string: its repr, str and any dump show ``**********``, never the value.

    daglab's own (the CLI never imports pydantic); anything with ``get_secret_value()``,
    pydantic's ``SecretStr`` included, is accepted wherever one is expected.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')" if self._value else "SecretStr('')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)


def _secret(value: Any) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    getter = getattr(value, "get_secret_value", None)
    return SecretStr(getter() if callable(getter) else value)
