"""Every GraphQL document daglab sends is valid on every Dagster version it may be sent to.

The SDL of each supported minor is in ``tests/schemas/dagster-<minor>.graphql`` (``nox -s
schemas`` refreshes them). Supporting a new minor is one line in
``daglab/harness/envs.py:SUPPORTED_VERSIONS`` plus its dumped SDL.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, build_schema, parse, validate

from daglab.harness.envs import SUPPORTED_VERSIONS
from daglab.helpers.queries import Document, all_documents

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def as_tuple(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest)


def sdl_path(minor: str) -> Path:
    return SCHEMAS / f"dagster-{minor}.graphql"


@cache
def dagster_schema(minor: str) -> GraphQLSchema:
    sdl = sdl_path(minor).read_text(encoding="utf-8")
    return build_schema(sdl, assume_valid_sdl=True)


def document_versions() -> list[tuple[Document, str]]:
    return [
        (doc, minor)
        for doc in all_documents()
        for minor in SUPPORTED_VERSIONS
        if doc.supports(as_tuple(minor))
    ]


@pytest.mark.parametrize("minor", SUPPORTED_VERSIONS)
def test_every_supported_version_has_an_sdl_file(minor: str) -> None:
    path = sdl_path(minor)
    assert path.is_file(), f"missing {path}; run `nox -s schemas -- {minor}`"
    header = path.read_text(encoding="utf-8").splitlines()[:2]
    assert all(line.startswith("#") for line in header), f"{path} lacks its two-line # header"


@pytest.mark.parametrize(
    ("document", "minor"),
    [pytest.param(doc, minor, id=f"{doc.name}@{minor}") for doc, minor in document_versions()],
)
def test_document_is_valid_on_version(document: Document, minor: str) -> None:
    errors = validate(dagster_schema(minor), parse(document.text))
    messages = "\n".join(f"  - {e.message}" for e in errors)
    assert not errors, f"{document.name} is invalid on Dagster {minor}:\n{messages}"


@pytest.mark.parametrize("minor", SUPPORTED_VERSIONS)
def test_document_names_are_unique_per_version(minor: str) -> None:
    names = Counter(doc.name for doc in all_documents() if doc.supports(as_tuple(minor)))
    duplicated = sorted(name for name, count in names.items() if count > 1)
    assert not duplicated, f"more than one document per name on {minor}: {duplicated}"


@pytest.mark.parametrize("document", all_documents(), ids=lambda d: d.name)
def test_document_holds_one_operation_named_like_it(document: Document) -> None:
    """The client sends ``operationName=document.name``; the server looks it up by that."""
    operations = [
        d for d in parse(document.text).definitions if isinstance(d, OperationDefinitionNode)
    ]
    assert len(operations) == 1
    assert operations[0].name is not None
    assert operations[0].name.value == document.name


@pytest.mark.parametrize("document", all_documents(), ids=lambda d: d.name)
def test_every_document_is_sent_to_some_supported_version(document: Document) -> None:
    assert any(document.supports(as_tuple(minor)) for minor in SUPPORTED_VERSIONS)
