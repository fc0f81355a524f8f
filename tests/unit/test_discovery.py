"""Parsing of Dagster's answers into daglab models, per schema version, and ``discover``'s requests.

The fake ``data`` below mirrors what real servers sent for the fixture project (1.7.16 and
1.13.28), trimmed to the fields the documents ask for.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from daglab.helpers.discovery import (
    discover,
    discover_assets,
    discover_jobs,
    discover_locations,
    discover_repositories,
    is_implicit_asset_job,
    parse_assets,
    parse_jobs,
    parse_locations,
)
from daglab.helpers.errors import DagsterPythonError, GraphQLError, TargetNotFoundError
from daglab.helpers.graphql import DagsterClient
from daglab.helpers.models import AssetInfo

# -- fake server answers ------------------------------------------------------------------------


def node_1_7(path: list[str], **extra: Any) -> dict[str, Any]:
    """An AssetNode as DaglabAssets (1.7) returns it: isSource, computeKind, no kinds."""
    node = {
        "assetKey": {"path": path},
        "groupName": "default",
        "description": None,
        "computeKind": None,
        "tags": [],
        "isPartitioned": False,
        "partitionDefinition": None,
        "isExecutable": True,
        "isObservable": False,
        "jobNames": ["__ASSET_JOB"],
        "dependencyKeys": [],
        "isSource": False,
    }
    node.update(extra)
    return node


def node_1_8(path: list[str], **extra: Any) -> dict[str, Any]:
    """An AssetNode as DaglabAssets (1.8+) returns it: isMaterializable and kinds."""
    node = node_1_7(path)
    del node["isSource"]
    node.update(isMaterializable=True, kinds=[])
    node.update(extra)
    return node


def repositories(*repos: tuple[str, str, str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "repositoriesOrError": {
            "__typename": "RepositoryConnection",
            "nodes": [
                {"name": name, "location": {"name": location}, field: items}
                for name, location, field, items in repos
            ],
        }
    }


ASSETS_1_7 = repositories(
    (
        "__repository__",
        "main",
        "assetNodes",
        [
            node_1_7(
                ["orders", "cleaned_orders"],
                groupName="orders",
                description="Orders with duplicates and test orders removed.",
                computeKind="pandas",
                tags=[{"key": "domain", "value": "sales"}, {"key": "tier", "value": "silver"}],
                jobNames=["__ASSET_JOB_0", "orders_job"],
                dependencyKeys=[{"path": ["orders", "raw_orders"]}],
            ),
            node_1_7(
                ["events", "daily_events"],
                groupName="events",
                isPartitioned=True,
                partitionDefinition={
                    "type": "TIME_WINDOW",
                    "description": "Daily, starting 2024-01-01 UTC.",
                },
                jobNames=["__ASSET_JOB_1"],
            ),
            node_1_7(["ext", "source"], isSource=True, isExecutable=False, jobNames=[]),
        ],
    )
)

ASSETS_1_13 = repositories(
    (
        "__repository__",
        "main",
        "assetNodes",
        [
            node_1_8(
                ["customers", "customer_ltv"],
                groupName="reporting",
                description="Lifetime value per customer.",
                tags=[{"key": "domain", "value": "crm"}, {"key": "tier", "value": "gold"}],
                dependencyKeys=[
                    {"path": ["customers", "raw_customers"]},
                    {"path": ["orders", "cleaned_orders"]},
                ],
            ),
            node_1_8(
                ["orders", "cleaned_orders"],
                groupName="orders",
                computeKind="pandas",
                kinds=["pandas"],
                jobNames=["__ASSET_JOB", "orders_job"],
            ),
            node_1_8(
                ["lake", "table"],
                kinds=["snowflake", "dbt"],
                tags=[{"key": "dagster/kind/snowflake", "value": ""}],
                isMaterializable=False,
                isExecutable=False,
                jobNames=[],
            ),
        ],
    ),
    (
        "__repository__",
        "analytics",
        "assetNodes",
        [
            node_1_8(
                ["analytics", "daily_report"],
                groupName="analytics",
                jobNames=["__ASSET_JOB", "analytics_job"],
            )
        ],
    ),
)

JOBS = repositories(
    (
        "__repository__",
        "main",
        "pipelines",
        [
            {
                "name": "__ASSET_JOB",
                "description": None,
                "isJob": True,
                "isAssetJob": True,
                "tags": [],
            },
            {
                "name": "__ASSET_JOB_0",
                "description": None,
                "isJob": True,
                "isAssetJob": True,
                "tags": [],
            },
            {
                "name": "orders_job",
                "description": "Materializes the three orders/* assets.",
                "isJob": True,
                "isAssetJob": True,
                "tags": [],
            },
            {
                "name": "tagged_job",
                "description": "A job with definition tags.",
                "isJob": True,
                "isAssetJob": False,
                "tags": [{"key": "priority", "value": "high"}, {"key": "team", "value": "data"}],
            },
        ],
    ),
    (
        "__repository__",
        "analytics",
        "pipelines",
        [
            {
                "name": "shared_job",
                "description": None,
                "isJob": True,
                "isAssetJob": False,
                "tags": [],
            }
        ],
    ),
)

WORKSPACE = {
    "workspaceOrError": {
        "__typename": "Workspace",
        "locationEntries": [
            {
                "name": "main",
                "loadStatus": "LOADED",
                "updatedTimestamp": 1700000000.5,
                "locationOrLoadError": {
                    "__typename": "RepositoryLocation",
                    "name": "main",
                    "repositories": [{"name": "__repository__"}],
                },
            },
            {
                "name": "broken",
                "loadStatus": "LOADED",
                "updatedTimestamp": 1700000001.0,
                "locationOrLoadError": {
                    "__typename": "PythonError",
                    "message": "dagster._core.errors.DagsterUserCodeUnreachableError: ...\nImportError: broken on purpose\n",
                    "className": "DagsterUserCodeUnreachableError",
                },
            },
            {
                "name": "analytics",
                "loadStatus": "LOADED",
                "updatedTimestamp": 1700000002.0,
                "locationOrLoadError": {
                    "__typename": "RepositoryLocation",
                    "name": "analytics",
                    "repositories": [{"name": "__repository__"}, {"name": "extra_repo"}],
                },
            },
        ],
    }
}


# -- parsing ------------------------------------------------------------------------------------


def by_key(assets: list[AssetInfo]) -> dict[str, AssetInfo]:
    return {a.key: a for a in assets}


def test_assets_from_1_7_take_kinds_from_compute_kind_and_materializable_from_is_source() -> None:
    assets = by_key(parse_assets(ASSETS_1_7))
    cleaned = assets["orders/cleaned_orders"]
    assert cleaned == AssetInfo(
        key="orders/cleaned_orders",
        path=["orders", "cleaned_orders"],
        group="orders",
        repository="__repository__",
        location="main",
        description="Orders with duplicates and test orders removed.",
        tags={"domain": "sales", "tier": "silver"},
        kinds=["pandas"],
        partitioned=False,
        partitions=None,
        materializable=True,
        deps=["orders/raw_orders"],
        jobs=["orders_job"],
        implicit_jobs=["__ASSET_JOB_0"],
    )
    assert assets["events/daily_events"].kinds == []
    assert assets["ext/source"].materializable is False


def test_partitioned_asset_carries_its_definition_in_words() -> None:
    events = by_key(parse_assets(ASSETS_1_7))["events/daily_events"]
    assert events.partitioned is True
    assert events.partitions == "Daily, starting 2024-01-01 UTC."
    assert events.jobs == []
    assert events.implicit_jobs == ["__ASSET_JOB_1"]


def test_assets_from_1_8_on_use_kinds_and_is_materializable() -> None:
    assets = by_key(parse_assets(ASSETS_1_13))
    assert list(assets) == [
        "customers/customer_ltv",
        "orders/cleaned_orders",
        "lake/table",
        "analytics/daily_report",
    ]
    ltv = assets["customers/customer_ltv"]
    assert ltv.path == ["customers", "customer_ltv"]
    assert ltv.group == "reporting"
    assert ltv.tags == {"domain": "crm", "tier": "gold"}
    assert ltv.kinds == []
    assert ltv.deps == ["customers/raw_customers", "orders/cleaned_orders"]
    assert ltv.jobs == [] and ltv.implicit_jobs == ["__ASSET_JOB"]
    assert assets["orders/cleaned_orders"].kinds == ["pandas"]
    assert assets["orders/cleaned_orders"].jobs == ["orders_job"]
    lake = assets["lake/table"]
    assert lake.kinds == ["snowflake", "dbt"]
    assert lake.tags == {"dagster/kind/snowflake": ""}
    assert lake.materializable is False
    report = assets["analytics/daily_report"]
    assert (report.location, report.repository) == ("analytics", "__repository__")
    assert report.jobs == ["analytics_job"]


def test_asset_json_has_the_documented_keys() -> None:
    row = parse_assets(ASSETS_1_13)[0].to_json()
    assert {
        "key",
        "path",
        "group",
        "location",
        "repository",
        "tags",
        "kinds",
        "description",
        "partitioned",
        "deps",
        "jobs",
    } <= set(row)
    assert json.loads(json.dumps(row)) == row


def test_jobs_leave_out_implicit_asset_jobs() -> None:
    jobs = parse_jobs(JOBS)
    assert [(j.location, j.name) for j in jobs] == [
        ("main", "orders_job"),
        ("main", "tagged_job"),
        ("analytics", "shared_job"),
    ]
    tagged = jobs[1]
    assert tagged.tags == {"priority": "high", "team": "data"}
    assert tagged.description == "A job with definition tags."
    assert tagged.is_asset_job is False and jobs[0].is_asset_job is True


@pytest.mark.parametrize(
    ("name", "implicit"),
    [
        ("__ASSET_JOB", True),
        ("__ASSET_JOB_0", True),
        ("__ASSET_JOB_12", True),
        ("orders_job", False),
        ("ASSET_JOB", False),
    ],
)
def test_implicit_asset_job_names(name: str, implicit: bool) -> None:
    assert is_implicit_asset_job(name) is implicit


def test_a_location_that_failed_to_load_carries_its_error() -> None:
    locations = {loc.name: loc for loc in parse_locations(WORKSPACE)}
    assert list(locations) == ["main", "broken", "analytics"]
    broken = locations["broken"]
    assert broken.load_status == "FAILED" and broken.loaded is False
    assert broken.repositories == []
    assert broken.error is not None and "ImportError: broken on purpose" in broken.error
    assert broken.error_class == "DagsterUserCodeUnreachableError"
    assert locations["main"].loaded and locations["main"].error is None
    assert locations["analytics"].repositories == ["__repository__", "extra_repo"]


def test_a_python_error_instead_of_repositories_is_raised() -> None:
    data = {
        "repositoriesOrError": {"__typename": "PythonError", "message": "boom", "className": "X"}
    }
    with pytest.raises(DagsterPythonError, match="boom"):
        parse_assets(data)


# -- requests against a fake server -------------------------------------------------------------


class FakeServer:
    """Answers daglab's documents by operation name, and records what was sent."""

    def __init__(self, version: str, assets: dict[str, Any]) -> None:
        self.version = version
        self.assets = assets
        self.sent: list[str] = []
        self.documents: dict[str, str] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        name = body["operationName"]
        self.sent.append(name)
        self.documents[name] = body["query"]
        if self.version.startswith("1.7.") and "isMaterializable" in body["query"]:
            # What Dagster 1.7 answers to a field its schema lacks (research §1).
            message = "Cannot query field 'isMaterializable' on type 'AssetNode'."
            return httpx.Response(400, json={"data": None, "errors": [{"message": message}]})
        data = {
            "DaglabVersion": {"version": self.version},
            "DaglabWorkspace": WORKSPACE,
            "DaglabJobs": JOBS,
            "DaglabAssets": self.assets,
        }[name]
        return httpx.Response(200, json={"data": data})

    def client(self) -> DagsterClient:
        return DagsterClient("http://dagster.test", transport=httpx.MockTransport(self.handler))


