"""The architecture as written down matches the tree: every module of the library sits on a
floor of the import-linter contract (so none escapes the layering), and docs/architecture.md
names exactly the modules that exist."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
HELPERS = REPO / "daglab" / "helpers"


def _library_modules() -> set[str]:
    """The modules and packages directly in daglab/helpers (``runs`` for ``runs/``)."""
    names = {p.stem for p in HELPERS.glob("*.py") if p.stem != "__init__"}
    names |= {p.name for p in HELPERS.iterdir() if (p / "__init__.py").exists()}
    return names


def _floors() -> list[set[str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c.get("containers") == ["daglab.helpers"]]
    return [{name.strip() for name in re.split(r"[|:]", floor)} for floor in layers]


def test_every_library_module_is_on_a_floor_of_the_layers_contract() -> None:
    on_floors = set().union(*_floors())
    assert on_floors == _library_modules(), (
        "add new modules to the layers contract in pyproject.toml, on their floor"
    )


def test_each_module_is_on_one_floor_only() -> None:
    floors = _floors()
    assert sum(len(f) for f in floors) == len(set().union(*floors))


def test_docs_architecture_names_the_modules_that_exist() -> None:
    text = (REPO / "docs" / "architecture.md").read_text()
    table = text.split("## The library's floors")[1].split("### ")[0]
    named: set[str] = set()
    for row in table.splitlines():
        if not row.startswith("|") or "---" in row:
            continue
        cells = row.split("|")
        if len(cells) < 3:
            continue
        cell = cells[2]
        for package, inside in re.findall(r"`([a-z_]+)/` \(([^)]*)\)", cell):
            submodules = {p.stem for p in (HELPERS / package).glob("*.py")} - {"__init__"}
            assert set(re.findall(r"`([a-z_]+)`", inside)) == submodules, package
        named |= set(re.findall(r"`([a-z_]+)/?`", re.sub(r"\([^)]*\)", "", cell)))
    assert named - {"__init__"} == _library_modules()


def test_docs_architecture_names_the_packages_that_exist() -> None:
    text = (REPO / "docs" / "architecture.md").read_text()
    packages = {p.name for p in (REPO / "daglab").iterdir() if (p / "__init__.py").exists()}
    for package in packages:
        assert f"{package}/" in text, package


def _import_circles() -> list[list[str]]:
    """Every set of daglab modules that import each other round (strongly connected, size > 1),
    counting every import grimp sees: TYPE_CHECKING ones and a package's own ``__init__``
    too (import-linter's acyclic_siblings contract does not look between a package and its
    children)."""
    import grimp

    graph = grimp.build_graph("daglab")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circle_between_any_two_modules() -> None:
    assert _import_circles() == []
