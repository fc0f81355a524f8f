"""Credentials: where they come from, how they are sent, and how they are kept out of output.

Sources, highest first: flags (``--auth-token``, ``--auth-type``, ``--header``), environment
(``DAGLAB_TOKEN``, ``DAGLAB_USERNAME``/``DAGLAB_PASSWORD``, ``DAGSTER_CLOUD_API_TOKEN``), the
profile's ``[profiles.NAME.auth]`` table, a token stored by ``daglab auth login``, then none.

A token is either given as is, read from ``token_file``, printed by ``token_command`` or
fetched from an OAuth2 token endpoint (client credentials). ``TokenManager`` caches it with
its expiry, refreshes it shortly before it expires and once after a 401.

Every secret daglab learns is registered with the redaction layer (``redact_text``,
``redact_headers``, ``RedactingFilter``, ``scrub_exception``), so it is masked wherever it
might otherwise surface: logs, exception text, reprs, JSON and notebook output.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import re
import shlex
import stat
import subprocess
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Generator, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import httpx

from daglab.helpers.errors import (
    AuthError,
    BadInputError,
    ConfigFileError,
    DaglabError,
    UnreachableError,
)

log = logging.getLogger("daglab.auth")

AuthType = Literal["bearer", "basic", "header"]
AUTH_TYPES: tuple[str, ...] = ("bearer", "basic", "header")
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
# Refresh this long before a token expires, but never more than a fifth of its lifetime.
REFRESH_MARGIN = 60.0
TOKEN_COMMAND_TIMEOUT = 60.0
KEYRING_TIMEOUT = 2.0
KEYRING_SERVICE = "daglab"
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
_AUTH_KEYS = frozenset(
    {
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
    }
)
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


# -- configuration -----------------------------------------------------------------------------


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


_SECRET_FIELDS = ("token", "password", "client_secret")


@dataclass(frozen=True)
class AuthConfig:
    """How to authenticate; secrets are ``SecretStr`` so no repr or dump shows them.

    ``type`` says how the token travels: ``bearer`` (``Authorization: Bearer``), ``header``
    (the raw token in ``header_name``, e.g. ``Dagster-Cloud-Api-Token``) or ``basic``
    (``username``/``password``). The token itself is ``token``, or comes from ``token_file``,
    ``token_command`` or an OAuth2 client-credentials endpoint (``token_url``).
    ``custom_headers`` are sent with every request, whatever the type.
    """

    type: AuthType = "bearer"
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    header_name: str = "Authorization"
    custom_headers: dict[str, SecretStr] = field(default_factory=dict)
    token_file: Path | None = None
    token_command: str | list[str] | None = None
    token_lifetime: float | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scope: str | None = None
    source: str = "none"

    def __post_init__(self) -> None:
        # Plain strings become SecretStr (and a str path a Path), as a pydantic model would.
        for name in _SECRET_FIELDS:
            object.__setattr__(self, name, _secret(getattr(self, name)))
        headers = {str(k): _secret(v) for k, v in (self.custom_headers or {}).items()}
        object.__setattr__(self, "custom_headers", headers)
        if self.token_file is not None and not isinstance(self.token_file, Path):
            object.__setattr__(self, "token_file", Path(self.token_file))
        if self.type not in AUTH_TYPES:
            raise BadInputError(f"Unknown auth type {self.type!r}; use bearer, basic or header.")
        register_secret(*self.secrets())

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> AuthConfig:
        """A copy with ``update`` applied (the pydantic spelling, kept for callers)."""
        return replace(self, **dict(update or {}))

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        """Every field, secrets masked (``**********``); ``mode="json"`` gives JSON types."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, SecretStr):
                value = str(value) if mode == "json" else value
            elif f.name == "custom_headers":
                value = {k: str(v) if mode == "json" else v for k, v in value.items()}
            elif isinstance(value, Path) and mode == "json":
                value = str(value)
            out[f.name] = value
        return out

    def model_dump_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"))

    def secrets(self) -> list[str]:
        """Every secret value this config holds, for the redaction layer."""
        values = [
            s.get_secret_value()
            for s in (self.token, self.password, self.client_secret)
            if s is not None
        ]
        values += [v.get_secret_value() for v in self.custom_headers.values()]
        if self.type == "basic" and self.username is not None and self.password is not None:
            values.append(_basic_credentials(self.username, self.password.get_secret_value()))
        return [v for v in values if v]

    @property
    def token_source(self) -> str:
        """Where the token comes from: token, token_file, token_command, oauth2 or none."""
        if self.token_url:
            return "oauth2"
        if self.token_command:
            return "token_command"
        if self.token_file is not None:
            return "token_file"
        if self.token is not None:
            return "token"
        return "none"

    @property
    def refreshable(self) -> bool:
        """Whether a fresh token can be had after a 401 or on expiry."""
        return self.type != "basic" and self.token_source in (
            "token_file",
            "token_command",
            "oauth2",
        )

    @property
    def has_credential(self) -> bool:
        return self.token_source != "none" or self.username is not None

    def read_token_file(self) -> str | None:
        if self.token_file is None:
            return None
        warn_if_exposed(self.token_file, "The token file")
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ConfigFileError(
                f"Cannot read the token file {self.token_file}: {reason}."
            ) from None
        register_secret(token)
        return token or None

    def current_token(self) -> str | None:
        """The token available without running anything (given, or read from the file)."""
        if self.token is not None:
            return self.token.get_secret_value()
        return self.read_token_file()

    def headers(self, token: str | None = None) -> dict[str, str]:
        """The headers to send with each request (``token``: one fetched by a TokenManager)."""
        out = {name: value.get_secret_value() for name, value in self.custom_headers.items()}
        if self.type == "basic":
            if self.username is not None:
                password = self.password.get_secret_value() if self.password else ""
                out["Authorization"] = "Basic " + _basic_credentials(self.username, password)
            return out
        if token is None and self.token_source in ("token", "token_file"):
            token = self.current_token()
        if token:
            if self.type == "bearer":
                out["Authorization"] = f"Bearer {token}"
            else:
                out[self.header_name] = token
        return out

    def describe(self) -> str:
        """How credentials are sent, without any secret: ``bearer token from token_command``."""
        if self.type == "basic":
            return f"basic auth as {self.username!r}" if self.username else "basic auth"
        how = "bearer token" if self.type == "bearer" else f"{self.header_name} header"
        if self.token_source == "none":
            return "custom headers only" if self.custom_headers else "no credentials"
        origin = {
            "token": "",
            "token_file": f" from {self.token_file}",
            "token_command": " from token_command",
            "oauth2": f" from OAuth2 client credentials ({self.token_url})",
        }[self.token_source]
        return how + origin

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthConfig | None:
        """Credentials from DAGLAB_TOKEN, DAGLAB_USERNAME/DAGLAB_PASSWORD or DAGSTER_CLOUD_API_TOKEN.

        ``DAGLAB_AUTH_HEADER=NAME`` sends DAGLAB_TOKEN raw in that header instead of as a
        bearer token.
        """
        from daglab.helpers.settings import env_value

        if token := env_value("DAGLAB_TOKEN", env):
            header = env_value("DAGLAB_AUTH_HEADER", env)
            if header is not None:
                _check_header_name(header, "DAGLAB_AUTH_HEADER")
                if header.lower() != "authorization":
                    return cls(
                        type="header",
                        header_name=header,
                        token=SecretStr(token),
                        source="env DAGLAB_TOKEN (header from DAGLAB_AUTH_HEADER)",
                    )
            return cls(type="bearer", token=SecretStr(token), source="env DAGLAB_TOKEN")
        if user := env_value("DAGLAB_USERNAME", env):
            password = env_value("DAGLAB_PASSWORD", env) or ""
            return cls(
                type="basic",
                username=user,
                password=SecretStr(password),
                source="env DAGLAB_USERNAME/DAGLAB_PASSWORD",
            )
        if token := env_value("DAGSTER_CLOUD_API_TOKEN", env):
            return cls(
                type="header",
                header_name=DAGSTER_CLOUD_HEADER,
                token=SecretStr(token),
                source="env DAGSTER_CLOUD_API_TOKEN",
            )
        return None

    @classmethod
    def from_config(cls, table: Mapping[str, Any], *, source: str = "config") -> AuthConfig:
        """Credentials from a ``[profiles.NAME.auth]`` table."""
        unknown = sorted(str(k) for k in table if k not in _AUTH_KEYS)
        if unknown:
            raise ConfigFileError(
                f"Unknown key {unknown[0]!r} in the auth table of {source}.",
                hint="Known keys: " + ", ".join(sorted(_AUTH_KEYS)) + ".",
            )
        kind = table.get("type", "bearer")
        if kind not in AUTH_TYPES:
            raise ConfigFileError(f"Unknown auth type in {source}; use bearer, basic or header.")
        headers = table.get("headers", {}) or {}
        if not isinstance(headers, Mapping):
            raise ConfigFileError(f"auth.headers in {source} must be a table of NAME = VALUE.")
        for name, value in headers.items():
            _check_header_name(str(name), f"auth.headers in {source}", ConfigFileError)
            _check_header_value(str(value), f"auth.headers.{name} in {source}", ConfigFileError)
        header_name = str(
            table.get("header_name", DAGSTER_CLOUD_HEADER if kind == "header" else "Authorization")
        )
        _check_header_name(header_name, f"auth.header_name in {source}", ConfigFileError)
        command = table.get("token_command")
        if command is not None and not (
            (isinstance(command, str) and command.strip())
            or (isinstance(command, list) and command and all(isinstance(c, str) for c in command))
        ):
            raise ConfigFileError(
                f"auth.token_command in {source} must be a command line or a list of strings."
            )
        lifetime = table.get("token_lifetime")
        if lifetime is not None and (
            isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0
        ):
            raise ConfigFileError(f"auth.token_lifetime in {source} must be a positive number.")
        token_url = table.get("token_url")
        if token_url is not None:
            from daglab.helpers.checks import validate_url

            token_url = validate_url(str(token_url), f"auth.token_url in {source}")
            if not table.get("client_id"):
                raise ConfigFileError(f"auth.token_url in {source} needs a client_id.")
        if kind == "basic" and not table.get("username"):
            raise ConfigFileError(f"auth type basic in {source} needs a username.")
        token_file = table.get("token_file")
        for key in ("token", "password", "client_secret"):
            if table.get(key) is not None:
                _check_header_value(str(table[key]), f"auth.{key} in {source}", ConfigFileError)
        return cls(
            type=kind,
            token=SecretStr(str(table["token"])) if table.get("token") else None,
            username=str(table["username"]) if table.get("username") else None,
            password=SecretStr(str(table["password"])) if table.get("password") else None,
            header_name=header_name,
            custom_headers={str(k): SecretStr(str(v)) for k, v in headers.items()},
            token_file=Path(str(token_file)).expanduser() if token_file else None,
            token_command=command,
            token_lifetime=float(lifetime) if lifetime is not None else None,
            token_url=token_url,
            client_id=str(table["client_id"]) if table.get("client_id") else None,
            client_secret=(
                SecretStr(str(table["client_secret"])) if table.get("client_secret") else None
            ),
            scope=str(table["scope"]) if table.get("scope") else None,
            source=source,
        )

    def httpx_auth(self, origin: str | None = None) -> httpx.Auth:
        """An ``httpx.Auth`` that sends these credentials, only to ``origin`` if given."""
        return HeaderAuth(self, origin=origin)

    def token_manager(self) -> TokenManager:
        return TokenManager.for_config(self)


