"""Issue 16 on the client side: key escapes, partition config merging, and the selection
resolver on shapes the fixture's `main` location does not have."""

from __future__ import annotations

import pytest

from daglab.helpers.assetkeys import format_key, parse_key
from daglab.helpers.errors import SelectionError
from daglab.helpers.models import AssetInfo
from daglab.helpers.runs.targets import _load_partition_yaml, merge_run_config
from daglab.helpers.selection import (
    parse_selection,
    resolve_selection_nodes,
    select_assets,
    validate_asset_selection,
)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (["orders", "raw_orders"], "orders/raw_orders"),
        (["backslash/interpretation"], "backslash\\/interpretation"),
        (["a\\b", "c"], "a\\\\b/c"),
        (["x/", "/y"], "x\\//\\/y"),
    ],
)
def test_a_key_has_one_text_form_that_parses_back(path: list[str], text: str) -> None:
    assert format_key(path) == text
    assert parse_key(text) == path


def test_asset_selection_keys_keep_an_escaped_slash_in_one_component() -> None:
    keys = validate_asset_selection("backslash\\/interpretation, orders/raw_orders", "keys")
    assert keys == ["backslash\\/interpretation", "orders/raw_orders"]
    assert [parse_key(k) for k in keys] == [["backslash/interpretation"], ["orders", "raw_orders"]]


def test_user_config_is_deep_merged_over_the_partition_config() -> None:
    partition = {"ops": {"load_day": {"config": {"date": "2024-01-15", "verbose": False}}}}
    user = {"ops": {"load_day": {"config": {"verbose": True}}}, "execution": {"x": 1}}
    assert merge_run_config(partition, user) == {
        "ops": {"load_day": {"config": {"date": "2024-01-15", "verbose": True}}},
        "execution": {"x": 1},
    }
    assert merge_run_config({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}  # lists are replaced


def test_partition_yaml_keeps_dates_as_strings() -> None:
    assert _load_partition_yaml("ops:\n  d:\n    config:\n      date: 2024-01-15\n") == {
        "ops": {"d": {"config": {"date": "2024-01-15"}}}
    }


def node(key: str, deps: tuple[str, ...] = (), location: str = "main", **kw: object) -> AssetInfo:
    return AssetInfo(
        key=key,
        path=parse_key(key),
        group=str(kw.pop("group", "default")),
        repository="__repository__",
        location=location,
        deps=list(deps),
        implicit_jobs=["__ASSET_JOB"],
        **kw,  # type: ignore[arg-type]
    )


CHAIN = [node("a"), node("b", ("a",)), node("c", ("b",)), node("d", ("c",))]


def test_roots_and_sinks_are_transitive_within_the_selection() -> None:
    # a and c are selected; b (outside) joins them: c has a upstream of it, so only a is a root.
    assert select_assets('roots(key:"a" or key:"c")', CHAIN) == ["a"]
    assert select_assets('sinks(key:"a" or key:"c")', CHAIN) == ["c"]


def test_owner_matches_teams_and_emails() -> None:
    assets = [node("x", owners=["team:data", "ada@example.com"]), node("y", owners=["team:ops"])]
    assert select_assets('owner:"team:data"', assets) == ["x"]
    assert select_assets('owner:"ada@example.com"', assets) == ["x"]
    assert select_assets('owner:"team:ops"', assets) == ["y"]


def test_a_key_in_two_locations_is_two_nodes() -> None:
    twins = [
        node("twice/shared", location="defs", tags={"copy": "defs"}),
        node("twice/shared", location="defs_twin", tags={"copy": "twin"}),
    ]
    chosen = resolve_selection_nodes(parse_selection("tag:copy=defs"), twins)
    assert [a.location for a in chosen] == ["defs"]


def test_sources_are_left_out_of_star_not_group_and_tag_but_not_key() -> None:
    assets = [node("src", materializable=False, group="g"), node("m", ("src",), group="g")]
    assert select_assets("*", assets) == ["m"]
    assert select_assets("group:g", assets) == ["m"]
    assert select_assets('not key:"m"', assets) == []
    assert select_assets('key:"src"', assets) == ["src"]
    assert select_assets("is:external", assets) == ["src"]


def test_job_and_partitions_attributes() -> None:
    assets = [
        node("p", partitioned=True, partition_type="TIME_WINDOW", jobs=["daily"]),
        node("q"),
    ]
    assert select_assets("job:daily", assets) == ["p"]
    assert select_assets("partitions:time", assets) == ["p"]
    assert select_assets("partitions:none", assets) == ["q"]
    with pytest.raises(SelectionError):
        parse_selection("partitions:hourly")


def test_key_attribute_matches_a_slash_inside_a_component_as_dagster_does() -> None:
    assets = [node("backslash\\/interpretation"), node("backslash/other")]
    assert select_assets('key:"backslash/interpretation"', assets) == ["backslash\\/interpretation"]
    assert select_assets('key:"backslash/*"', assets) == [
        "backslash\\/interpretation",
        "backslash/other",
    ]