async def test_assets_on_1_7_are_asked_with_the_1_7_document() -> None:
    server = FakeServer("1.7.16", ASSETS_1_7)
    async with server.client() as client:
        assets = await discover_assets(client)
    assert [a.key for a in assets] == ["orders/cleaned_orders", "events/daily_events", "ext/source"]
    # The newest document went out first, beside the version query; 1.7 rejected it.
    assert sorted(server.sent) == ["DaglabAssets", "DaglabAssets", "DaglabVersion"]
    assert server.sent[-1] == "DaglabAssets"
    assert "isSource" in server.documents["DaglabAssets"]
    assert "kinds" not in server.documents["DaglabAssets"]


async def test_assets_on_a_server_of_known_version_need_no_second_try() -> None:
    server = FakeServer("1.7.16", ASSETS_1_7)
    async with server.client() as client:
        await client.server_version()
        await discover_assets(client)
    assert server.sent == ["DaglabVersion", "DaglabAssets"]
    assert "isSource" in server.documents["DaglabAssets"]


async def test_assets_rejected_for_another_reason_are_not_asked_again() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        name = json.loads(request.content)["operationName"]
        sent.append(name)
        if name == "DaglabVersion":
            return httpx.Response(200, json={"data": {"version": "1.13.28"}})
        message = "Variable '$x' is never used."
        return httpx.Response(400, json={"data": None, "errors": [{"message": message}]})

    sent: list[str] = []
    transport = httpx.MockTransport(handler)
    async with DagsterClient("http://dagster.test", transport=transport) as client:
        with pytest.raises(GraphQLError, match="never used"):
            await discover_assets(client)
    assert sorted(sent) == ["DaglabAssets", "DaglabVersion"]


