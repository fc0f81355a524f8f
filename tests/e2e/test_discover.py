"""``daglab discover`` against a real Dagster server on the fixture project.

The expectations below are the fixture project's exact contents
(fixtures/dagster_project/main_location.py and analytics_location.py).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daglab.harness.pytest_plugin import start_server, stop_server
from daglab.harness.server import DagsterServer
from tests.conftest import CliResult, isolated_env, run_cli

pytestmark = pytest.mark.e2e

REPO = "__repository__"

# key -> (group, location, tags, kinds, upstream keys, user jobs, partitioned)
ASSETS: dict[str, tuple[str, str, dict[str, str], list[str], list[str], list[str], bool]] = {
    "orders/raw_orders": (
        "orders",
        "main",
        {"domain": "sales", "tier": "bronze"},
        ["python"],
        [],
        ["orders_job"],
        False,
    ),
    "orders/cleaned_orders": (
        "orders",
        "main",
        {"domain": "sales", "tier": "silver"},
        ["pandas"],
        ["orders/raw_orders"],
        ["orders_job"],
        False,
    ),
    "orders/order_summary": (
        "reporting",
        "main",
        {"domain": "sales", "tier": "gold"},
        ["python"],
        ["orders/cleaned_orders"],
        ["orders_job"],
        False,
    ),
    "customers/raw_customers": (
        "customers",
        "main",
        {"domain": "crm", "tier": "bronze"},
        [],
        [],
        [],
        False,
    ),
    "customers/customer_ltv": (
        "reporting",
        "main",
        {"domain": "crm", "tier": "gold"},
        [],
        ["customers/raw_customers", "orders/cleaned_orders"],
        [],
        False,
    ),
    "events/daily_events": ("events", "main", {"domain": "web"}, [], [], [], True),
    "analytics/daily_report": (
        "analytics",
        "analytics",
        {"domain": "bi"},
        [],
        [],
        ["analytics_job"],
        False,
    ),
}

# (location, name) -> (tags, is_asset_job, description)
JOBS: dict[tuple[str, str], tuple[dict[str, str], bool, str]] = {
    ("main", "orders_job"): ({}, True, "Materializes the three orders/* assets."),
    ("main", "config_job"): (
        {},
        False,
        "One op with a config schema: rows (required int), label, factor.",
    ),
    ("main", "failing_job"): ({}, False, "Always fails in op `explode`."),
    ("main", "slow_job"): (
        {},
        False,
        "Sleeps `seconds` (default 30) in op `sleep_for`; for cancel and timeout tests.",
    ),
    ("main", "tagged_job"): (
        {"team": "data", "priority": "high"},
        False,
        "A job with definition tags.",
    ),
    ("main", "shared_job"): ({}, False, "A job whose name also exists in location `analytics`."),
    ("analytics", "shared_job"): ({}, False, "A job whose name also exists in location `main`."),
    ("analytics", "analytics_job"): ({}, True, "Materializes analytics/daily_report."),
}

ASSET_KEYS = {
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
}


def discover(server: DagsterServer, env: dict[str, str], *args: str) -> CliResult:
    return run_cli("discover", "--url", server.url, *args, env=env)


def discover_json(server: DagsterServer, env: dict[str, str], *args: str) -> dict[str, Any]:
    result = discover(server, env, "--json", *args)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = result.json()
    return document


def asset_keys(document: dict[str, Any]) -> list[str]:
    return [a["key"] for a in document["assets"]]


# -- a location that fails to load ---------------------------------------------------------------
# First in the file, on a server of its own that stops before the shared one starts: this
# machine runs one Dagster server of ours at a time.


@pytest.fixture(scope="class")
def broken_server(
    dagster_version: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagsterServer]:
    """Like the plugin's ``broken_dagster_server``, but stopped after the class that uses it."""
    from daglab.harness import FIXTURE_WORKSPACE_BROKEN

    server = start_server(
        tmp_path_factory, dagster_version, workspace=FIXTURE_WORKSPACE_BROKEN, daemon=False
    )
    yield server
    stop_server(server)


