"""Notebook generation: valid nbformat v4, deterministic, parameterized, no secrets; and the
``daglab notebook`` command."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from daglab.notebooks import (
    TEMPLATES,
    NotebookError,
    NotebookOptions,
    build_notebook,
    render_notebook,
)
from tests.conftest import run_cli

OPTIONS: dict[str, NotebookOptions] = {
    "explore": NotebookOptions(asset_pattern="orders/*"),
    "run-job": NotebookOptions(job="orders_job"),
    "assets": NotebookOptions(asset_pattern="orders/*"),
    "performance": NotebookOptions(job="orders_job"),
}


def _code(cell: dict[str, Any]) -> str:
    return "".join(cell["source"])


def _parameters(notebook: dict[str, Any]) -> dict[str, Any]:
    [cell] = [c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", [])]
    values: dict[str, Any] = {}
    for node in ast.parse(_code(cell)).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds only assignments"
        values[node.targets[0].id] = ast.literal_eval(node.value)  # type: ignore[attr-defined]
    return values


def test_the_four_templates_exist() -> None:
    assert {"explore", "run-job", "assets", "performance"} <= set(TEMPLATES)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_each_template_is_a_valid_nbformat_v4_notebook(name: str) -> None:
    notebook = build_notebook(name, OPTIONS[name])
    node = nbformat.reads(render_notebook(notebook), as_version=4)
    nbformat.validate(node)
    assert (node.nbformat, node.nbformat_minor) == (4, 5)
    assert node.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_generation_is_deterministic_with_unique_ids(name: str) -> None:
    first = render_notebook(build_notebook(name, OPTIONS[name]))
    second = render_notebook(build_notebook(name, OPTIONS[name]))
    assert first == second
    ids = [cell["id"] for cell in json.loads(first)["cells"]]
    assert len(ids) == len(set(ids))
    assert all(cell_id.startswith(f"{name}-") for cell_id in ids)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_exactly_one_parameters_cell_and_it_comes_early(name: str) -> None:
    notebook = build_notebook(name, OPTIONS[name])
    tagged = [
        i for i, c in enumerate(notebook["cells"]) if "parameters" in c["metadata"].get("tags", [])
    ]
    assert len(tagged) == 1 and tagged[0] <= 2
    assert "PROFILE" in _parameters(notebook)


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_every_code_cell_compiles(name: str) -> None:
    for cell in build_notebook(name, OPTIONS[name])["cells"]:
        if cell["cell_type"] == "code":
            compile(_code(cell), cell["id"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        assert not cell.get("outputs")


def test_options_land_in_the_parameters_cell() -> None:
    params = _parameters(
        build_notebook("assets", NotebookOptions(select="group:orders+", profile="prod"))
    )
    assert params["SELECT"] == "group:orders+"
    assert params["ASSET_PATTERN"] is None
    assert params["PROFILE"] == "prod"
    assert (
        _parameters(build_notebook("run-job", NotebookOptions(job="config_job")))["JOB"]
        == "config_job"
    )


def test_option_text_can_never_become_code() -> None:
    hostile = 'x"; import os; os.system("echo pwned") #'
    notebook = build_notebook("run-job", NotebookOptions(job=hostile))
    assert _parameters(notebook)["JOB"] == hostile


def test_missing_required_options_are_refused() -> None:
    with pytest.raises(NotebookError, match="needs --job"):
        build_notebook("run-job")
    with pytest.raises(NotebookError, match="--asset-pattern or --select"):
        build_notebook("assets")


def test_options_a_template_does_not_use_are_refused() -> None:
    with pytest.raises(NotebookError, match="does not use --job"):
        build_notebook("explore", NotebookOptions(job="orders_job"))
    with pytest.raises(NotebookError, match="only one"):
        build_notebook("assets", NotebookOptions(asset_pattern="a/*", select="group:a"))


# -- the CLI ---------------------------------------------------------------------------------------


def test_list_prints_one_line_per_template(cli_env: dict[str, str]) -> None:
    result = run_cli("notebook", "list", env=cli_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(TEMPLATES)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_list_json_is_one_document(cli_env: dict[str, str]) -> None:
    result = run_cli("notebook", "list", "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert [t["name"] for t in doc] == list(TEMPLATES)
    assert {"name", "summary", "options", "required"} <= set(doc[0])


def test_create_writes_a_notebook(cli_env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "demo.ipynb"
    result = run_cli(
        "notebook",
        "create",
        str(target),
        "--template",
        "assets",
        "--asset-pattern",
        "orders/*",
        env=cli_env,
    )
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    node = nbformat.read(target, as_version=4)
    nbformat.validate(node)
    assert node.metadata.daglab.template == "assets"


def test_create_refuses_to_overwrite_without_force(cli_env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "demo.ipynb"
    target.write_text("mine")
    args = ("notebook", "create", str(target), "--template", "explore")
    refused = run_cli(*args, env=cli_env)
    assert refused.returncode == 2
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert target.read_text() == "mine"
    forced = run_cli(*args, "--force", env=cli_env)
    assert forced.returncode == 0, forced.stderr
    nbformat.validate(nbformat.read(target, as_version=4))


@pytest.mark.parametrize(
    "args,message",
    [
        (("--template", "nope"), "No notebook template named 'nope'"),
        (("--template", "run-job"), "needs --job"),
        (("--template", "explore", "--job", "orders_job"), "does not use --job"),
    ],
)
def test_create_bad_input_is_exit_2(
    cli_env: dict[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    target = tmp_path / "x.ipynb"
    result = run_cli("notebook", "create", str(target), *args, env=cli_env)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not target.exists()


def test_no_secret_is_written_into_the_notebook(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {
        **cli_env,
        "DAGLAB_TOKEN": "tok-very-secret-1",
        "DAGSTER_CLOUD_API_TOKEN": "user:tok-very-secret-2",
        "DAGLAB_URL": "https://secret-host.example/prod",
    }
    for name in OPTIONS:
        target = tmp_path / f"{name}.ipynb"
        extra = ["--job", "orders_job"] if name in ("run-job", "performance") else []
        if name in ("assets", "explore"):
            extra = ["--asset-pattern", "orders/*"]
        result = run_cli("notebook", "create", str(target), "--template", name, *extra, env=env)
        assert result.returncode == 0, result.stderr
        text = target.read_text()
        for secret in ("tok-very-secret", "secret-host"):
            assert secret not in text


def test_create_adds_the_ipynb_suffix(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli(
        "notebook",
        "create",
        str(tmp_path / "sub" / "demo"),
        "--template",
        "explore",
        "--json",
        env=cli_env,
    )
    assert result.returncode == 0, result.stderr
    assert result.json()["path"] == str(tmp_path / "sub" / "demo.ipynb")
    assert (tmp_path / "sub" / "demo.ipynb").exists()
