"""``daglab auth``: which credentials daglab uses for a target, and storing a token for it."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from daglab.commands._options import (
    GlobalOptions,
    err,
    print_json,
    run_async,
    state,
    with_global_options,
)

app = typer.Typer(
    help="Show, store and forget the credentials daglab sends to Dagster.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


@app.command("status")
@with_global_options
def status(opts: GlobalOptions) -> None:
    """Show the credential source for the current target, the auth type, the token masked
    to its last 4 characters, and whether the server accepts it.

    Exit 0 when the server accepts the credentials, 5 when it rejects them, 3 when it
    cannot be reached.
    """

    from daglab.helpers.errors import AuthError, ServerError
    from daglab.helpers.status import credentials_status

    report = run_async(credentials_status(opts.settings(), transport=state.transport))
    if opts.json:
        print_json(report)
    else:
        _print_status(report)
    server = report["server"]
    if server["accepted"] is False:
        # The client's own message already says what the server did (HTTP 401/403).
        reason = server["error"] or ""
        if not reason.startswith("The server "):
            reason = f"The server rejected the credentials ({reason.rstrip('.')})."
        raise AuthError(reason)
    if not server["reachable"]:
        raise ServerError(f"Cannot check the credentials: {server['error']}")


def _print_status(report: dict[str, Any]) -> None:
    from daglab.commands._render import console, sanitize

    out = console()
    out.print(f"Target:       {sanitize(report['url'])}  (from {sanitize(report['url_source'])})")
    if report["profile"]:
        out.print(f"Profile:      {sanitize(report['profile'])}")
    out.print(f"Credentials:  {sanitize(report['source'])}")
    if report["type"] is not None:
        out.print(f"Auth type:    {report['type']}  ({sanitize(report['sends'])})")
    if report["username"]:
        out.print(f"Username:     {sanitize(report['username'])}")
    if report["token"]:
        label = "Password:" if report["type"] == "basic" else "Token:"
        line = f"{label:<13} {report['token']}"
        if report["token_expires_in"] is not None:
            line += f"  (expires in {_duration(report['token_expires_in'])})"
        out.print(line)
    if report["custom_headers"]:
        names = ", ".join(sanitize(n) for n in report["custom_headers"])
        out.print(f"Headers:      {names}  (values hidden)")
    server = report["server"]
    if server["accepted"]:
        version = f" (Dagster {sanitize(server['version'])})" if server["version"] else ""
        verdict = "accepts the credentials" if report["type"] else "answers without credentials"
        out.print(f"Server:       {verdict}{version}")
    elif server["accepted"] is False:
        out.print("Server:       rejects the credentials")
    else:
        out.print("Server:       not reachable")


def _duration(seconds: int) -> str:
    if seconds < 0:
        return "0s (expired)"
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


@app.command("login")
@with_global_options
def login(
    opts: GlobalOptions,
    with_token: Annotated[
        bool,
        typer.Option("--with-token", help="Read the token from standard input."),
    ] = False,
) -> None:
    """Store a token for the current target (a profile, or else the server URL).

    The token goes into the OS keyring when one answers within 2 seconds (install
    daglab[keyring]), else into $XDG_CONFIG_HOME/daglab/credentials.toml, readable only
    by you (DAGLAB_KEYRING=0 skips the keyring). `--auth-type header` sends it in
    DAGLAB_AUTH_HEADER or Dagster-Cloud-Api-Token.
    """
    from daglab.helpers.auth import DAGSTER_CLOUD_HEADER, credential_key, store_token
    from daglab.helpers.errors import BadInputError
    from daglab.helpers.settings import config_path, env_value, load_config_file

    if opts.auth_token:
        raise BadInputError(
            "daglab auth login reads the token from a prompt or stdin, not --auth-token.",
            hint="For example: daglab auth login --with-token < token.txt",
        )
    settings = opts.settings()
    key = credential_key(settings.profile, settings.url)
    auth_type = opts.auth_type
    header_name = env_value("DAGLAB_AUTH_HEADER")
    if settings.profile is not None:
        profiles = load_config_file(config_path()).get("profiles", {})
        table = profiles.get(settings.profile, {}).get("auth", {})
        if isinstance(table, dict):
            auth_type = auth_type or table.get("type")
            header_name = header_name or table.get("header_name")
    auth_type = auth_type or "bearer"
    if auth_type not in ("bearer", "header"):
        raise BadInputError("daglab auth login stores a token for bearer or header auth.")
    token = _read_token(with_token)
    stored = store_token(
        key,
        token,
        auth_type=auth_type,
        header_name=header_name or DAGSTER_CLOUD_HEADER,
    )
    what = f"profile {settings.profile!r}" if settings.profile else settings.url
    if stored.storage == "keyring":
        err(f"Stored the token for {what} in the system keyring.")
    else:
        err(
            f"Warning: no working keyring here; stored the token for {what} in "
            f"{stored.path} (readable only by you)."
        )
    if settings.auth is not None and not settings.auth.source.startswith("daglab auth login"):
        err(f"Note: {settings.auth.source} takes precedence over the stored token.")
    if opts.json:
        print_json({"key": stored.key, "storage": stored.storage, "path": str(stored.path)})


def _read_token(with_token: bool) -> str:
    from daglab.helpers.errors import BadInputError

    if with_token:
        token = sys.stdin.readline().strip()
    else:
        if not sys.stdin.isatty():
            raise BadInputError(
                "No terminal to prompt for the token.",
                hint="Pipe it in with --with-token: daglab auth login --with-token < token.txt",
            )
        token = typer.prompt("Token", hide_input=True).strip()
    if not token:
        raise BadInputError("No token given.")
    from daglab.helpers.auth import register_secret

    register_secret(token)
    return token


@app.command("logout")
@with_global_options
def logout(opts: GlobalOptions) -> None:
    """Forget the token `daglab auth login` stored for the current target."""
    from daglab.helpers.auth import credential_key, delete_stored_token

    settings = opts.settings()
    key = credential_key(settings.profile, settings.url)
    removed = delete_stored_token(key)
    what = f"profile {settings.profile!r}" if settings.profile else settings.url
    if opts.json:
        print_json({"key": key, "removed": removed})
    elif removed:
        err(f"Removed the stored token for {what}.")
    else:
        err(f"No stored token for {what}.")