async def test_assets_on_1_13_are_asked_with_the_1_8_document() -> None:
    server = FakeServer("1.13.28", ASSETS_1_13)
    async with server.client() as client:
        assets = await discover_assets(client, location="analytics")
    assert [a.key for a in assets] == ["analytics/daily_report"]
    assert "isMaterializable" in server.documents["DaglabAssets"]
    assert "isSource" not in server.documents["DaglabAssets"]


async def test_jobs_repositories_and_locations_narrowed_by_location() -> None:
    server = FakeServer("1.13.28", ASSETS_1_13)
    async with server.client() as client:
        jobs = await discover_jobs(client, location="analytics")
        repos = await discover_repositories(client, location="analytics", repository="extra_repo")
        locations = await discover_locations(client, location="broken")
    assert [(j.location, j.name) for j in jobs] == [("analytics", "shared_job")]
    assert [(r.location, r.name) for r in repos] == [("analytics", "extra_repo")]
    assert [loc.name for loc in locations] == ["broken"]


async def test_discover_fetches_only_the_types_asked_for_plus_locations() -> None:
    server = FakeServer("1.13.28", ASSETS_1_13)
    async with server.client() as client:
        found = await discover(client, ["jobs"])
    assert sorted(server.sent) == ["DaglabJobs", "DaglabWorkspace"]
    assert found.assets is None and found.repositories is None
    assert [j.name for j in found.jobs or []] == ["orders_job", "tagged_job", "shared_job"]
    assert [loc.name for loc in found.failed_locations] == ["broken"]


