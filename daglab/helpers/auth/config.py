"""``AuthConfig``: how to authenticate, with its secrets held as ``SecretStr``.

Built from the environment (``from_env``), a profile's ``[profiles.NAME.auth]`` table
(``from_config``), a flag or a stored login (``daglab.helpers.auth.resolve``); sent by
``daglab.helpers.auth.flow.HeaderAuth``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from daglab.helpers.auth.secrets import (
    DAGSTER_CLOUD_HEADER,
    SecretStr,
    _secret,
    register_secret,
    warn_if_exposed,
)
from daglab.helpers.checks import validate_url
from daglab.helpers.errors import BadInputError, ConfigFileError
from daglab.helpers.settings import env_value

AuthType = Literal["bearer", "basic", "header"]
AUTH_TYPES: tuple[str, ...] = ("bearer", "basic", "header")
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


def _basic_credentials(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _check_header_name(name: str, origin: str, error: type[BadInputError] = BadInputError) -> None:
    if not _HEADER_NAME.fullmatch(name):
        raise error(f"{origin} is not a valid HTTP header name.")


def _check_header_value(
    value: str, origin: str, error: type[BadInputError] = BadInputError, *, ascii_only: bool = True
) -> None:
    if any(ch in value for ch in "\r\n\x00"):
        raise error(f"The value of {origin} contains a line break or NUL.")
    if ascii_only and not value.isascii():
        raise error(
            f"The value of {origin} holds non-ASCII characters; HTTP headers carry ASCII only.",
            hint="Check it was copied whole (no typographic quotes or dashes).",
        )
