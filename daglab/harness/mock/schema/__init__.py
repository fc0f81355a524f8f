"""A strawberry schema shaped like the parts of Dagster's (1.13) that daglab uses.

Every type, field, argument and nullability here matches ``tests/schemas/dagster-1.13.graphql``
(``tests/unit/test_mock.py`` checks that the mock is a structural subset of it), so a document
that validates here validates on Dagster. Fields daglab never asks for are left out.

The modules follow the schema's sections; each imports only modules on the rows above it
(or before it on its own row)::

    context  enums  errors  inputs          what every section uses
    workspace (with assets)  instance       the definitions, as Dagster shows them
    events  validation  runs  backfills     a run's event log, its config, the run, backfills
    forced  lookups                         what the resolvers share
    query  mutation  subscription           the roots, assembled into ``schema`` here
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig

from daglab.harness.mock.schema.context import MockContext
from daglab.harness.mock.schema.enums import RUN_CONFIG_DATA, RunConfigData
from daglab.harness.mock.schema.errors import ErrorChainLink
from daglab.harness.mock.schema.forced import build_error
from daglab.harness.mock.schema.mutation import Mutation
from daglab.harness.mock.schema.query import Query
from daglab.harness.mock.schema.subscription import Subscription
from daglab.harness.mock.schema.validation import (
    FieldNotDefinedConfigError,
    MissingFieldConfigError,
    RuntimeMismatchConfigError,
)
from daglab.harness.mock.schema.workspace import Job


class MockSchema(strawberry.Schema):
    """The schema, quiet: errors go to the client, not to the log."""

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        return None


def build_schema() -> MockSchema:
    return MockSchema(
        config=StrawberryConfig(scalar_map={RunConfigData: RUN_CONFIG_DATA}),
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Job,
            MissingFieldConfigError,
            RuntimeMismatchConfigError,
            FieldNotDefinedConfigError,
            ErrorChainLink,
        ],
    )


schema = build_schema()


__all__ = ["MockContext", "MockSchema", "build_error", "build_schema", "schema"]
