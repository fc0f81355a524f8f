"""A named GraphQL document, the Dagster minors it is valid on, and the choice between variants."""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int]

OLDEST: Version = (1, 7)


@dataclass(frozen=True)
class Document:
    """A named GraphQL document and the Dagster minor versions it is valid on (inclusive)."""

    name: str
    text: str
    min_version: Version = OLDEST
    max_version: Version | None = None

    def supports(self, version: Version) -> bool:
        if version < self.min_version:
            return False
        return self.max_version is None or version <= self.max_version

    @property
    def is_mutation(self) -> bool:
        return self.text.lstrip().startswith("mutation")


def pick(version: Version, *documents: Document) -> Document:
    """The first of ``documents`` valid on ``version``."""
    for doc in documents:
        if doc.supports(version):
            return doc
    raise LookupError(f"no document among {[d.name for d in documents]} supports {version}")
