"""Pattern matching, tag parsing and entity filters behind ``daglab discover``."""

from __future__ import annotations

from pathlib import Path

import pytest

from daglab.helpers.discovery import EntityFilters, filter_entities, match_pattern, parse_tags
from daglab.helpers.errors import EXIT_BAD_INPUT, BadInputError
from daglab.helpers.models import AssetInfo, JobInfo, LocationInfo, RepositoryInfo
from tests.conftest import isolated_env, run_cli

KEYS = [
    "orders/raw_orders",
    "orders/cleaned_orders",
    "orders/order_summary",
    "customers/raw_customers",
    "customers/customer_ltv",
    "events/daily_events",
    "analytics/daily_report",
    "orders/eu/raw_orders",
    "raw_orders",
]


def matching(pattern: str) -> list[str]:
    return [key for key in KEYS if match_pattern(pattern, key)]


# -- match_pattern ------------------------------------------------------------------------------


def test_prefix_pattern_matches_every_key_under_the_prefix_at_any_depth() -> None:
    assert matching("orders/*") == [
        "orders/raw_orders",
        "orders/cleaned_orders",
        "orders/order_summary",
        "orders/eu/raw_orders",
    ]


def test_wildcard_in_the_first_level_matches_across_prefixes() -> None:
    assert matching("*/raw_*") == [
        "orders/raw_orders",
        "customers/raw_customers",
        "orders/eu/raw_orders",
    ]


def test_wildcard_in_the_middle_of_a_level() -> None:
    assert matching("orders/*_orders") == [
        "orders/raw_orders",
        "orders/cleaned_orders",
        "orders/eu/raw_orders",
    ]
    assert matching("customers/cust*ltv") == ["customers/customer_ltv"]


def test_wildcard_level_in_the_middle_of_a_multi_level_key() -> None:
    assert matching("orders/*/raw_orders") == ["orders/eu/raw_orders"]
    assert matching("orders/?u/*") == ["orders/eu/raw_orders"]


def test_pattern_without_slash_also_matches_the_last_level() -> None:
    assert matching("raw_*") == [
        "orders/raw_orders",
        "customers/raw_customers",
        "orders/eu/raw_orders",
        "raw_orders",
    ]
    assert matching("daily_report") == ["analytics/daily_report"]


def test_pattern_with_slash_must_match_the_whole_key() -> None:
    assert matching("eu/raw_orders") == []
    assert matching("orders/raw_orders") == ["orders/raw_orders"]


def test_star_alone_matches_everything() -> None:
    assert matching("*") == KEYS


def test_no_match() -> None:
    assert matching("inventory/*") == []
    assert matching("*/nothing_*") == []
    assert matching("Orders/*") == []  # case-sensitive, like asset keys


def test_character_classes_and_question_mark() -> None:
    assert matching("events/daily_event?") == ["events/daily_events"]
    assert matching("[ce]*/*") == [
        "customers/raw_customers",
        "customers/customer_ltv",
        "events/daily_events",
    ]


def test_names_match_like_keys() -> None:
    assert match_pattern("*_job", "orders_job")
    assert match_pattern("shared_*", "shared_job")
    assert not match_pattern("orders_*", "config_job")


# -- parse_tags ---------------------------------------------------------------------------------


def test_parse_tags() -> None:
    assert parse_tags("domain=sales") == {"domain": "sales"}
    assert parse_tags("domain=sales,tier=gold") == {"domain": "sales", "tier": "gold"}


def test_parse_tags_strips_spaces_and_keeps_equals_in_values() -> None:
    assert parse_tags(" team = data , expr=a=b ") == {"team": "data", "expr": "a=b"}


def test_parse_tags_allows_an_empty_value() -> None:
    assert parse_tags("dagster/kind/python=") == {"dagster/kind/python": ""}


