"""Credentials: where they come from, how they are sent, and how they are kept out of output."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from daglab.helpers.errors import BadInputError, ConfigFileError

AuthType = Literal["bearer", "basic", "header"]
DAGSTER_CLOUD_HEADER = "Dagster-Cloud-Api-Token"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", DAGSTER_CLOUD_HEADER.lower()}
)
MASK = "***"


def mask_secret(value: str | None, keep: int = 4) -> str:
    """``****abcd``: enough to tell tokens apart, never enough to use one."""
    if not value:
        return "(none)"
    if len(value) <= keep * 2:
        return "*" * len(value)
    return "*" * 8 + value[-keep:]


class AuthConfig(BaseModel):
    """How to authenticate; secrets are ``SecretStr`` so no repr or dump shows them."""

    model_config = ConfigDict(frozen=True)

    type: AuthType = "bearer"
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    header_name: str = "Authorization"
    custom_headers: dict[str, SecretStr] = Field(default_factory=dict)
    token_file: Path | None = None
    source: str = "none"

    def secrets(self) -> list[str]:
        """Every secret value this config holds, for the redaction layer."""
        values = [s.get_secret_value() for s in (self.token, self.password) if s is not None]
        values += [v.get_secret_value() for v in self.custom_headers.values()]
        return [v for v in values if v]

    def current_token(self) -> str | None:
        if self.token is not None:
            return self.token.get_secret_value()
        if self.token_file is not None:
            try:
                return self.token_file.read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                raise ConfigFileError(
                    f"Cannot read the token file {self.token_file}: {exc.strerror}."
                ) from None
        return None

    def headers(self, token: str | None = None) -> dict[str, str]:
        """The headers to send with each request."""
        out = {name: value.get_secret_value() for name, value in self.custom_headers.items()}
        token = token if token is not None else self.current_token()
        if self.type == "basic":
            if self.username is not None:
                basic = httpx.BasicAuth(
                    self.username, self.password.get_secret_value() if self.password else ""
                )
                out["Authorization"] = basic._auth_header
        elif token:
            if self.type == "bearer":
                out["Authorization"] = f"Bearer {token}"
            else:
                out[self.header_name] = token
        return out

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthConfig | None:
        """Credentials from DAGLAB_TOKEN, DAGLAB_USERNAME/DAGLAB_PASSWORD or DAGSTER_CLOUD_API_TOKEN."""
        from daglab.helpers.config import env_value

        if token := env_value("DAGLAB_TOKEN", env):
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
        kind = table.get("type", "bearer")
        if kind not in ("bearer", "basic", "header"):
            raise ConfigFileError(
                f"Unknown auth type {kind!r} in {source}; use bearer, basic or header."
            )
        headers = table.get("headers", {}) or {}
        if not isinstance(headers, Mapping):
            raise ConfigFileError(f"auth.headers in {source} must be a table of NAME = VALUE.")
        token_file = table.get("token_file")
        return cls(
            type=kind,
            token=SecretStr(str(table["token"])) if table.get("token") else None,
            username=table.get("username"),
            password=SecretStr(str(table["password"])) if table.get("password") else None,
            header_name=str(
                table.get(
                    "header_name", DAGSTER_CLOUD_HEADER if kind == "header" else "Authorization"
                )
            ),
            custom_headers={str(k): SecretStr(str(v)) for k, v in headers.items()},
            token_file=Path(token_file).expanduser() if token_file else None,
            source=source,
        )

    def httpx_auth(self) -> httpx.Auth:
        return HeaderAuth(self)


class HeaderAuth(httpx.Auth):
    """Adds the configured headers to each request."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers.update(self.config.headers())
        yield request


def parse_header_flags(values: Iterable[str]) -> dict[str, SecretStr]:
    """``--header NAME=VALUE`` (repeatable) into a header mapping."""
    out: dict[str, SecretStr] = {}
    for raw in values:
        name, sep, value = raw.partition("=")
        name = name.strip()
        if not sep or not name or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name):
            raise BadInputError(
                "--header takes NAME=VALUE with a valid HTTP header name.",
                hint="For example: --header Dagster-Cloud-Api-Token=$TOKEN",
            )
        if any(ch in value for ch in "\r\n\x00"):
            raise BadInputError(f"The value of --header {name} contains a line break.")
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
) -> AuthConfig | None:
    """Flags > environment > the profile's auth table > none."""
    extra = parse_header_flags(headers or [])
    if auth_type is not None and auth_type not in ("bearer", "basic", "header"):
        raise BadInputError(f"--auth-type must be bearer, basic or header, not {auth_type!r}.")
    config: AuthConfig | None
    if token:
        kind: AuthType = auth_type or "bearer"  # type: ignore[assignment]
        if kind == "basic":
            raise BadInputError(
                "--auth-type basic takes DAGLAB_USERNAME/DAGLAB_PASSWORD, not --auth-token."
            )
        config = AuthConfig(
            type=kind,
            token=SecretStr(token),
            header_name=DAGSTER_CLOUD_HEADER if kind == "header" else "Authorization",
            source="flag --auth-token",
        )
    elif (from_env := AuthConfig.from_env(env)) is not None:
        config = from_env
    elif profile_auth is not None:
        if not isinstance(profile_auth, Mapping):
            raise ConfigFileError(
                f"[profiles.{profile_name}.auth] in {config_file} must be a table."
            )
        config = AuthConfig.from_config(profile_auth, source=f"profile {profile_name!r}")
    else:
        config = None
    if extra:
        base = config or AuthConfig(source="flag --header")
        merged = {**base.custom_headers, **extra}
        config = base.model_copy(update={"custom_headers": merged})
    return config


def redact_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """A copy of ``headers`` safe to log."""
    secret_values = {s for s in secrets if s}
    out = {}
    for name, value in headers.items():
        if name.lower() in SENSITIVE_HEADERS or value in secret_values:
            out[name] = MASK
        else:
            out[name] = value
    return out


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
