"""Dump the GraphQL SDL of each supported Dagster minor into ``tests/schemas/dagster-<minor>.graphql``.

    python ci/dump_schemas.py            # every minor in SUPPORTED_VERSIONS
    python ci/dump_schemas.py 1.9 1.13   # just these

Each minor's SDL comes from its harness environment (``daglab.harness.envs.ensure_env``, made
with uv on first use), by ``dagster_graphql.schema.create_schema()``, the call that works in
every version. The file starts with a two-line ``#`` header naming what produced it.
``nox -s schemas`` runs this; ``tests/unit/test_schema_coverage.py`` reads the files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "tests" / "schemas"

# Runs inside the Dagster environment; prints the SDL and the versions that made it.
_PROBE = """
import json, platform
from importlib.metadata import version
from dagster_graphql.schema import create_schema
print(json.dumps({
    "sdl": str(create_schema()),
    "dagster": version("dagster"),
    "dagster_graphql": version("dagster-graphql"),
    "graphene": version("graphene"),
    "graphql_core": version("graphql-core"),
    "python": ".".join(platform.python_version_tuple()[:2]),
}))
"""

HEADER_CALL = "from dagster_graphql.schema import create_schema; print(create_schema())"


def render(dump: dict[str, str]) -> str:
    """The file: the two-line header, then the SDL, ending in one newline."""
    header = (
        f"# Dagster GraphQL schema dumped with: {HEADER_CALL}\n"
        f"# dagster {dump['dagster']} + dagster-graphql {dump['dagster_graphql']}, "
        f"graphene {dump['graphene']}, graphql-core {dump['graphql_core']}, "
        f"Python {dump['python']}\n"
    )
    return header + dump["sdl"].rstrip("\n") + "\n"


def dump_schema(minor: str, python: Path) -> dict[str, str]:
    proc = subprocess.run(
        [str(python), "-c", _PROBE], capture_output=True, text=True, timeout=600, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"dumping the schema of Dagster {minor} failed:\n{proc.stderr.strip()[-3000:]}"
        )
    data = json.loads(proc.stdout)
    if not isinstance(data, dict) or not isinstance(data.get("sdl"), str):
        raise RuntimeError(f"unexpected output from Dagster {minor}'s environment")
    return data


def dump_schemas(minors: Iterable[str] | None = None, out_dir: Path = SCHEMAS) -> list[Path]:
    """Write ``dagster-<minor>.graphql`` for each minor (default: every supported one)."""
    from daglab.harness.envs import SUPPORTED_VERSIONS, ensure_env, normalize_minor

    chosen = [normalize_minor(m) for m in (minors or SUPPORTED_VERSIONS)]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for minor in chosen:
        dump = dump_schema(minor, ensure_env(minor))
        path = out_dir / f"dagster-{minor}.graphql"
        text = render(dump)
        changed = not path.exists() or path.read_text(encoding="utf-8") != text
        path.write_text(text, encoding="utf-8")
        state = "updated" if changed else "unchanged"
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        print(f"Dagster {minor}: {shown} ({dump['dagster']}, {state})")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    from daglab.harness.envs import HarnessError

    try:
        dump_schemas(argv or None)
    except (HarnessError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main(sys.argv[1:]))