@pytest.mark.parametrize(
    "text", ["", "  ", "domain", "=sales", "domain=sales,", "a=1,,b=2", "a=1,a=2"]
)
def test_malformed_tags_are_bad_input(text: str) -> None:
    with pytest.raises(BadInputError) as caught:
        parse_tags(text)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert caught.value.hint and "key=value" in caught.value.hint


def test_repeating_a_tag_with_the_same_value_is_fine() -> None:
    assert parse_tags("a=1,a=1") == {"a": "1"}


# -- EntityFilters / filter_entities ------------------------------------------------------------


def asset(key: str, group: str = "default", location: str = "main", **tags: str) -> AssetInfo:
    return AssetInfo(
        key=key,
        path=key.split("/"),
        group=group,
        repository="__repository__",
        location=location,
        tags=tags,
    )


def job(
    name: str, location: str = "main", repository: str = "__repository__", **tags: str
) -> JobInfo:
    return JobInfo(name=name, repository=repository, location=location, tags=tags)


ASSETS = [
    asset("orders/raw_orders", "orders", domain="sales", tier="bronze"),
    asset("orders/cleaned_orders", "orders", domain="sales", tier="silver"),
    asset("orders/order_summary", "reporting", domain="sales", tier="gold"),
    asset("customers/raw_customers", "customers", domain="crm", tier="bronze"),
    asset("customers/customer_ltv", "reporting", domain="crm", tier="gold"),
    asset("analytics/daily_report", "analytics", location="analytics", domain="bi"),
]
JOBS = [
    job("orders_job"),
    job("tagged_job", team="data", priority="high"),
    job("shared_job"),
    job("shared_job", location="analytics"),
]
LOCATIONS = [
    LocationInfo(name="main", load_status="LOADED", loaded=True, repositories=["__repository__"]),
    LocationInfo(
        name="analytics", load_status="LOADED", loaded=True, repositories=["__repository__"]
    ),
    LocationInfo(name="broken", load_status="FAILED", loaded=False, error="ImportError: boom"),
]
REPOS = [
    RepositoryInfo(name="__repository__", location="main"),
    RepositoryInfo(name="__repository__", location="analytics"),
]


def keys(entities: list[AssetInfo]) -> list[str]:
    return [a.key for a in entities]


def test_no_filters_keep_everything_in_order() -> None:
    assert filter_entities(ASSETS, EntityFilters()) == ASSETS
    assert filter_entities(JOBS, EntityFilters()) == JOBS
    assert filter_entities(LOCATIONS, EntityFilters()) == LOCATIONS


def test_pattern_filters_assets_by_key() -> None:
    kept = filter_entities(ASSETS, EntityFilters(pattern="orders/*"))
    assert keys(kept) == ["orders/raw_orders", "orders/cleaned_orders", "orders/order_summary"]


def test_pattern_filters_jobs_locations_and_repositories_by_name() -> None:
    assert [j.name for j in filter_entities(JOBS, EntityFilters(pattern="shared_*"))] == [
        "shared_job",
        "shared_job",
    ]
    assert [loc.name for loc in filter_entities(LOCATIONS, EntityFilters(pattern="an*"))] == [
        "analytics"
    ]
    assert filter_entities(REPOS, EntityFilters(pattern="__repo*")) == REPOS


def test_all_tags_must_match() -> None:
    kept = filter_entities(ASSETS, EntityFilters(tags={"domain": "sales", "tier": "gold"}))
    assert keys(kept) == ["orders/order_summary"]
    assert (
        filter_entities(ASSETS, EntityFilters(tags={"domain": "sales", "tier": "platinum"})) == []
    )


def test_tags_may_be_given_as_text_or_a_list_of_pairs() -> None:
    as_text = filter_entities(JOBS, EntityFilters(tags="team=data,priority=high"))
    as_list = filter_entities(JOBS, EntityFilters(tags=["team=data", "priority=high"]))
    assert [j.name for j in as_text] == [j.name for j in as_list] == ["tagged_job"]


