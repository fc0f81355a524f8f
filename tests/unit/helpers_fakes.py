"""A tiny in-process stand-in for a Dagster GraphQL endpoint, and a clean helper session.

Used by the unit tests of the notebook helpers (``daglab.helpers``, ``.sync``, ``.state``):
they need a server that answers a handful of named operations, not a real Dagster. It
reaches the helpers through the test seam (``Session(transport=...)``, as
``connect(transport=...)`` does), not by replacing any of daglab's code.

Why not the strawberry mock (``daglab.harness.mock.MockDagster``): these tests assert on
data of their own that the mock's fixture project does not hold (exactly two jobs,
``orders_job`` with an HTML-bearing description, runs in any status a test sets, version
1.13.0), and on failures the mock cannot make (a transport that raises ``ConnectError``
on every request once a test says so).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest


class FakeDagster:
    """Answers daglab's named GraphQL operations from in-memory data; counts requests."""

    def __init__(self) -> None:
        self.version = "1.13.0"
        self.run_statuses: dict[str, str] = {}
        self.jobs = [
            {
                "name": "orders_job",
                "description": "Orders <b>",
                "tags": [{"key": "team", "value": "data"}],
            },
            {"name": "config_job", "description": None, "tags": []},
        ]
        self.requests: list[str] = []
        self.fail_with: type[Exception] | None = None
        self._lock = threading.Lock()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    @property
    def connections_opened(self) -> int:
        """How many clients the helper session holds (one pooled client per target and loop)."""
        from daglab.helpers import session

        clients = session.get_session()._clients
        return sum(len(per_loop) for per_loop in list(clients.values()))

    def handler(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            body = json.loads(request.content)
            name = body.get("operationName") or ""
            self.requests.append(name)
        if self.fail_with is not None:
            raise self.fail_with("fake failure", request=request)  # type: ignore[call-arg]
        method = getattr(self, f"op_{name}", None)
        if method is None:
            return httpx.Response(400, json={"errors": [{"message": f"unknown operation {name}"}]})
        return httpx.Response(200, json={"data": method(body.get("variables") or {})})

    def op_DaglabVersion(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {"version": self.version}

    def op_DaglabWorkspace(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {
            "workspaceOrError": {
                "__typename": "Workspace",
                "locationEntries": [
                    {
                        "name": "main",
                        "loadStatus": "LOADED",
                        "updatedTimestamp": 1.0,
                        "locationOrLoadError": {
                            "__typename": "RepositoryLocation",
                            "name": "main",
                            "repositories": [{"name": "__repository__"}],
                        },
                    }
                ],
            }
        }

    def op_DaglabJobs(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {
            "repositoriesOrError": {
                "__typename": "RepositoryConnection",
                "nodes": [
                    {
                        "name": "__repository__",
                        "location": {"name": "main"},
                        "pipelines": [
                            {**job, "isJob": True, "isAssetJob": False} for job in self.jobs
                        ],
                    }
                ],
            }
        }

    def op_DaglabRun(self, variables: dict[str, Any]) -> dict[str, Any]:
        run_id = variables["runId"]
        status = self.run_statuses.get(run_id)
        if status is None:
            return {"runOrError": {"__typename": "RunNotFoundError", "message": "no such run"}}
        return {
            "runOrError": {
                "__typename": "Run",
                "id": run_id,
                "runId": run_id,
                "status": status,
                "jobName": "orders_job",
                "creationTime": 1.0,
                "startTime": 2.0,
                "endTime": 5.0 if status in ("SUCCESS", "FAILURE", "CANCELED") else None,
                "tags": [],
                "assetSelection": None,
                "repositoryOrigin": {
                    "repositoryName": "__repository__",
                    "repositoryLocationName": "main",
                },
            }
        }


@pytest.fixture
def fresh_session(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A new helper session: no target, no state, no tracked performance, state file in
    tmp_path, and no connection settings leaking in from the developer's environment."""
    from daglab.helpers import performance, session, state

    for name in (
        "DAGLAB_URL",
        "DAGLAB_TOKEN",
        "DAGLAB_PROFILE",
        "DAGSTER_CLOUD_API_TOKEN",
        "DAGLAB_STATE_FILE",
        "JPY_SESSION_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(session, "_session", session.Session())
    state._replace(state.SessionState())
    state.set_path(None)
    performance.records.clear()
    yield
    state._replace(state.SessionState())
    state.set_path(None)
    performance.records.clear()


@pytest.fixture
def fake_dagster(monkeypatch: pytest.MonkeyPatch, fresh_session: None) -> FakeDagster:
    """The helper session talks to a FakeDagster (at http://dagster.test) through its
    transport."""
    from daglab.helpers import session

    fake = FakeDagster()
    monkeypatch.setattr(session, "_session", session.Session(transport=fake.transport()))
    monkeypatch.setenv("DAGLAB_URL", "http://dagster.test")
    return fake


def cli_in_process(
    capsys: pytest.CaptureFixture[str], transport: httpx.AsyncBaseTransport, *args: str
) -> tuple[int, str, str]:
    """``daglab ARGS`` in this process, every request sent through ``transport``: the exit
    code, stdout and stderr."""
    import signal

    from daglab import cli

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        cli.main(list(args), transport=transport)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        cli._options.state.transport = None
        for sig, handler in handlers.items():  # main() installs its own: give pytest back its
            signal.signal(sig, handler)
    out = capsys.readouterr()
    return code, out.out, out.err