class TestBrokenLocation:
    @pytest.mark.smoke
    def test_failed_location_is_reported_and_hides_nothing(
        self, broken_server: DagsterServer, cli_env: dict[str, str]
    ) -> None:
        result = discover(broken_server, cli_env, "--json")
        assert result.returncode == 0, result.stderr
        document = result.json()
        locations = {loc["name"]: loc for loc in document["locations"]}
        assert set(locations) == {"main", "broken"}
        broken = locations["broken"]
        assert broken["load_status"] == "FAILED" and broken["loaded"] is False
        assert "broken on purpose" in broken["error"]
        assert locations["main"]["load_status"] == "LOADED"
        assert document["repositories"] == [{"name": REPO, "location": "main"}]
        main_assets = sorted(k for k, v in ASSETS.items() if v[1] == "main")
        assert sorted(asset_keys(document)) == main_assets
        assert sorted(j["name"] for j in document["jobs"]) == sorted(
            name for loc, name in JOBS if loc == "main"
        )
        assert "Warning: code location 'broken' failed to load" in result.stderr

    def test_failed_location_in_the_table(
        self, broken_server: DagsterServer, cli_env: dict[str, str]
    ) -> None:
        result = discover(broken_server, cli_env, "--filter", "locations")
        assert result.returncode == 0, result.stderr
        row = next(line for line in result.stdout.splitlines() if line.strip().startswith("broken"))
        assert "FAILED" in row and "broken on purpose" in row
        assert re.search(r"^\s*main\s+LOADED", result.stdout, re.M)
        assert "2 locations" in result.stdout
        assert "failed to load" in result.stderr

    def test_filter_on_the_healthy_location_still_warns(
        self, broken_server: DagsterServer, cli_env: dict[str, str]
    ) -> None:
        result = discover(
            broken_server, cli_env, "--json", "--filter", "assets", "--pattern", "orders/*"
        )
        assert result.returncode == 0, result.stderr
        assert asset_keys(result.json()) == [
            "orders/cleaned_orders",
            "orders/order_summary",
            "orders/raw_orders",
        ]
        assert "'broken' failed to load" in result.stderr


# -- the whole fixture project -------------------------------------------------------------------