def test_malformed_tags_in_filters_are_bad_input() -> None:
    with pytest.raises(BadInputError):
        EntityFilters(tags=["team"])


def test_groups_keep_assets_of_any_listed_group() -> None:
    kept = filter_entities(ASSETS, EntityFilters(groups=["orders", "customers"]))
    assert keys(kept) == ["orders/raw_orders", "orders/cleaned_orders", "customers/raw_customers"]


def test_empty_filters_filter_nothing() -> None:
    assert filter_entities(ASSETS, EntityFilters(pattern=None, tags=[], groups=[])) == ASSETS


def test_filters_on_what_an_entity_lacks_exclude_it() -> None:
    assert filter_entities(JOBS, EntityFilters(groups=["orders"])) == []
    assert filter_entities(LOCATIONS, EntityFilters(tags={"team": "data"})) == []
    assert filter_entities(REPOS, EntityFilters(groups=["orders"])) == []


def test_location_and_repository() -> None:
    assert keys(filter_entities(ASSETS, EntityFilters(location="analytics"))) == [
        "analytics/daily_report"
    ]
    assert [j.location for j in filter_entities(JOBS, EntityFilters(location="analytics"))] == [
        "analytics"
    ]
    assert [loc.name for loc in filter_entities(LOCATIONS, EntityFilters(location="broken"))] == [
        "broken"
    ]
    assert [
        loc.name for loc in filter_entities(LOCATIONS, EntityFilters(repository="__repository__"))
    ] == [
        "main",
        "analytics",
    ]
    assert filter_entities(JOBS, EntityFilters(repository="other")) == []


def test_filters_combine() -> None:
    filters = EntityFilters(pattern="*/raw_*", tags={"tier": "bronze"}, groups=["customers"])
    assert keys(filter_entities(ASSETS, filters)) == ["customers/raw_customers"]


def test_filters_work_on_plain_dicts() -> None:
    rows = [a.to_json() for a in ASSETS]
    kept = filter_entities(rows, EntityFilters(pattern="customers/*", tags={"tier": "gold"}))
    assert [row["key"] for row in kept] == ["customers/customer_ltv"]


def test_filtering_ten_thousand_assets_is_linear_and_quick() -> None:
    import time

    many = [
        asset(f"generated/asset_{i:05d}", f"group_{i % 10}", n=str(i % 7)) for i in range(10_000)
    ]
    started = time.perf_counter()
    kept = filter_entities(
        many, EntityFilters(pattern="generated/asset_0*", tags={"n": "3"}, groups=["group_1"])
    )
    assert time.perf_counter() - started < 2.0
    assert kept and all(a.group == "group_1" and a.tags["n"] == "3" for a in kept)


# -- the command rejects bad input before it connects --------------------------------------------


def test_unknown_filter_is_exit_2(tmp_path: Path) -> None:
    result = run_cli(
        "discover", "--filter", "widgets", "--url", "http://127.0.0.1:9", env=isolated_env(tmp_path)
    )
    assert result.returncode == 2
    assert "Unknown --filter 'widgets'" in result.stderr
    assert "jobs, assets, repos, locations or all" in result.stderr
    assert result.stdout == ""


def test_malformed_tags_is_exit_2(tmp_path: Path) -> None:
    result = run_cli(
        "discover", "--tags", "team", "--url", "http://127.0.0.1:9", env=isolated_env(tmp_path)
    )
    assert result.returncode == 2
    assert "Malformed tag 'team'" in result.stderr


def test_csv_needs_a_single_entity_type(tmp_path: Path) -> None:
    result = run_cli(
        "discover",
        "--output",
        str(tmp_path / "all.csv"),
        "--url",
        "http://127.0.0.1:9",
        env=isolated_env(tmp_path),
    )
    assert result.returncode == 2
    assert "CSV file holds one entity type" in result.stderr
    assert not (tmp_path / "all.csv").exists()
