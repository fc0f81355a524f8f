"""The pure parts of asset health (daglab.helpers.assets): what the server's answers become.
The server-facing behaviour is tested end to end in tests/e2e/test_assets_health.py."""

from __future__ import annotations

import pytest

from daglab.helpers import assets, errors
from daglab.helpers.models import AssetCheckInfo

DAYS = [f"2024-04-0{i}" for i in range(1, 6)]


def node(statuses: dict, stats: tuple[int, int, int, int] = (5, 2, 1, 0)) -> dict:
    total, done, failed, running = stats
    return {
        "isPartitioned": True,
        "partitionKeys": DAYS,
        "partitionStats": {
            "numPartitions": total,
            "numMaterialized": done,
            "numFailed": failed,
            "numMaterializing": running,
        },
        "assetPartitionStatuses": statuses,
    }


def test_time_ranges_become_failed_and_missing_keys() -> None:
    health = assets.partition_health(
        node(
            {
                "__typename": "TimePartitionStatuses",
                "ranges": [
                    {"startKey": DAYS[0], "endKey": DAYS[1], "status": "MATERIALIZED"},
                    {"startKey": DAYS[2], "endKey": DAYS[2], "status": "FAILED"},
                ],
            }
        ),
        with_keys=True,
    )
    assert health is not None
    assert (health.total, health.materialized, health.failed, health.missing) == (5, 2, 1, 2)
    assert health.failed_keys == [DAYS[2]] and health.missing_keys == DAYS[3:]
    assert health.in_progress_keys == []


def test_default_statuses_and_counts_only_without_keys() -> None:
    statuses = {
        "__typename": "DefaultPartitionStatuses",
        "materializedPartitions": [DAYS[0]],
        "failedPartitions": [DAYS[1]],
        "materializingPartitions": [DAYS[1]],  # a failed key running again is in progress
    }
    health = assets.partition_health(node(statuses, (5, 1, 0, 1)), with_keys=True)
    assert health is not None
    assert health.in_progress_keys == [DAYS[1]] and health.failed_keys == []
    assert health.missing_keys == DAYS[2:] and health.missing == 3
    counts = assets.partition_health(node(statuses), with_keys=False)
    assert counts is not None and counts.missing_keys is None and counts.missing == 2


def test_multi_partitions_say_their_keys_are_not_listed() -> None:
    health = assets.partition_health(
        node({"__typename": "MultiPartitionStatuses", "ranges": []}), with_keys=True
    )
    assert health is not None and health.failed_keys is None
    assert health.keys_note and "multi-partitioned" in health.keys_note


def test_long_key_lists_are_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets, "MAX_PARTITION_KEYS", 2)
    health = assets.partition_health(
        node({"__typename": "TimePartitionStatuses", "ranges": []}, (5, 0, 0, 0)), with_keys=True
    )
    assert health is not None and health.missing_keys == DAYS[:2] and health.keys_truncated
    assert health.missing == 5


def test_not_partitioned_is_none() -> None:
    assert assets.partition_health({"isPartitioned": False, "partitionStats": None}, True) is None


def test_metadata_is_bounded_and_cleaned() -> None:
    entries = [
        {"__typename": "TextMetadataEntry", "label": "note\x1b[31m", "text": "x" * 2000},
        {"__typename": "BoolMetadataEntry", "label": "ok", "boolValue": False},
        {"__typename": "AssetMetadataEntry", "label": "up", "assetKey": {"path": ["a", "b/c"]}},
        {"__typename": "TableSchemaMetadataEntry", "label": "schema"},
    ] + [{"__typename": "IntMetadataEntry", "label": f"n{i}", "intRepr": str(i)} for i in range(50)]
    items = assets.metadata_items(entries)
    assert len(items) == assets.MAX_METADATA_ENTRIES
    assert items[0].label == "note" and len(items[0].value or "") == assets.MAX_METADATA_VALUE
    assert items[1].value == "false" and items[2].value == "a/b\\/c"
    assert items[3].value is None and items[3].type == "TableSchemaMetadataEntry"


def check(name: str, jobs: list[str], location: str = "health") -> AssetCheckInfo:
    return AssetCheckInfo(
        asset="health/checked", path=["health", "checked"], name=name, jobs=jobs,
        location=location, repository="__repository__",
    )  # fmt: skip


def test_checks_target_picks_the_common_asset_job() -> None:
    target = assets.checks_target(
        [check("a", ["__ASSET_JOB", "checks_job"]), check("b", ["__ASSET_JOB"])]
    )
    assert target.job == "__ASSET_JOB" and target.asset_selection == ()
    assert target.asset_check_selection == (("health/checked", "a"), ("health/checked", "b"))
    from daglab.helpers.runs.launch import run_selector

    assert run_selector(target)["assetCheckSelection"] == [
        {"assetKey": {"path": ["health", "checked"]}, "name": "a"},
        {"assetKey": {"path": ["health", "checked"]}, "name": "b"},
    ]
    assert "assetSelection" not in run_selector(target)


def test_checks_target_refuses_what_one_run_cannot_do() -> None:
    with pytest.raises(errors.TargetNotFoundError, match="no asset checks"):
        assets.checks_target([])
    with pytest.raises(errors.SelectionError, match="span 2 code locations"):
        assets.checks_target([check("a", ["j"]), check("b", ["j"], location="other")])
    with pytest.raises(errors.SelectionError, match="No single job"):
        assets.checks_target([check("a", ["j1"]), check("b", ["j2"])])


def test_choose_checks_by_name() -> None:
    found = [check("health_error", ["j"]), check("health_warn", ["j"])]
    assert [c.name for c in assets.choose_checks(found, ["health/checked:health_warn"])] == [
        "health_warn"
    ]
    assert assets.choose_checks(found, None) == found
    with pytest.raises(errors.TargetNotFoundError, match="Did you mean: health_error"):
        assets.choose_checks(found, ["health_eror"])


def test_select_assets_takes_at_most_one_form() -> None:
    import asyncio

    with pytest.raises(errors.BadInputError, match="at most one"):
        asyncio.run(assets.select_assets(None, keys="a", pattern="b*"))  # type: ignore[arg-type]
