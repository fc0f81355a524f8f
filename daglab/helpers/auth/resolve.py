"""Which credentials apply: flags > environment > the profile's auth table > a stored login.

``--auth-type`` says how the chosen token is sent; ``--header NAME=VALUE`` adds headers to
whatever was chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from daglab.helpers.auth.config import (
    _HEADER_NAME,
    AUTH_TYPES,
    AuthConfig,
    _check_header_name,
    _check_header_value,
)
from daglab.helpers.auth.secrets import DAGSTER_CLOUD_HEADER, SecretStr, register_secret
from daglab.helpers.auth.store import load_stored_token
from daglab.helpers.errors import BadInputError, ConfigFileError, setting
from daglab.helpers.settings import env_value


def parse_header_flags(values: Iterable[str]) -> dict[str, SecretStr]:
    """``--header NAME=VALUE`` (repeatable) into a header mapping."""
    out: dict[str, SecretStr] = {}
    for raw in values:
        name, sep, value = raw.partition("=")
        name = name.strip()
        if not sep or not name or not _HEADER_NAME.fullmatch(name):
            raise BadInputError(
                f"{setting('headers')} takes NAME=VALUE with a valid HTTP header name.",
                hint=f"For example: Dagster-Cloud-Api-Token=$TOKEN in {setting('headers')}",
            )
        if any(ch in value for ch in "\r\n\x00"):
            raise BadInputError(f"The value of {setting('headers')} {name} contains a line break.")
        if not value.isascii():
            raise BadInputError(
                f"The value of {setting('headers')} {name} holds non-ASCII characters; HTTP "
                "headers carry ASCII only."
            )
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
        raise BadInputError(f"{setting('auth_type')} must be bearer, basic or header.")
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
    if kind != "header":
        return "Authorization"
    header = env_value("DAGLAB_AUTH_HEADER", env) or DAGSTER_CLOUD_HEADER
    _check_header_name(header, "DAGLAB_AUTH_HEADER")
    return header


def _from_token_flag(
    token: str, auth_type: str | None, env: Mapping[str, str] | None
) -> AuthConfig:
    kind = auth_type or "bearer"
    _check_header_value(token, setting("auth_token"), ascii_only=kind != "basic")
    if kind == "basic":
        user, sep, password = token.partition(":")
        if not sep or not user:
            raise BadInputError(
                f"With {setting('auth_type')} basic, {setting('auth_token')} takes USER:PASSWORD.",
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
            f"{setting('auth_type')} {auth_type} does not fit the credentials from {config.source} "
            f"({config.type})."
        )
    return config.model_copy(update={"type": auth_type, "header_name": _header_for(auth_type, env)})
