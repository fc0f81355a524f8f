"""daglab's ``--select`` resolves exactly as Dagster's ``AssetSelection.from_string`` does, on
generated asset graphs and generated selections (hypothesis), compared with Dagster's own
resolver running in the harness's venv of the session's minor (tests/e2e/_dagster_selection.py).

Versions whose Dagster has the selection grammar (1.10+; the session's venv says) are tested
on the whole grammar daglab resolves: ``key:`` (with wildcards), ``group:`` (with wildcards),
``tag:``, ``kind:``, ``owner:``, ``is:``, ``*``, ``and``/``or``/``not``, ``+``/``N+`` both
ways, ``roots()``/``sinks()``, and the whole-string clause syntax (``++key+``, ``*key``).
Older ones (1.7) only know the clause syntax and ``tag:k=v``: those are what is compared there.
``code_location:`` and ``job:`` need a workspace (Dagster resolves them only on a remote asset
graph), and ``status:``, ``column:`` … need state: neither can be compared in-process.
Not in ``-m smoke``: about a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daglab.harness.envs import ensure_env
from daglab.helpers.assetkeys import format_key
from daglab.helpers.models import AssetInfo
from daglab.helpers.selection import parse_selection, resolve_selection

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).with_name("_dagster_selection.py")
KEY_POOL = [["a"], ["b"], ["c"], ["a", "x"], ["a", "y"], ["b", "x"], ["d", "e", "f"], ["g"]]
GROUPS = ["g1", "g2", "other"]
OWNERS = ["team:data", "ada@example.com"]
KINDS = ["python", "dbt"]


class DagsterResolver:
    def __init__(self, python: Path) -> None:
        self.proc = subprocess.Popen(
            [str(python), str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.info = json.loads(self.proc.stdout.readline())

    def resolve(self, assets: list[dict[str, Any]], selections: list[str]) -> list[Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"assets": assets, "selections": selections}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "Dagster's resolver died"
        answers: list[Any] = json.loads(line)
        return answers

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def dagster_resolver(dagster_version: str) -> Iterator[DagsterResolver]:
    resolver = DagsterResolver(ensure_env(dagster_version))
    yield resolver
    resolver.close()


# -- generated graphs -------------------------------------------------------------------------


@st.composite
def graphs(draw: st.DrawFn, grammar: bool) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=len(KEY_POOL)))
    paths = draw(st.permutations(KEY_POOL))[:count]
    nodes = []
    for i, path in enumerate(paths):
        deps = draw(st.lists(st.sampled_from(paths[:i]), unique_by=tuple, max_size=3)) if i else []
        tags: dict[str, str] = {}
        if draw(st.booleans()):
            tags["t"] = draw(st.sampled_from(["one", ""]))
        if draw(st.booleans()):
            tags["u"] = "x"
        nodes.append(
            {
                "path": path,
                "deps": deps,
                "group": draw(st.sampled_from(GROUPS)),
                "tags": tags,
                "owners": draw(st.lists(st.sampled_from(OWNERS), unique=True)),
                "kinds": draw(st.lists(st.sampled_from(KINDS), unique=True)),
                # External assets only where the grammar (and is:) is compared.
                "materializable": draw(st.booleans()) if grammar else True,
            }
        )
    return nodes


def key_text(path: list[str]) -> str:
    return "/".join(path)


COMMON_LEAVES = [
    st.sampled_from(KEY_POOL).map(lambda p: f'key:"{key_text(p)}"'),
    st.sampled_from(['key:"a*"', 'key:"*x"', 'key:"a/*"', 'key:"*"']),
    st.sampled_from(GROUPS).map(lambda g: f"group:{g}"),
    st.sampled_from(["tag:t=one", "tag:t", "tag:u=x", "tag:u", 'tag:"t"="one"']),
    st.sampled_from(KINDS).map(lambda k: f"kind:{k}"),
    st.sampled_from(OWNERS).map(lambda o: f'owner:"{o}"'),
    st.sampled_from(["is:materializable", "is:external"]),
    st.just("*"),
]
# daglab resolves 1.13's grammar on every server. Before 1.13 Dagster read `group:"g*"` as
# the literal group name "g*" (measured on 1.11 and 1.12: wildcards in group: are new in
# 1.13), so an older Dagster is compared on the forms it resolves the same way.
GROUP_WILDCARD = st.just('group:"g*"')


def expressions(version: tuple[int, int]) -> st.SearchStrategy[str]:
    leaves = [*COMMON_LEAVES, *([GROUP_WILDCARD] if version >= (1, 13) else [])]
    return st.recursive(st.one_of(leaves), _combine, max_leaves=6)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    depth = st.sampled_from(["", "1", "2"])
    return st.one_of(
        pair.map(lambda p: f"({p[0]} and {p[1]})"),
        pair.map(lambda p: f"({p[0]} or {p[1]})"),
        st.tuples(children, children, children).map(lambda p: f"{p[0]} and {p[1]} or {p[2]}"),
        children.map(lambda c: f"not {c}"),
        children.map(lambda c: f"roots({c})"),
        children.map(lambda c: f"sinks({c})"),
        st.tuples(depth, children).map(lambda p: f"{p[0]}+({p[1]})"),
        st.tuples(children, depth).map(lambda p: f"({p[0]})+{p[1]}"),
        st.tuples(depth, children, depth).map(lambda p: f"{p[0]}+({p[1]})+{p[2]}"),
    )


def clauses() -> st.SearchStrategy[str]:
    marks = st.sampled_from(["", "+", "++", "*"])
    return st.tuples(marks, st.sampled_from(KEY_POOL), marks).map(
        lambda t: f"{t[0]}{key_text(t[1])}{t[2]}"
    )


def daglab_keys(nodes: list[dict[str, Any]], text: str) -> list[list[str]]:
    assets = [
        AssetInfo(
            key=format_key(n["path"]),
            path=n["path"],
            group=n["group"],
            repository="__repository__",
            location="generated",
            tags=n["tags"],
            kinds=n["kinds"],
            owners=n["owners"],
            materializable=n["materializable"],
            deps=[format_key(d) for d in n["deps"]],
        )
        for n in nodes
    ]
    by_key = {a.key: a.path for a in assets}
    return sorted(by_key[k] for k in resolve_selection(parse_selection(text), assets))


def _compare(resolver: DagsterResolver, nodes: list[dict[str, Any]], texts: list[str]) -> int:
    """Compare every text Dagster accepts; return how many that was."""
    answers = resolver.resolve(nodes, texts)
    compared = 0
    for text, answer in zip(texts, answers, strict=True):
        if "error" in answer:  # not a selection Dagster accepts on this graph
            continue
        compared += 1
        assert daglab_keys(nodes, text) == answer["keys"], (text, nodes)
    return compared


SETTINGS = settings(
    max_examples=int(os.environ.get("DAGLAB_SELECTION_EXAMPLES", "300")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(data=st.data())
def test_daglab_selects_what_dagster_selects(
    dagster_resolver: DagsterResolver, data: st.DataObject
) -> None:
    grammar = bool(dagster_resolver.info["grammar"])
    nodes = data.draw(graphs(grammar))
    texts = data.draw(st.lists(clauses(), min_size=2, max_size=4))
    if grammar:
        version = tuple(int(p) for p in str(dagster_resolver.info["version"]).split(".")[:2])
        texts += data.draw(st.lists(expressions(version), min_size=4, max_size=8))  # type: ignore[arg-type]
    else:
        texts += data.draw(st.lists(st.sampled_from(["tag:t=one", "tag:u=x"]), max_size=1))
    _compare(dagster_resolver, nodes, texts)


def test_the_comparison_can_fail(dagster_resolver: DagsterResolver) -> None:
    """Dagster answers, and a deliberately different answer would be caught: ``roots()`` of
    a chain with a gap (Dagster's roots are transitive within the selection)."""
    chain = [
        {"path": ["a"], "deps": [], "group": "g1", "tags": {}, "owners": [], "kinds": [],
         "materializable": True},
        {"path": ["b"], "deps": [["a"]], "group": "g2", "tags": {}, "owners": [], "kinds": [],
         "materializable": True},
        {"path": ["c"], "deps": [["b"]], "group": "g1", "tags": {}, "owners": [], "kinds": [],
         "materializable": True},
    ]  # fmt: skip
    grammar = bool(dagster_resolver.info["grammar"])
    text = "roots(group:g1)" if grammar else "a+"
    (answer,) = dagster_resolver.resolve(chain, [text])
    assert answer["keys"] == ([["a"]] if grammar else [["a"], ["b"]])
    assert daglab_keys(chain, text) == answer["keys"]
    # Direct neighbours only (daglab's old roots) would also have kept c: b is outside.
    assert answer["keys"] != [["a"], ["c"]]
