"""Dagster's asset selection syntax, resolved client-side against discovered assets.

Resolving here instead of on the server makes ``--select`` behave the same on every Dagster
version (servers before 1.10 do not understand the syntax at all). Supported::

    key:"orders/*"   key:orders/raw_orders   orders/raw_orders (a bare key)
    group:orders     tag:tier=gold   tag:label (a tag with an empty value)   kind:pandas
    owner:"team:data"  owner:"ada@example.com"  code_location:main  code_location:repo@main
    job:orders_job   is:materializable   is:external   partitions:time (none static dynamic
    multipartitions)
    +X  all upstream of X (and X)      2+X  two levels up
    X+  all downstream of X (and X)    X+1  one level down      *X / (X)*  same as +X / X+
    A and B   A or B   not A   (A)   *  (every asset)   roots(X)   sinks(X)

Precedence is Dagster's: ``not`` binds tighter than ``and``, which binds tighter than ``or``.
Operators are ``and``/``or``/``not`` in lower or upper case. Values may be quoted with
double quotes; ``*`` in a key or group value is a wildcard (as Dagster 1.13 reads it, on
every server: before 1.13 Dagster took ``group:"g*"`` literally).
"""

from __future__ import annotations

from daglab.helpers.selection.grammar import Node as SelectionNode
from daglab.helpers.selection.grammar import SelectionSyntaxError, parse_selection
from daglab.helpers.selection.resolve import (
    SelectableAsset,
    SelectionKind,
    names_instigators,
    resolve_selection,
    resolve_selection_nodes,
    select_assets,
    validate_asset_selection,
)

__all__ = [
    "SelectableAsset",
    "SelectionKind",
    "SelectionNode",
    "SelectionSyntaxError",
    "names_instigators",
    "parse_selection",
    "resolve_selection",
    "resolve_selection_nodes",
    "select_assets",
    "validate_asset_selection",
]
