"""The asset selection language, resolved client-side.

Expected sets for the expressions Dagster itself understands were produced by Dagster 1.13's
``AssetSelection.from_string(...).resolve(...)`` on the fixture project's location ``main``;
daglab must select the same assets (kinds follow what the GraphQL API reports, see below).
"""

from __future__ import annotations

import pytest

from daglab.helpers.errors import SelectionError
from daglab.helpers.models import AssetInfo
from daglab.helpers.selection import SelectionSyntaxError, parse_selection, select_assets


def asset(key: str, group: str, deps: list[str] = (), **kw: object) -> AssetInfo:  # type: ignore[assignment]
    return AssetInfo(
        key=key,
        path=key.split("/"),
        group=group,
        repository="__repository__",
        location=str(kw.pop("location", "main")),
        deps=list(deps),
        implicit_jobs=["__ASSET_JOB"],
        **kw,  # type: ignore[arg-type]
    )


# The fixture project's location `main`, as discovery reports it.
MAIN = [
    asset(
        "orders/raw_orders", "orders", tags={"domain": "sales", "tier": "bronze"}, kinds=["python"]
    ),
    asset(
        "orders/cleaned_orders",
        "orders",
        ["orders/raw_orders"],
        tags={"domain": "sales", "tier": "silver"},
        kinds=["pandas"],
    ),
    asset(
        "orders/order_summary",
        "reporting",
        ["orders/cleaned_orders"],
        tags={"domain": "sales", "tier": "gold"},
        kinds=["python"],
    ),
    asset("customers/raw_customers", "customers", tags={"domain": "crm", "tier": "bronze"}),
    asset(
        "customers/customer_ltv",
        "reporting",
        ["customers/raw_customers", "orders/cleaned_orders"],
        tags={"domain": "crm", "tier": "gold"},
    ),
    asset("events/daily_events", "events", tags={"domain": "web", "pii": ""}, partitioned=True),
]
ANALYTICS = [
    asset("analytics/daily_report", "analytics", location="analytics", tags={"domain": "bi"})
]


def sel(text: str, assets: list[AssetInfo] = MAIN) -> list[str]:
    return sorted(select_assets(text, assets))


ORDERS = ["orders/cleaned_orders", "orders/order_summary", "orders/raw_orders"]


# Same answers as Dagster 1.13 on the fixture project.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('key:"orders/*"', ORDERS),
        ("key:orders/raw_orders", ["orders/raw_orders"]),
        ("orders/raw_orders", ["orders/raw_orders"]),
        ("key:*raw*", ["customers/raw_customers", "orders/raw_orders"]),
        ("tag:tier=gold", ["customers/customer_ltv", "orders/order_summary"]),
        ('+key:"orders/order_summary"', ORDERS),
        (
            '1+key:"customers/customer_ltv"',
            ["customers/customer_ltv", "customers/raw_customers", "orders/cleaned_orders"],
        ),
        (
            '2+key:"customers/customer_ltv"',
            [
                "customers/customer_ltv",
                "customers/raw_customers",
                "orders/cleaned_orders",
                "orders/raw_orders",
            ],
        ),
        (
            'key:"orders/raw_orders"+',
            ["customers/customer_ltv", *ORDERS],
        ),
        ('key:"orders/raw_orders"+1', ["orders/cleaned_orders", "orders/raw_orders"]),
        (
            "group:orders or group:customers and tag:tier=gold",
            ["orders/cleaned_orders", "orders/raw_orders"],
        ),
        (
            "not group:orders and not group:events",
            ["customers/customer_ltv", "customers/raw_customers", "orders/order_summary"],
        ),
        (
            'not key:"orders/*" or group:events',
            ["customers/customer_ltv", "customers/raw_customers", "events/daily_events"],
        ),
        ('(key:"orders/cleaned_orders")+1 and not group:reporting', ["orders/cleaned_orders"]),
        ('roots(key:"orders/*")', ["orders/raw_orders"]),
        ("sinks(*)", ["customers/customer_ltv", "events/daily_events", "orders/order_summary"]),
        ("*", sorted(a.key for a in MAIN)),
    ],
)
def test_resolves_like_dagster(text: str, expected: list[str]) -> None:
    assert sel(text) == expected


def test_tag_without_value_means_an_empty_value_as_in_dagster() -> None:
    assert sel("tag:domain") == []
    assert sel("tag:pii") == ["events/daily_events"]


def test_kind_uses_the_kinds_the_server_reports() -> None:
    assert sel("kind:pandas") == ["orders/cleaned_orders"]


def test_group_wildcard() -> None:
    assert sel("group:ord*") == ["orders/cleaned_orders", "orders/raw_orders"]


def test_code_location_and_quoted_values() -> None:
    both = MAIN + ANALYTICS
    assert sel('code_location:"analytics"', both) == ["analytics/daily_report"]
    assert sel('tag:"domain"="bi"', both) == ["analytics/daily_report"]


def test_operators_in_upper_case_and_parentheses() -> None:
    assert sel("(group:orders OR group:events) AND NOT tag:tier=bronze") == [
        "events/daily_events",
        "orders/cleaned_orders",
    ]


def test_legacy_star_traversal() -> None:
    assert sel('*key:"orders/order_summary"') == ORDERS
    assert sel('(key:"orders/cleaned_orders")*') == [
        "customers/customer_ltv",
        "orders/cleaned_orders",
        "orders/order_summary",
    ]


def test_up_and_down_together() -> None:
    assert sel('1+key:"orders/cleaned_orders"+1') == [
        "customers/customer_ltv",
        "orders/cleaned_orders",
        "orders/order_summary",
        "orders/raw_orders",
    ]


def test_no_match_is_empty_not_an_error() -> None:
    assert sel('key:"nothing/*"') == []


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ('key:"orders/*" and', 19, "expected an asset expression"),
        ("(group:orders or group:events", 30, "expected ')'"),
        ('key:"orders/*', 5, "never closed"),
        ("group:orders)", 13, "no matching '('"),
        ("colour:red", 1, "unknown attribute"),
        ("group:", 7, "expected a value"),
        ("group:orders group:events", 14, "expected 'and', 'or'"),
        ("", 1, "empty"),
        ("and group:x", 1, "expected an asset expression"),
        ("frobnicate(group:x)", 1, "unknown function"),
    ],
)
def test_syntax_errors_point_at_the_column(text: str, column: int, words: str) -> None:
    with pytest.raises(SelectionSyntaxError) as info:
        parse_selection(text)
    assert info.value.position == column - 1
    assert f"column {column}" in info.value.message
    assert words in info.value.message
    assert info.value.exit_code == 2
    assert info.value.hint is not None and "^" in info.value.hint


def test_server_side_attributes_are_refused_clearly() -> None:
    with pytest.raises(SelectionError, match="status:"):
        parse_selection("status:MISSING")
