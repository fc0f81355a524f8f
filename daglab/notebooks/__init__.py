"""Notebook templates and the generator behind ``daglab notebook create``.

A notebook is built as plain nbformat v4.5 JSON (no nbformat import needed): cell ids are
derived from the template and the cell's role, so generating twice gives the same file; the
``parameters`` cell holds every choice made on the command line (papermill can override it);
nothing secret is written: the notebook connects at run time with the same resolution as the
CLI (environment, profile, ``daglab dev``, default), and only a profile *name* may be saved.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from daglab.notebooks.options import NotebookError, NotebookOptions
from daglab.notebooks.templates import TEMPLATES, Cell, Template

__all__ = [
    "TEMPLATES",
    "NotebookOptions",
    "Template",
    "build_notebook",
    "render_notebook",
    "template_names",
    "write_notebook",
]

NBFORMAT = 4
NBFORMAT_MINOR = 5


OPTION_FLAGS = {
    "job": "--job",
    "asset_pattern": "--asset-pattern",
    "select": "--select",
    "profile": "--profile",
}


def template_names() -> list[str]:
    return list(TEMPLATES)


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise NotebookError(
            f"No notebook template named {name!r}.",
            hint=f"Templates: {', '.join(TEMPLATES)} (see `daglab notebook list`).",
        ) from None


def check_options(template: Template, options: NotebookOptions) -> None:
    """Refuse options the template does not use, and missing required ones."""
    for name, value in options.given().items():
        if name not in template.options:
            uses = ", ".join(OPTION_FLAGS[o] for o in template.options) or "no options"
            raise NotebookError(
                f"The {template.name} template does not use {OPTION_FLAGS[name]}.",
                hint=f"It takes: {uses}.",
            )
        if not value.strip() or any(ch in value for ch in "\r\n\x00"):
            raise NotebookError(f"{OPTION_FLAGS[name]} must be a non-empty single line.")
    for group in template.required:
        if not any(getattr(options, name) for name in group):
            flags = " or ".join(OPTION_FLAGS[name] for name in group)
            raise NotebookError(
                f"The {template.name} template needs {flags}.",
                hint=template.required_hint,
            )
    exclusive = [name for name in template.exclusive if getattr(options, name)]
    if len(exclusive) > 1:
        raise NotebookError(
            f"Give only one of {' and '.join(OPTION_FLAGS[n] for n in exclusive)} "
            f"to the {template.name} template."
        )


def _cell(template: Template, cell: Cell) -> dict[str, Any]:
    source = cell.source.strip("\n")
    lines = source.splitlines(keepends=True)
    metadata: dict[str, Any] = {}
    if cell.tags:
        metadata["tags"] = list(cell.tags)
    out: dict[str, Any] = {
        "cell_type": cell.kind,
        "id": f"{template.name}-{cell.name}",
        "metadata": metadata,
        "source": lines,
    }
    if cell.kind == "code":
        out["execution_count"] = None
        out["outputs"] = []
    return out


def build_notebook(name: str, options: NotebookOptions | None = None) -> dict[str, Any]:
    """The notebook ``name`` as an nbformat v4.5 document (a dict)."""
    from daglab import __version__

    template = get_template(name)
    options = options or NotebookOptions()
    check_options(template, options)
    cells = template.build(options)
    ids = [c.name for c in cells]
    if len(set(ids)) != len(ids):  # pragma: no cover - a template bug
        raise AssertionError(f"duplicate cell names in template {name}")
    return {
        "cells": [_cell(template, c) for c in cells],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
            "daglab": {"template": template.name, "generated_by": f"daglab {__version__}"},
        },
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
    }


def render_notebook(notebook: Mapping[str, Any]) -> str:
    """The notebook as the JSON text Jupyter writes (sorted keys, one-space indent)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _validate(notebook: Mapping[str, Any]) -> None:
    """Check against the nbformat schema when nbformat is installed (the notebook extra)."""
    try:
        import nbformat
    except ImportError:
        return
    nbformat.validate(nbformat.from_dict(notebook))


def write_notebook(
    path: str | os.PathLike[str],
    name: str,
    options: NotebookOptions | None = None,
    *,
    force: bool = False,
) -> Path:
    """Write the notebook to ``path``; refuse to replace an existing file unless ``force``."""
    target = Path(path).expanduser()
    if target.suffix == "":
        target = target.with_suffix(".ipynb")
    elif target.suffix.lower() != ".ipynb":
        raise NotebookError(
            f"A notebook is a .ipynb file; {target.name} would not open as one in Jupyter.",
            hint=f"Name it {target.stem}.ipynb (or leave the suffix off).",
        )
    options = dataclasses.replace(options or NotebookOptions(), file_name=target.name)
    notebook = build_notebook(name, options)
    _validate(notebook)
    if target.is_dir():
        raise NotebookError(f"{target} is a directory.", hint="Give a file name like demo.ipynb.")
    if target.exists() and not force:
        raise NotebookError(f"{target} already exists.", hint="Pass --force to overwrite it.")
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_notebook(notebook)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