def _basic_credentials(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _check_header_name(name: str, origin: str, error: type[BadInputError] = BadInputError) -> None:
    if not _HEADER_NAME.fullmatch(name):
        raise error(f"{origin} is not a valid HTTP header name.")


def _check_header_value(
    value: str, origin: str, error: type[BadInputError] = BadInputError
) -> None:
    if any(ch in value for ch in "\r\n\x00"):
        raise error(f"The value of {origin} contains a line break or NUL.")


def parse_header_flags(values: Iterable[str]) -> dict[str, SecretStr]:
    """``--header NAME=VALUE`` (repeatable) into a header mapping."""
    out: dict[str, SecretStr] = {}
    for raw in values:
        name, sep, value = raw.partition("=")
        name = name.strip()
        if not sep or not name or not _HEADER_NAME.fullmatch(name):
            raise BadInputError(
                "--header takes NAME=VALUE with a valid HTTP header name.",
                hint="For example: --header Dagster-Cloud-Api-Token=$TOKEN",
            )
        if any(ch in value for ch in "\r\n\x00"):
            raise BadInputError(f"The value of --header {name} contains a line break.")
        register_secret(value)
        out[name] = SecretStr(value)
    return out


def resolve_auth(
    *,
    token: str | None = None,
    auth_type: str | None = None,
    headers: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    profile_name: str | None = None,
    profile_auth: Any = None,
    config_file: Path | None = None,
    stored_key: str | None = None,
) -> AuthConfig | None:
    """Flags > environment > the profile's auth table > a stored login > none.

    ``--auth-type`` says how the chosen token is sent; with ``basic``, ``--auth-token`` is
    ``USER:PASSWORD``.
    """
    register_secret(token)
    extra = parse_header_flags(headers or [])
    if auth_type is not None and auth_type not in AUTH_TYPES:
        raise BadInputError("--auth-type must be bearer, basic or header.")
    config: AuthConfig | None
    if token:
        config = _from_token_flag(token, auth_type, env)
    elif (from_env := AuthConfig.from_env(env)) is not None:
        config = _retype(from_env, auth_type, env)
    elif profile_auth is not None:
        if not isinstance(profile_auth, Mapping):
            raise ConfigFileError(
                f"[profiles.{profile_name}.auth] in {config_file} must be a table."
            )
        config = AuthConfig.from_config(profile_auth, source=f"profile {profile_name!r}")
        if not config.has_credential and stored_key is not None:
            stored = load_stored_token(stored_key, env)
            if stored is not None:
                config = config.model_copy(update={"token": stored.token, "source": stored.source})
        config = _retype(config, auth_type, env)
    elif stored_key is not None and (stored := load_stored_token(stored_key, env)) is not None:
        config = _retype(stored, auth_type, env)
    else:
        config = None
    if extra:
        base = config or AuthConfig(source="flag --header")
        merged = {**base.custom_headers, **extra}
        config = base.model_copy(update={"custom_headers": merged})
    return config


def _header_for(kind: str, env: Mapping[str, str] | None) -> str:
    from daglab.helpers.settings import env_value

    if kind != "header":
        return "Authorization"
    header = env_value("DAGLAB_AUTH_HEADER", env) or DAGSTER_CLOUD_HEADER
    _check_header_name(header, "DAGLAB_AUTH_HEADER")
    return header


def _from_token_flag(
    token: str, auth_type: str | None, env: Mapping[str, str] | None
) -> AuthConfig:
    kind = auth_type or "bearer"
    _check_header_value(token, "--auth-token")
    if kind == "basic":
        user, sep, password = token.partition(":")
        if not sep or not user:
            raise BadInputError(
                "With --auth-type basic, --auth-token takes USER:PASSWORD.",
                hint="Or set DAGLAB_USERNAME and DAGLAB_PASSWORD.",
            )
        register_secret(password)
        return AuthConfig(
            type="basic",
            username=user,
            password=SecretStr(password),
            source="flag --auth-token",
        )
    return AuthConfig(
        type=kind,  # type: ignore[arg-type]
        token=SecretStr(token),
        header_name=_header_for(kind, env),
        source="flag --auth-token",
    )


def _retype(config: AuthConfig, auth_type: str | None, env: Mapping[str, str] | None) -> AuthConfig:
    """Apply ``--auth-type`` to a token that came from somewhere other than the flag."""
    if auth_type is None or auth_type == config.type:
        return config
    if auth_type == "basic" or config.type == "basic":
        raise BadInputError(
            f"--auth-type {auth_type} does not fit the credentials from {config.source} "
            f"({config.type})."
        )
    return config.model_copy(update={"type": auth_type, "header_name": _header_for(auth_type, env)})


# -- tokens that come and go ---------------------------------------------------------------


@dataclass(frozen=True)
class CachedToken:
    value: str
    expires_at: float | None  # seconds since the epoch; None: never known to expire
    fetched_at: float

    def expiring(self, now: float) -> bool:
        if self.expires_at is None:
            return False
        lifetime = max(self.expires_at - self.fetched_at, 0.0)
        margin = min(REFRESH_MARGIN, lifetime / 5)
        return now >= self.expires_at - margin

    def __repr__(self) -> str:
        return f"CachedToken(value={mask_secret(self.value)!r}, expires_at={self.expires_at!r})"


def parse_token_output(output: str, *, now: float, lifetime: float | None = None) -> CachedToken:
    """A token and its expiry from what a token command printed.

    Accepts a bare token (a JWT's ``exp`` claim is read if there is one) or JSON with
    ``token``/``access_token``/``id_token`` and ``expires_in`` (seconds) or ``expires_at``
    (epoch seconds or ISO 8601). ``lifetime`` applies when the output gives no expiry.
    """
    text = output.strip()
    if not text:
        raise AuthError("The token command printed nothing.")
    expires_at: float | None = None
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise AuthError(
                "The token command printed something that is not JSON nor a token."
            ) from None
        if not isinstance(doc, dict):
            raise AuthError("The token command printed JSON that is not an object.")
        value = next(
            (doc[k] for k in ("token", "access_token", "id_token") if isinstance(doc.get(k), str)),
            None,
        )
        if not value:
            raise AuthError(
                "The token command printed JSON without a token "
                "(expected token, access_token or id_token)."
            )
        register_secret(value)
        expires_at = _expiry_from(doc, now)
    else:
        if "\n" in text:
            raise AuthError("The token command printed more than one line; expected one token.")
        value = text
        register_secret(value)
        expires_at = _jwt_expiry(value)
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise AuthError("The token holds whitespace or control characters.")
    if expires_at is None and lifetime is not None:
        expires_at = now + lifetime
    return CachedToken(value=value, expires_at=expires_at, fetched_at=now)


def _expiry_from(doc: Mapping[str, Any], now: float) -> float | None:
    expires_in = doc.get("expires_in")
    if expires_in is not None and not isinstance(expires_in, bool):
        try:
            return now + float(expires_in)
        except (TypeError, ValueError):
            pass
    expires_at = doc.get("expires_at", doc.get("expiry", doc.get("expiration")))
    if isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
        return float(expires_at)
    if isinstance(expires_at, str):
        try:
            when = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
        except ValueError:
            try:
                return float(expires_at)
            except ValueError:
                return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    return None


def _jwt_expiry(token: str) -> float | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


_managers: dict[tuple[Any, ...], TokenManager] = {}
_managers_lock = threading.Lock()


def reset_token_managers() -> None:
    """Forget every cached token (tests; or after rotating credentials in a notebook)."""
    with _managers_lock:
        _managers.clear()


class TokenManager:
    """Holds the current token of one credential source, fetching it again when needed.

    The token is cached with its expiry and refreshed shortly before it; after a 401 the
    auth flow asks for one refresh (``refresh(stale=...)``). Concurrent callers share one
    refresh: the first fetches, the others wait for it and reuse its result.
    """

    def __init__(
        self,
        config: AuthConfig,
        *,
        clock: Any = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.config = config
        self.clock = clock
        self.transport = transport
        self.timeout = timeout
        self.refreshes = 0
        self._cached: CachedToken | None = None
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._thread_lock = threading.Lock()

    @classmethod
    def for_config(cls, config: AuthConfig) -> TokenManager:
        """The process-wide manager for ``config``'s token source (shared by every client)."""
        key = (
            config.token_source,
            str(config.token_file),
            repr(config.token_command),
            config.token_lifetime,
            config.token_url,
            config.client_id,
            config.client_secret.get_secret_value() if config.client_secret else None,
            config.scope,
            config.token.get_secret_value() if config.token else None,
        )
        with _managers_lock:
            manager = _managers.get(key)
            if manager is None:
                manager = _managers[key] = cls(config)
            return manager

    def __repr__(self) -> str:
        return f"TokenManager(source={self.config.token_source!r}, cached={self._cached!r})"

    @property
    def refreshable(self) -> bool:
        return self.config.refreshable

    @property
    def cached(self) -> CachedToken | None:
        return self._cached

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._thread_lock:
            lock = self._locks.get(loop)
            if lock is None:
                lock = self._locks[loop] = asyncio.Lock()
            return lock

    def invalidate(self) -> None:
        self._cached = None

    async def get_token(self) -> str | None:
        """A token that is valid for a while yet, fetching one if needed."""
        cached = self._cached
        if cached is not None and not cached.expiring(self.clock()):
            return cached.value
        if self.config.token_source == "token":
            return self.config.current_token()
        if self.config.token_source == "none":
            return None
        return await self.refresh(stale=cached.value if cached else None)

    async def refresh(self, stale: str | None = None) -> str | None:
        """Fetch a new token, unless another caller already replaced ``stale`` meanwhile."""
        if self.config.token_source in ("none", "token"):
            return self.config.current_token()
        async with self._lock():
            cached = self._cached
            if cached is not None and cached.value != stale and not cached.expiring(self.clock()):
                return cached.value
            fresh = await self._fetch()
            self._cached = fresh
            self.refreshes += 1
            log.debug(
                "Fetched a token from %s (%s)%s",
                self.config.token_source,
                mask_secret(fresh.value),
                f", expires in {fresh.expires_at - self.clock():.0f}s"
                if fresh.expires_at is not None
                else "",
            )
            return fresh.value

    async def _fetch(self) -> CachedToken:
        source = self.config.token_source
        if source == "token_file":
            value = self.config.read_token_file()
            if not value:
                raise AuthError(f"The token file {self.config.token_file} is empty.")
            now = self.clock()
            lifetime = self.config.token_lifetime
            expires = _jwt_expiry(value) or (now + lifetime if lifetime else None)
            return CachedToken(value, expires, now)
        if source == "token_command":
            return await self._run_command()
        return await self._client_credentials()

    async def _run_command(self) -> CachedToken:
        # In a thread, not asyncio's subprocess API: cancelling a task that is starting an
        # asyncio subprocess can hang the event loop's shutdown (CPython 3.11).
        out = await asyncio.to_thread(self._run_command_sync)
        return parse_token_output(out, now=self.clock(), lifetime=self.config.token_lifetime)

    def _run_command_sync(self) -> str:
        command = self.config.token_command
        argv = shlex.split(command) if isinstance(command, str) else list(command or [])
        if not argv:
            raise AuthError("auth.token_command is empty.")
        name = os.path.basename(argv[0])
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=TOKEN_COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AuthError(
                f"The token command {name!r} did not finish within {TOKEN_COMMAND_TIMEOUT:.0f}s."
            ) from None
        except OSError as exc:
            raise AuthError(
                f"Cannot run the token command {name!r}: {exc.strerror or type(exc).__name__}.",
                hint="Check auth.token_command in your profile.",
            ) from None
        if proc.returncode != 0:
            first = proc.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
            if first:
                log.debug("The token command said: %s", redact_text(first[0])[:300])
            raise AuthError(
                f"The token command {name!r} failed (exit {proc.returncode}).",
                hint="Run it yourself to see why; it must print a token (or JSON with one).",
            )
        return str(proc.stdout.decode("utf-8", "replace"))

    async def _client_credentials(self) -> CachedToken:
        config = self.config
        url = config.token_url or ""
        data = {"grant_type": "client_credentials"}
        if config.scope:
            data["scope"] = config.scope
        secret = config.client_secret.get_secret_value() if config.client_secret else ""
        async with httpx.AsyncClient(
            transport=self.transport, timeout=self.timeout, follow_redirects=False
        ) as client:
            try:
                response = await client.post(
                    url,
                    data=data,
                    auth=httpx.BasicAuth(config.client_id or "", secret),
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise UnreachableError(
                    f"Cannot reach the OAuth2 token endpoint {url}: "
                    f"{redact_text(str(exc) or type(exc).__name__)}."
                ) from None
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if response.status_code != 200 or not isinstance(doc, dict):
            reason = ""
            if isinstance(doc, dict) and isinstance(doc.get("error"), str):
                reason = f": {redact_text(doc['error'])[:100]}"
            raise AuthError(
                f"The OAuth2 token endpoint {url} refused the client credentials "
                f"(HTTP {response.status_code}{reason}).",
                hint="Check client_id, client_secret and scope in the profile's auth table.",
            )
        token = doc.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError(f"The OAuth2 token endpoint {url} answered without an access_token.")
        register_secret(token)
        now = self.clock()
        expires = _expiry_from(doc, now)
        if expires is None and config.token_lifetime:
            expires = now + config.token_lifetime
        return CachedToken(token, expires, now)


class HeaderAuth(httpx.Auth):
    """Adds the configured headers to each request; after a 401, refreshes once and retries.

    With ``origin`` set, credentials go only to requests for that scheme, host and port.
    """

    def __init__(
        self,
        config: AuthConfig,
        origin: str | None = None,
        manager: TokenManager | None = None,
    ) -> None:
        self.config = config
        self.origin = _origin(httpx.URL(origin)) if origin else None
        if manager is None and config.token_source != "token":
            manager = config.token_manager()
        self.manager = manager

    def __repr__(self) -> str:
        return f"HeaderAuth(config={self.config!r})"

    def _allowed(self, request: httpx.Request) -> bool:
        return self.origin is None or _origin(request.url) == self.origin

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self._allowed(request):
            yield request
            return
        token = await self.manager.get_token() if self.manager else None
        request.headers.update(self.config.headers(token))
        response = yield request
        if response.status_code == 401 and self.manager is not None and self.manager.refreshable:
            fresh = await self.manager.refresh(stale=token)
            if fresh and fresh != token:
                log.debug("HTTP 401 with the cached token; retrying once with a fresh one")
                request.headers.update(self.config.headers(fresh))
                yield request

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        if self._allowed(request):
            if self.config.token_source in ("token_command", "oauth2"):
                cached = self.manager.cached if self.manager else None
                if cached is None:
                    raise AuthError(
                        f"Credentials from {self.config.token_source} need daglab's async client."
                    )
                request.headers.update(self.config.headers(cached.value))
            else:
                request.headers.update(self.config.headers())
        yield request


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), port


# -- tokens stored by `daglab auth login` ------------------------------------------------------


def credentials_path(env: Mapping[str, str] | None = None) -> Path:
    from daglab.helpers.settings import config_dir

    return config_dir(env) / "credentials.toml"


def credential_key(profile: str | None, url: str) -> str:
    """What a stored token is filed under: its profile, or else the server URL."""
    return f"profile:{profile}" if profile else f"url:{url}"


def _keyring_enabled(env: Mapping[str, str] | None) -> bool:
    from daglab.helpers.settings import env_value

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
    from daglab.helpers.settings import tomllib

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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


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
    targets = _read_credentials(path)
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
    targets = _read_credentials(path)
    entry = targets.pop(key, None)
    if entry is None:
        return False
    if isinstance(entry, dict) and entry.get("storage") == "keyring":
        _keyring_call("delete_password", KEYRING_SERVICE, key)
    _write_credentials(path, targets)
    return True
