"""Where daglab connects, and with which credentials.

Resolution, highest first (DESIGN.md): flags > environment (``DAGLAB_URL``, ``DAGLAB_TOKEN``,
``DAGLAB_PROFILE``, ``DAGSTER_CLOUD_API_TOKEN``) > the chosen profile in
``$XDG_CONFIG_HOME/daglab/config.toml`` > a running ``daglab dev`` server > ``http://localhost:3000``.
An empty environment variable counts as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab.helpers.checks import check_seconds, check_url
from daglab.helpers.errors import BadInputError, ConfigFileError, setting
from daglab.helpers.settings import (
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_URL,
    config_path,
    env_value,
    load_config_file,
    read_dev_state,
)

if TYPE_CHECKING:
    from daglab.helpers.auth import AuthConfig


@dataclass(frozen=True)
class ConnectionSettings:
    """The resolved target: URL, credentials and where each came from."""

    url: str
    url_source: str
    auth: AuthConfig | None = None
    profile: str | None = None
    http_timeout: float = DEFAULT_HTTP_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def auth_source(self) -> str:
        return self.auth.source if self.auth is not None else "none"

    def __repr__(self) -> str:
        return (
            f"ConnectionSettings(url={self.url!r}, url_source={self.url_source!r}, "
            f"auth={self.auth!r}, profile={self.profile!r}, http_timeout={self.http_timeout!r})"
        )


def resolve_connection(
    *,
    url: str | None = None,
    host: str | None = None,
    port: int | None = None,
    auth_token: str | None = None,
    auth_type: str | None = None,
    headers: list[str] | None = None,
    profile: str | None = None,
    http_timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> ConnectionSettings:
    """Resolve the connection from flags, environment, profile, a dev server, or the default."""
    from daglab.helpers.auth import (
        config_holds_secrets,
        credential_key,
        resolve_auth,
        warn_if_exposed,
    )

    environ: Mapping[str, str] = os.environ if env is None else env
    path = config_file or config_path(environ)
    config = load_config_file(path)

    profile_name = profile or env_value("DAGLAB_PROFILE", environ)
    profile_origin = setting("profile") if profile else "DAGLAB_PROFILE"
    if profile_name is None and isinstance(config.get("default_profile"), str):
        profile_name = config["default_profile"]
        profile_origin = f"default_profile in {path}"
    profile_table: dict[str, Any] = {}
    if profile_name is not None:
        profiles = config.get("profiles", {})
        if not isinstance(profiles, dict) or profile_name not in profiles:
            known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else ""
            raise BadInputError(
                f"No profile named {profile_name!r} (from {profile_origin}) in {path}.",
                hint=f"Known profiles: {known}."
                if known
                else f"Add [profiles.{profile_name}] there.",
            )
        profile_table = profiles[profile_name]
        if not isinstance(profile_table, dict):
            raise ConfigFileError(f"[profiles.{profile_name}] in {path} must be a table.")

    if url:
        resolved, source = check_url(url, setting("url")), "flag --url"
    elif host or port is not None:
        if port is not None and not 0 < port < 65536:
            raise BadInputError(f"{setting('port')} must be between 1 and 65535, not {port}.")
        host = host or "localhost"
        if "://" in host:
            raise BadInputError(
                f"{setting('host')} takes a host name; use {setting('url')} for a full URL."
            )
        resolved = check_url(
            f"http://{host}:{port or 3000}", f"{setting('host')}/{setting('port')}"
        )
        source = "flags --host/--dagster-port"
    elif env_url := env_value("DAGLAB_URL", environ):
        resolved, source = check_url(env_url, "DAGLAB_URL"), "env DAGLAB_URL"
    elif isinstance(profile_table.get("url"), str):
        resolved = check_url(profile_table["url"], f"profile {profile_name!r}")
        source = f"profile {profile_name!r} ({path})"
    elif (dev := read_dev_state(environ)) is not None:
        resolved, source = check_url(dev["url"], "daglab dev"), "daglab dev server"
    else:
        resolved, source = DEFAULT_URL, "default"

    timeout = http_timeout
    if timeout is not None:
        timeout = check_seconds(timeout, setting("http_timeout"))
    elif profile_table.get("http_timeout") is not None:
        timeout = check_seconds(
            profile_table["http_timeout"], f"http_timeout in profile {profile_name!r} ({path})"
        )
    cap = env_value("DAGLAB_MAX_RESPONSE_MB", environ)
    max_response = (
        int(check_seconds(cap, "DAGLAB_MAX_RESPONSE_MB", unit="MiB") * 2**20)
        if cap is not None
        else DEFAULT_MAX_RESPONSE_BYTES
    )

    if config_holds_secrets(config):
        warn_if_exposed(path, "The config file")
    auth = resolve_auth(
        token=auth_token,
        auth_type=auth_type,
        headers=headers,
        env=environ,
        profile_name=profile_name,
        profile_auth=profile_table.get("auth"),
        config_file=path,
        stored_key=credential_key(profile_name, resolved),
    )
    return ConnectionSettings(
        url=resolved,
        url_source=source,
        auth=auth,
        profile=profile_name,
        http_timeout=timeout or DEFAULT_HTTP_TIMEOUT,
        max_response_bytes=max_response,
    )
