"""The prod shape's pure parts: workspace to code servers, the instance config, the queue's tag
limits and the deployment as ``daglab status`` reads it. The shape itself runs in
tests/e2e/test_prod.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from daglab.harness import FIXTURE_WORKSPACE
from daglab.harness.envs import postgres_requirement
from daglab.harness.errors import HarnessInputError
from daglab.harness.prod import code_locations, prod_dagster_yaml
from daglab.helpers.graphql import _has_unauthorized
from daglab.helpers.status import parse_deployment
from daglab.helpers.statuses import parse_tag_limits


def test_every_fixture_location_gets_its_own_code_server_arguments() -> None:
    locations = dict(code_locations(FIXTURE_WORKSPACE))
    assert list(locations) == ["main", "analytics"]
    main = locations["main"]
    assert main[:2] == ["-f", str(FIXTURE_WORKSPACE.parent / "main_location.py")]
    assert main[-2:] == ["--location-name", "main"]


def test_a_workspace_the_prod_shape_cannot_serve_is_refused(tmp_path: Path) -> None:
    ws = tmp_path / "workspace.yaml"
    ws.write_text("load_from:\n  - grpc_server: {host: localhost, port: 4000}\n")
    with pytest.raises(HarnessInputError, match="python_file and python_module"):
        code_locations(ws)


def test_the_instance_config_queues_with_a_tag_limit_and_keeps_compute_logs(
    tmp_path: Path,
) -> None:
    config = yaml.safe_load(prod_dagster_yaml("postgresql+psycopg2://u@h:1/d", tmp_path))
    assert config["storage"] == {"postgres": {"postgres_url": "postgresql+psycopg2://u@h:1/d"}}
    coordinator = config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    assert coordinator["config"]["tag_concurrency_limits"] == [{"key": "daglab/queue", "limit": 1}]
    assert config["compute_logs"]["class"] == "LocalComputeLogManager"


def test_dagster_postgres_versions_follow_dagster() -> None:
    assert postgres_requirement("1.13.28") == "dagster-postgres==0.29.28"
    assert postgres_requirement("1.7.16") == "dagster-postgres==0.23.16"


def test_tag_limits_read_from_the_queue_config() -> None:
    text = "- key: daglab/queue\n  limit: 1\n- key: team\n  value: {applyLimitPerUniqueValue: true}\n  limit: 2\n- key: x\n  value: a\n  limit: 3\n"
    assert parse_tag_limits(text) == [
        {"key": "daglab/queue", "value": None, "limit": 1},
        {"key": "team", "value": None, "limit": 2},
        {"key": "x", "value": "a", "limit": 3},
    ]
    assert parse_tag_limits(None) == [] and parse_tag_limits(": [") == []


def test_the_deployment_as_status_reads_it() -> None:
    info = (
        "run_storage: PostgresRunStorage\nevent_log_storage: PostgresEventLogStorage\n"
        "schedule_storage: PostgresScheduleStorage\nrun_coordinator:\n"
        "  module: dagster._core.run_coordinator\n  class: QueuedRunCoordinator\n"
    )
    data = {
        "instance": {
            "info": info,
            "runLauncher": {"name": "DefaultRunLauncher"},
            "runQueuingSupported": True,
            "runQueueConfig": {"maxConcurrentRuns": 8, "tagConcurrencyLimitsYaml": None},
        },
        "workspaceOrError": {
            "locationEntries": [
                {
                    "name": "main",
                    "loadStatus": "LOADED",
                    "displayMetadata": [
                        {"key": "host", "value": "127.0.0.1"},
                        {"key": "port", "value": "4000"},
                    ],
                },
                {
                    "name": "local",
                    "loadStatus": "LOADING",
                    "displayMetadata": [{"key": "python_file", "value": "defs.py"}],
                },
            ]
        },
    }
    dep = parse_deployment(data)
    assert dep.storage == "postgres"
    assert dep.run_coordinator == "QueuedRunCoordinator"
    assert dep.max_concurrent_runs == 8
    assert [(c.location, c.kind, c.port, c.target) for c in dep.code_servers] == [
        ("main", "grpc", "4000", None),
        ("local", "managed", None, "defs.py"),
    ]
    assert parse_deployment({"instance": {"info": None}}).storage is None


def test_an_unauthorized_answer_is_found_in_a_mutation_result() -> None:
    assert _has_unauthorized({"launchRun": {"__typename": "UnauthorizedError"}})
    assert _has_unauthorized(
        {"terminateRuns": {"terminateRunResults": [{"__typename": "UnauthorizedError"}]}}
    )
    assert not _has_unauthorized({"launchRun": {"__typename": "LaunchRunSuccess"}})
