"""Dagster's own answer to asset selections: run with the Python of a harness venv (it imports
dagster, never daglab). Reads one JSON request a line on stdin, ``{"assets": [...],
"selections": [...]}``, builds ``Definitions`` from the assets and prints, one JSON line per
request, what ``AssetSelection.from_string(text).resolve(graph)`` selects for each text (the
keys as component lists) or the error it raised. The first line printed says what this
Dagster has: ``{"version": ..., "grammar": bool}``."""

import inspect
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import dagster as dg  # noqa: E402
from dagster import AssetKey, AssetSelection, AssetSpec, Definitions  # noqa: E402

try:
    import dagster._core.definitions.antlr_asset_selection.antlr_asset_selection

    GRAMMAR = True
except ImportError:
    GRAMMAR = False

SPEC_PARAMS = set(inspect.signature(AssetSpec).parameters)


def build(assets):
    defs = []
    for i, node in enumerate(assets):
        kwargs = {
            "key": AssetKey(node["path"]),
            "deps": [AssetKey(d) for d in node["deps"]],
            "group_name": node["group"],
            "tags": node["tags"],
        }
        if "owners" in SPEC_PARAMS:
            kwargs["owners"] = node["owners"]
        if "kinds" in SPEC_PARAMS:
            kwargs["kinds"] = set(node["kinds"])
        spec = AssetSpec(**kwargs)
        if node["materializable"]:

            def fn():
                return None

            defs.append(dg.multi_asset(specs=[spec], name=f"op_{i}")(fn))
        else:
            defs.append(spec)
    definitions = Definitions(assets=defs)
    if hasattr(definitions, "resolve_asset_graph"):
        return definitions.resolve_asset_graph()
    return definitions.get_repository_def().asset_graph


def main():
    print(json.dumps({"version": dg.__version__, "grammar": GRAMMAR}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        graph = build(request["assets"])
        out = []
        for text in request["selections"]:
            try:
                keys = AssetSelection.from_string(text).resolve(graph)
                out.append({"keys": sorted(list(k.path) for k in keys)})
            except Exception as exc:
                out.append({"error": f"{type(exc).__name__}: {str(exc)[:200]}"})
        print(json.dumps(out), flush=True)


main()
