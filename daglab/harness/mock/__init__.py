"""A strawberry mock of the Dagster GraphQL API, for what real Dagster cannot produce.

    from daglab.harness.mock import MockDagster

    mock = MockDagster()                      # in-process: DagsterClient(mock.url, transport=mock.transport())
    with MockDagster(prefix="/dagster") as m:  # over HTTP on a free 127.0.0.1 port: m.url
        m.require_bearer("s3cret")
        m.fail_next(503, retry_after=0.01)
        m.union_error("launchRun", "PythonError")

Needs the ``mock`` extra (strawberry-graphql, uvicorn).

Layout, lowest first: ``definitions`` (the fixture workspace), ``run_config`` (Dagster's
config checks), ``state`` (the run state machine), ``config`` (switches and record),
``schema/`` (the strawberry schema, one module per section), ``controls`` (MockControls:
what a test sets and reads), ``app`` (the ASGI app), ``server`` (MockDagster: serving).
"""

from daglab.harness.mock.config import (
    PROXY_HTML,
    Credential,
    Fault,
    LostResponse,
    MockConfig,
    OAuthClient,
    RecordedRequest,
    UnionError,
)
from daglab.harness.mock.records import RunRecord
from daglab.harness.mock.server import MockDagster, serve
from daglab.harness.mock.state import MockState, fixture_locations

__all__ = [
    "PROXY_HTML",
    "Credential",
    "Fault",
    "LostResponse",
    "MockConfig",
    "MockDagster",
    "MockState",
    "OAuthClient",
    "RecordedRequest",
    "RunRecord",
    "UnionError",
    "fixture_locations",
    "serve",
]
