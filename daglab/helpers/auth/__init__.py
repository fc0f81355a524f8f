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

The package, by concern (each module imports only those above it)::

    secrets   redaction, SecretStr, register_secret, mask_secret, file permissions
    config    AuthConfig
    store     tokens stored by ``daglab auth login`` (keyring, credentials file)
    resolve   resolve_auth, header and token flags
    tokens    CachedToken, parse_token_output, TokenManager
    flow      HeaderAuth (the httpx auth flow)
"""

from __future__ import annotations

from daglab.helpers.auth.config import AUTH_TYPES, AuthConfig, AuthType
from daglab.helpers.auth.flow import HeaderAuth
from daglab.helpers.auth.resolve import parse_header_flags, resolve_auth
from daglab.helpers.auth.secrets import (
    DAGSTER_CLOUD_HEADER,
    MASK,
    SENSITIVE_HEADERS,
    RedactingFilter,
    SecretStr,
    config_holds_secrets,
    known_secrets,
    log,
    mask_secret,
    redact_headers,
    redact_text,
    register_secret,
    scrub_exception,
    warn_if_exposed,
)
from daglab.helpers.auth.store import (
    KEYRING_SERVICE,
    KEYRING_TIMEOUT,
    StorageKind,
    StoredLogin,
    credential_key,
    credentials_path,
    delete_stored_token,
    load_stored_token,
    store_token,
)
from daglab.helpers.auth.tokens import (
    REFRESH_MARGIN,
    TOKEN_COMMAND_TIMEOUT,
    CachedToken,
    TokenManager,
    parse_token_output,
    reset_token_managers,
)

__all__ = [
    "AUTH_TYPES",
    "DAGSTER_CLOUD_HEADER",
    "KEYRING_SERVICE",
    "KEYRING_TIMEOUT",
    "MASK",
    "REFRESH_MARGIN",
    "SENSITIVE_HEADERS",
    "TOKEN_COMMAND_TIMEOUT",
    "AuthConfig",
    "AuthType",
    "CachedToken",
    "HeaderAuth",
    "RedactingFilter",
    "SecretStr",
    "StorageKind",
    "StoredLogin",
    "TokenManager",
    "config_holds_secrets",
    "credential_key",
    "credentials_path",
    "delete_stored_token",
    "known_secrets",
    "load_stored_token",
    "log",
    "mask_secret",
    "parse_header_flags",
    "parse_token_output",
    "redact_headers",
    "redact_text",
    "register_secret",
    "reset_token_managers",
    "resolve_auth",
    "scrub_exception",
    "store_token",
    "warn_if_exposed",
]
