"""``daglab dev``: a local Dagster server for trying daglab out, in the background.

Only typer and the standard library are imported at module level; the harness loads when a
command runs. Failures are raised as DaglabErrors (the harness's own, or BadInputError);
``cli.py`` reports them and sets the exit code.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from daglab.commands._options import err, out, print_json

app = typer.Typer(
    help="Run a local Dagster server (the fixture project, or yours) for daglab to talk to.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


def _uptime(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


@app.command()
def up(
    project_dir: Annotated[
        Path | None,
        typer.Argument(
            help="A directory with a workspace.yaml, or the workspace file itself "
            "(default: daglab's fixture project).",
            show_default=False,
        ),
    ] = None,
    dagster_version: Annotated[
        str | None,
        typer.Option(
            "--dagster-version",
            help="Dagster minor version to run, e.g. 1.9 (default: the newest supported).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", help="Port to listen on (default: a free one).", show_default=False),
    ] = None,
    foreground: Annotated[
        bool,
        typer.Option("--foreground", help="Stay attached and stop the server on Ctrl-C."),
    ] = False,
    shape: Annotated[
        str,
        typer.Option(
            "--shape",
            help="local: code loaded by the webserver, SQLite. prod: PostgreSQL, one gRPC code "
            "server per location, a run queue with limits, the webserver under /dagster.",
        ),
    ] = "local",
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
) -> None:
    """Start dagster-webserver + dagster-daemon in the background and print the URL."""
    from daglab.harness import devserver
    from daglab.harness.envs import NEWEST, cache_dir, env_ready, normalize_minor
    from daglab.helpers.errors import BadInputError

    minor = normalize_minor(dagster_version or NEWEST)  # UnsupportedVersionError: exit 2
    workspace = devserver.find_workspace(project_dir)  # WorkspaceNotFoundError: exit 2
    if shape not in ("local", "prod"):
        raise BadInputError(f"--shape must be local or prod, not {shape!r}.")
    if shape == "prod":
        from daglab.harness.postgres import find_bindir

        find_bindir()  # PostgresNotFoundError (exit 3) before anything starts
    if port is not None and not 0 < port < 65536:
        raise BadInputError(f"--port must be between 1 and 65535, not {port}.")

    running = devserver.running_state()
    if running is not None:
        if (
            running.get("workspace") == str(workspace)
            and running.get("minor") == minor
            and running.get("shape", "local") == shape
        ):
            err(f"A dev server already runs Dagster {running.get('version')} on this project.")
            _print_url(running, json_output, started=False)
            return
        raise BadInputError(
            f"a dev server already runs at {running['url']} "
            f"(Dagster {running.get('version')}, {running.get('workspace')}).",
            hint="Stop it first with: daglab dev down",
        )

    if not env_ready(minor):
        err(f"Installing Dagster {minor} into {cache_dir()} (once; takes a minute) ...")
    err(f"Starting Dagster {minor} ({shape} shape) on {workspace} ...")
    if foreground:
        log_dir = devserver.new_log_dir()
        err(f"Logs: {log_dir}. Press Ctrl-C to stop.")
        devserver.serve(workspace, minor, port, log_dir, foreground=True, shape=shape)  # exit 3
        if json_output:
            print_json({"stopped": True, "foreground": True})
        return
    state = devserver.start_background(workspace, minor, port, shape)  # DevServerError: exit 3
    for name, message in (state.get("failed_locations") or {}).items():
        err(f"Warning: code location {name!r} failed to load: {message.splitlines()[0]}")
    err(
        f"Dagster {state['version']} ready in {state.get('startup_seconds')}s; "
        f"logs in {state['log_dir']}. Stop it with: daglab dev down"
    )
    _print_url(state, json_output, started=True)


def _print_url(state: dict[str, Any], json_output: bool, *, started: bool) -> None:
    """The URL on stdout (what scripts read), or with ``--json`` the server's document."""
    if json_output:
        print_json({**_status_doc(state), "started": started})
    else:
        out(state["url"])


def _status_doc(state: dict[str, Any] | None) -> dict[str, Any]:
    if state is None:
        return {"running": False}
    from daglab.harness import devserver

    doc = dict(state)
    doc["running"] = True
    doc["uptime_seconds"] = round(time.time() - float(state.get("started_at", time.time())), 1)
    doc["pids"] = devserver.state_pids(state)
    return doc


@app.command()
def status(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
) -> None:
    """Show the running dev server (URL, version, PIDs, uptime), if any."""
    from daglab.harness import devserver

    doc = _status_doc(devserver.running_state())
    if json_output:
        print_json(dict(sorted(doc.items())))
        return
    if not doc["running"]:
        out("No daglab dev server is running. Start one with: daglab dev up")
        return
    rows = [
        ("URL", doc["url"]),
        ("Dagster", doc.get("version", "?")),
        ("Shape", doc.get("shape", "local")),
        ("Workspace", doc.get("workspace", "?")),
        ("Uptime", _uptime(doc["uptime_seconds"])),
        ("PIDs", " ".join(str(p) for p in doc["pids"])),
        ("Logs", doc.get("log_dir", "?")),
    ]
    if doc.get("shape") == "prod":
        rows.append(
            ("Postgres", f"127.0.0.1:{doc.get('postgres_port')} (pid {doc.get('postgres_pid')})")
        )
        for name, cs in (doc.get("code_servers") or {}).items():
            rows.append(
                ("Code", f"{name}: grpc {cs.get('host')}:{cs.get('port')} (pid {cs.get('pid')})")
            )
    for label, value in rows:
        out(f"{label + ':':<11}{value}")
    for name, message in (doc.get("failed_locations") or {}).items():
        out(f"{'Failed:':<11}{name}: {message.splitlines()[0]}")


@app.command()
def down(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
) -> None:
    """Stop the dev server and every process it started.

    Its run history goes with it: the server keeps it in a temporary DAGSTER_HOME, which is
    deleted.
    """
    from daglab.harness import devserver
    from daglab.harness.errors import DevServerError

    state = devserver.read_raw_state()
    if state is None:
        _say("No daglab dev server is running.", json_output, {"stopped": False, "url": None})
        return
    running = devserver.running_state() is not None
    left = devserver.stop_state(state)
    if left:
        raise DevServerError(f"these processes of the dev server did not stop: {left}")
    doc = {"stopped": running, "url": state.get("url")}
    if running:
        _say(f"Stopped the dev server at {state.get('url')}.", json_output, doc)
    else:
        _say("No daglab dev server was running; removed its stale state.", json_output, doc)


def _say(line: str, json_output: bool, doc: dict[str, Any]) -> None:
    """``line`` for a person on stdout, or, with ``--json``, on stderr and ``doc`` on stdout."""
    if json_output:
        err(line)
        print_json(doc)
    else:
        out(line)
