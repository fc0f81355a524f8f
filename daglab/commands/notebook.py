"""``daglab notebook``: list the notebook templates and generate notebooks from them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from daglab.commands._options import err, out, print_json

app = typer.Typer(
    help="Generate Jupyter notebooks that use the daglab helpers.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


@app.command("list")
def list_templates(
    json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
) -> None:
    """List the notebook templates, one line each."""
    from daglab.notebooks import OPTION_FLAGS, TEMPLATES

    if json:
        print_json(
            [
                {
                    "name": t.name,
                    "summary": t.summary,
                    "options": [OPTION_FLAGS[o] for o in t.options],
                    "required": [[OPTION_FLAGS[o] for o in group] for group in t.required],
                }
                for t in TEMPLATES.values()
            ]
        )
        return
    width = max(len(name) for name in TEMPLATES)
    for template in TEMPLATES.values():
        out(f"{template.name.ljust(width)}  {template.summary}")


@app.command("create")
def create(
    path: Annotated[Path, typer.Argument(help="Where to write the notebook (.ipynb).")],
    template: Annotated[
        str,
        typer.Option("--template", "-t", help="Template name (see `daglab notebook list`)."),
    ],
    job: Annotated[
        str | None, typer.Option("--job", help="Job for the run-job and performance templates.")
    ] = None,
    asset_pattern: Annotated[
        str | None,
        typer.Option("--asset-pattern", help='Glob on asset keys, e.g. "orders/*".'),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option("--select", help='Asset selection, e.g. "group:orders+".'),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="Profile name the notebook connects with (only the name is written).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the file if it exists.")
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
) -> None:
    """Write a notebook from a template: a parameters cell with your choices, then the helpers
    that connect, discover, run and report. No credentials are written into it."""
    from daglab.helpers.checks import safe_output_path
    from daglab.helpers.errors import BadInputError
    from daglab.notebooks import NotebookError, NotebookOptions, write_notebook

    path = safe_output_path(path)
    options = NotebookOptions(job=job, asset_pattern=asset_pattern, select=select, profile=profile)
    try:
        written = write_notebook(path, template, options, force=force)
    except NotebookError as exc:
        raise BadInputError(exc.message, hint=exc.hint) from None
    except OSError as exc:
        raise BadInputError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    if profile is not None:
        _warn_unknown_profile(profile)
    if json:
        print_json({"path": str(written), "template": template, **options.given()})
    else:
        out(f"Wrote {written} (template {template}).")
        err(_open_hint(written))


def _open_hint(written: Path) -> str:
    """How to open the notebook: with JupyterLab if it is installed here (on PATH or beside
    this Python), else how to install it first."""
    import shlex
    import shutil
    import sys

    beside = Path(sys.executable).parent / "jupyter-lab"
    command = f"jupyter lab {shlex.quote(str(written))}"
    if shutil.which("jupyter-lab") or beside.exists():
        return f"Open it with: {command}"
    return f"JupyterLab is not installed here: pip install jupyterlab, then open it with: {command}"


def _warn_unknown_profile(name: str) -> None:
    """A profile that is not in this machine's config is allowed (the notebook may run
    elsewhere), but worth a note."""
    from daglab.helpers.errors import DaglabError
    from daglab.helpers.settings import config_path, load_config_file

    try:
        profiles = load_config_file(config_path()).get("profiles", {})
    except DaglabError:
        return
    if not isinstance(profiles, dict) or name not in profiles:
        err(f"Note: no profile named {name!r} in {config_path()}; the notebook will need it.")