async def test_discover_everything_in_one_request_per_type() -> None:
    server = FakeServer("1.13.28", ASSETS_1_13)
    async with server.client() as client:
        found = await discover(client)
    assert sorted(server.sent) == ["DaglabAssets", "DaglabJobs", "DaglabVersion", "DaglabWorkspace"]
    assert [(r.location, r.name) for r in found.repositories or []] == [
        ("main", "__repository__"),
        ("analytics", "__repository__"),
        ("analytics", "extra_repo"),
    ]


async def test_discover_an_unknown_location_is_target_not_found() -> None:
    server = FakeServer("1.13.28", ASSETS_1_13)
    async with server.client() as client:
        with pytest.raises(TargetNotFoundError) as caught:
            await discover(client, ["assets"], location="nowhere")
    assert caught.value.exit_code == 2
    assert caught.value.candidates == ["main", "broken", "analytics"]


async def test_discover_an_unknown_repository_is_target_not_found() -> None:
    server = FakeServer("1.13.28", ASSETS_1_13)
    async with server.client() as client:
        with pytest.raises(TargetNotFoundError, match="No repository named 'nope'"):
            await discover(client, ["jobs"], location="analytics", repository="nope")
        # With a location that failed to load in scope, the repository may live there.
        found = await discover(client, ["jobs"], repository="nope")
    assert found.jobs == []


async def test_ten_thousand_assets_parse_in_one_request() -> None:
    """No per-asset requests; how fast is the benchmark's business (bench/run.py)."""
    nodes = [
        node_1_8(
            ["generated", f"asset_{i:05d}"],
            groupName=f"group_{i % 10}",
            dependencyKeys=[{"path": ["generated", f"asset_{i - 10:05d}"]}] if i >= 10 else [],
        )
        for i in range(10_000)
    ]
    server = FakeServer(
        "1.13.28", repositories(("__repository__", "generated", "assetNodes", nodes))
    )
    async with server.client() as client:
        assets = await discover_assets(client)
    assert len(assets) == 10_000
    assert sorted(server.sent) == ["DaglabAssets", "DaglabVersion"]
    assert assets[-1].deps == ["generated/asset_09989"]
