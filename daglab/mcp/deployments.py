"""Which Dagster deployment a tool call talks to: the server's own connection, or a profile.

The server's connection is resolved as the CLI resolves it for any command (its flags, then
``DAGLAB_URL``/``DAGLAB_TOKEN``/``DAGLAB_PROFILE``, the profile, a running ``daglab dev``, the
default). A call that names ``profile`` gets what ``daglab <command> --profile NAME`` would get
in the server's environment: that profile, under the same environment variables. Each
deployment gets one pooled client, resolved on first use and kept for the server's lifetime.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from daglab.helpers.config import ConnectionSettings, resolve_connection
from daglab.helpers.errors import BadInputError
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.settings import config_path, load_config_file


def profile_settings(name: str, http_timeout: float | None = None) -> ConnectionSettings:
    return resolve_connection(profile=name, http_timeout=http_timeout)


class Deployments:
    """The pooled clients of one server, by profile (``None``: the server's own connection).

    ``default`` resolves the server's connection; ``named`` resolves a profile; ``allowed``,
    if given, are the only profiles a call may name; ``transport`` carries every request
    (the test seam)."""

    def __init__(
        self,
        default: Callable[[], ConnectionSettings] = resolve_connection,
        named: Callable[[str], ConnectionSettings] = profile_settings,
        *,
        allowed: frozenset[str] | None = None,
        transport: Any = None,
    ) -> None:
        self._default = default
        self._named = named
        self.allowed = allowed
        self.transport = transport
        self._settings: dict[str | None, ConnectionSettings] = {}
        self._clients: dict[str | None, DagsterClient] = {}
        self._lock = asyncio.Lock()

    def settings(self, profile: str | None = None) -> ConnectionSettings:
        if profile is not None and self.allowed is not None and profile not in self.allowed:
            known = ", ".join(sorted(self.allowed)) or "none"
            raise BadInputError(
                f"This server may not use profile {profile!r}.",
                hint=f"Profiles it may use: {known}.",
            )
        found = self._settings.get(profile)
        if found is None:
            found = self._default() if profile is None else self._named(profile)
            self._settings[profile] = found
        return found

    async def client(self, profile: str | None = None) -> DagsterClient:
        async with self._lock:
            client = self._clients.get(profile)
            if client is None:
                # Resolution may read a keyring (bounded by daglab at 2 s): off the loop.
                settings = await asyncio.to_thread(self.settings, profile)
                client = DagsterClient.from_settings(settings, transport=self.transport)
                self._clients[profile] = client
            return client

    def profiles(self) -> tuple[list[tuple[str, str | None]], str | None]:
        """The configured profiles (name, URL) this server may use, and the config's
        ``default_profile``. Reads names and URLs only, never a credential."""
        config = load_config_file(config_path())
        table = config.get("profiles")
        profiles = table if isinstance(table, dict) else {}
        rows = []
        for name in sorted(profiles):
            if self.allowed is not None and name not in self.allowed:
                continue
            entry = profiles[name]
            url = entry.get("url") if isinstance(entry, dict) else None
            rows.append((str(name), url if isinstance(url, str) else None))
        default = config.get("default_profile")
        return rows, default if isinstance(default, str) else None

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
