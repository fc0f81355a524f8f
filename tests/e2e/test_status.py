"""``daglab status`` against a real Dagster server: version, locations, failing location."""

from __future__ import annotations

import pytest

from daglab.harness.server import DagsterServer
from tests.conftest import run_cli

pytestmark = pytest.mark.e2e


@pytest.mark.smoke
def test_status_shows_version_and_locations(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = run_cli("status", "--url", dagster_server.url, env=cli_env)
    assert result.returncode == 0, result.stderr
    assert f"Dagster:      {dagster_server.version}" in result.stdout
    assert "main: LOADED (__repository__)" in result.stdout
    assert "analytics: LOADED (__repository__)" in result.stdout
    assert "(from flag --url)" in result.stdout


def test_status_json_reports_each_location(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    env = {**cli_env, "DAGLAB_URL": dagster_server.url}
    result = run_cli("status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["version"] == dagster_server.version
    assert doc["url_source"] == "env DAGLAB_URL"
    assert doc["auth_source"] == "none"
    assert {loc["name"]: loc["load_status"] for loc in doc["locations"]} == {
        "main": "LOADED",
        "analytics": "LOADED",
    }
    assert doc["round_trip_ms"] > 0


def test_status_reports_a_location_that_failed_to_load(
    broken_dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    result = run_cli("status", "--url", broken_dagster_server.url, env=cli_env)
    assert result.returncode == 3, result.stderr  # a failed location fails the deploy gate
    assert "broken: FAILED" in result.stdout
    assert "daglab fixture: this location is broken on purpose" in result.stdout
    assert "main: LOADED" in result.stdout
    assert "Some code locations did not load" in result.stderr


DEPLOYMENT_TRUTH = """
query DaglabTestDeployment {
  instance { info }
  workspaceOrError {
    ... on Workspace { locationEntries { name loadStatus displayMetadata { key value } } }
  }
}
"""


def test_status_shows_the_storage_and_how_each_location_is_served(
    dagster_server: DagsterServer, cli_env: dict[str, str]
) -> None:
    """On either shape: SQLite and webserver-managed locations (local), PostgreSQL and one
    gRPC server per location (prod), as the server's own instance and workspace say."""
    from tests.e2e.conftest import graphql

    result = run_cli("status", "--url", dagster_server.url, env=cli_env)
    assert result.returncode == 0, result.stderr
    truth = graphql(dagster_server, DEPLOYMENT_TRUTH)
    info = truth["instance"]["info"]
    storage = "postgres" if "PostgresRunStorage" in info else "sqlite"
    assert "SqliteRunStorage" in info or storage == "postgres", info
    assert f"Storage:      {storage} (" in result.stdout, result.stdout
    for entry in truth["workspaceOrError"]["locationEntries"]:
        meta = {m["key"]: m["value"] for m in entry["displayMetadata"]}
        if "port" in meta:
            where = f"grpc {meta['host']}:{meta['port']}"
        else:
            where = "managed by the webserver"
        assert f"  {entry['name']}: {where}" in result.stdout, result.stdout