@pytest.mark.smoke
def test_discover_json_lists_exactly_the_fixture_project(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = discover(dagster_server, cli_env, "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    document = result.json()
    assert list(document) == ["locations", "repositories", "jobs", "assets"]

    locations = {loc["name"]: loc for loc in document["locations"]}
    assert set(locations) == {"main", "analytics"}
    for loc in locations.values():
        assert loc["load_status"] == "LOADED" and loc["loaded"] is True
        assert loc["repositories"] == [REPO] and loc["error"] is None

    assert sorted((r["location"], r["name"]) for r in document["repositories"]) == [
        ("analytics", REPO),
        ("main", REPO),
    ]

    jobs = {(j["location"], j["name"]): j for j in document["jobs"]}
    assert set(jobs) == set(JOBS)
    for where, (tags, is_asset_job, description) in JOBS.items():
        job = jobs[where]
        assert job["tags"] == tags, where
        assert job["is_asset_job"] is is_asset_job, where
        assert job["description"] == description, where
        assert job["repository"] == REPO

    assets = {a["key"]: a for a in document["assets"]}
    assert set(assets) == set(ASSETS)
    for key, (group, location, tags, kinds, deps, jobs_, partitioned) in ASSETS.items():
        asset = assets[key]
        assert set(asset) >= ASSET_KEYS, key
        assert asset["path"] == key.split("/")
        assert asset["group"] == group, key
        assert asset["location"] == location, key
        assert asset["repository"] == REPO
        assert asset["tags"] == tags, key
        assert asset["kinds"] == kinds, key
        assert sorted(asset["deps"]) == sorted(deps), key
        assert asset["jobs"] == jobs_, key
        assert asset["partitioned"] is partitioned, key
        assert asset["materializable"] is True, key
        assert asset["description"], key
        # The implicit asset job(s) an asset-selection run is launched on.
        assert asset["implicit_jobs"] and all(
            j.startswith("__ASSET_JOB") for j in asset["implicit_jobs"]
        ), key
    assert assets["events/daily_events"]["partitions"].startswith("Daily")
    assert assets["orders/raw_orders"]["description"] == "Raw orders as they arrive from the shop."


def test_implicit_asset_jobs_are_not_listed_as_jobs(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    document = discover_json(dagster_server, cli_env, "--filter", "jobs")
    assert not [j for j in document["jobs"] if j["name"].startswith("__ASSET_JOB")]


# -- each filter ---------------------------------------------------------------------------------


@pytest.mark.smoke
def test_pattern_orders_lists_exactly_the_orders_assets(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    document = discover_json(dagster_server, cli_env, "--filter", "assets", "--pattern", "orders/*")
    assert list(document) == ["assets"]
    assert asset_keys(document) == [
        "orders/cleaned_orders",
        "orders/order_summary",
        "orders/raw_orders",
    ]


def test_pattern_with_a_wildcard_first_level(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    document = discover_json(dagster_server, cli_env, "--filter", "assets", "--pattern", "*/raw_*")
    assert asset_keys(document) == ["customers/raw_customers", "orders/raw_orders"]


def test_pattern_on_names_of_every_type(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    document = discover_json(dagster_server, cli_env, "--pattern", "*_job")
    assert document["locations"] == [] and document["repositories"] == []
    assert sorted((j["location"], j["name"]) for j in document["jobs"]) == sorted(JOBS)
    assert document["assets"] == []


def test_a_pattern_for_asset_keys_prints_only_the_assets_table(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    """No "Jobs: none match." before the assets found: without --filter, the tables are the
    types that matched."""
    result = discover(dagster_server, cli_env, "--pattern", "orders/*")
    assert result.returncode == 0, result.stderr
    assert "none match" not in result.stdout
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("Assets (3)") and lines[-1] == "3 assets"
    shown = sorted(line.split()[0] for line in lines if line.startswith(" orders/"))
    assert shown == ["orders/cleaned_orders", "orders/order_summary", "orders/raw_orders"]


def test_pattern_that_matches_nothing(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = discover(dagster_server, cli_env, "--filter", "assets", "--pattern", "inventory/*")
    assert result.returncode == 0, result.stderr
    assert "Assets: none match." in result.stdout
    assert "0 assets" in result.stdout


def test_filter_jobs_prints_only_jobs(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    document = discover_json(dagster_server, cli_env, "--filter", "jobs")
    assert list(document) == ["jobs"]
    assert len(document["jobs"]) == len(JOBS)


def test_filter_repos_and_locations(dagster_server: DagsterServer, cli_env: dict[str, str]) -> None:
    repos = discover_json(dagster_server, cli_env, "--filter", "repos")
    assert list(repos) == ["repositories"]
    assert len(repos["repositories"]) == 2
    locations = discover_json(dagster_server, cli_env, "--filter", "locations")
    assert list(locations) == ["locations"]
    assert sorted(loc["name"] for loc in locations["locations"]) == ["analytics", "main"]
    both = discover_json(dagster_server, cli_env, "--filter", "assets,jobs")
    assert list(both) == ["jobs", "assets"]


def test_tags_must_all_match(dagster_server: DagsterServer, cli_env: dict[str, str]) -> None:
    document = discover_json(dagster_server, cli_env, "--tags", "domain=sales,tier=gold")
    assert asset_keys(document) == ["orders/order_summary"]
    assert document["jobs"] == []
    assert document["locations"] == [] and document["repositories"] == []

    tagged = discover_json(dagster_server, cli_env, "--filter", "jobs", "--tags", "team=data")
    assert [(j["location"], j["name"]) for j in tagged["jobs"]] == [("main", "tagged_job")]
    assert tagged["jobs"][0]["tags"] == {"team": "data", "priority": "high"}


def test_groups_are_repeatable(dagster_server: DagsterServer, cli_env: dict[str, str]) -> None:
    document = discover_json(
        dagster_server, cli_env, "--filter", "assets", "--group", "reporting", "--group", "events"
    )
    assert asset_keys(document) == [
        "customers/customer_ltv",
        "events/daily_events",
        "orders/order_summary",
    ]


def test_location_narrows_every_type(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    document = discover_json(dagster_server, cli_env, "--location", "analytics")
    assert [loc["name"] for loc in document["locations"]] == ["analytics"]
    assert document["repositories"] == [{"name": REPO, "location": "analytics"}]
    assert sorted(j["name"] for j in document["jobs"]) == ["analytics_job", "shared_job"]
    assert asset_keys(document) == ["analytics/daily_report"]


def test_repo_with_location(dagster_server: DagsterServer, cli_env: dict[str, str]) -> None:
    document = discover_json(
        dagster_server, cli_env, "--filter", "jobs", "--location", "main", "--repo", REPO
    )
    assert sorted(j["name"] for j in document["jobs"]) == sorted(
        name for loc, name in JOBS if loc == "main"
    )


def test_unknown_location_is_exit_2(dagster_server: DagsterServer, cli_env: dict[str, str]) -> None:
    result = discover(dagster_server, cli_env, "--location", "nowhere")
    assert result.returncode == 2
    assert "No code location named 'nowhere'" in result.stderr
    assert "main" in result.stderr and "analytics" in result.stderr


def test_unknown_repository_is_exit_2(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = discover(dagster_server, cli_env, "--repo", "nope")
    assert result.returncode == 2
    assert "No repository named 'nope'" in result.stderr


def test_unknown_filter_is_exit_2(dagster_server: DagsterServer, cli_env: dict[str, str]) -> None:
    result = discover(dagster_server, cli_env, "--filter", "sensors")
    assert result.returncode == 2
    assert "Unknown --filter 'sensors'" in result.stderr


# -- output --------------------------------------------------------------------------------------


def test_tables_group_by_type_with_counts(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = discover(dagster_server, cli_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b[" not in out  # NO_COLOR, not a terminal
    positions = [
        out.index(title)
        for title in ("Code locations (2)", "Repositories (2)", "Jobs (8)", "Assets (7)")
    ]
    assert positions == sorted(positions)
    assert out.rstrip().endswith("2 locations · 2 repositories · 8 jobs · 7 assets")
    row = next(line for line in out.splitlines() if line.strip().startswith("orders/raw_orders"))
    assert re.search(r"orders/raw_orders\s+orders\s+main\s+python\s+domain=sales tier=bronze", row)
    tagged = next(line for line in out.splitlines() if line.strip().startswith("tagged_job"))
    assert "team=data" in tagged and "priority=high" in tagged


def test_output_json_file(
    dagster_server: DagsterServer, cli_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "assets.json"
    result = discover(
        dagster_server, cli_env, "--filter", "assets", "--group", "orders", "--output", str(target)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert f"Wrote 2 assets to {target}" in result.stderr
    document = json.loads(target.read_text())
    assert asset_keys(document) == ["orders/cleaned_orders", "orders/raw_orders"]


def test_output_csv_file(
    dagster_server: DagsterServer, cli_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "jobs.csv"
    result = discover(dagster_server, cli_env, "--filter", "jobs", "--output", str(target))
    assert result.returncode == 0, result.stderr
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "name",
        "repository",
        "location",
        "description",
        "tags",
        "is_asset_job",
    ]
    by_job = {(r["location"], r["name"]): r for r in rows}
    assert set(by_job) == set(JOBS)
    assert by_job[("main", "tagged_job")]["tags"] in (
        "team=data,priority=high",
        "priority=high,team=data",
    )
    assert by_job[("main", "orders_job")]["is_asset_job"] == "true"


def test_json_and_output_together(
    dagster_server: DagsterServer, cli_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "all.json"
    result = discover(dagster_server, cli_env, "--json", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.json() == json.loads(target.read_text())


def test_url_from_the_environment(dagster_server: DagsterServer, tmp_path: Path) -> None:
    env = isolated_env(tmp_path, DAGLAB_URL=dagster_server.url)
    result = run_cli("discover", "--json", "--filter", "locations", env=env)
    assert result.returncode == 0, result.stderr
    assert len(result.json()["locations"]) == 2
