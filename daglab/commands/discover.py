"""``daglab discover``: what a Dagster deployment has, and where: locations, repositories,
jobs and assets, filtered, as tables, JSON or CSV."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab.commands._options import GlobalOptions, err, print_json, run_async, with_global_options

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from daglab.helpers.discovery import Discovery, Record

FILTER_HELP = "What to list: jobs, assets, repos, locations or all (comma-separated for several)."

# --filter word -> key in the JSON document, in display order.
_TYPES = {
    "locations": "locations",
    "location": "locations",
    "repos": "repositories",
    "repo": "repositories",
    "repositories": "repositories",
    "jobs": "jobs",
    "job": "jobs",
    "assets": "assets",
    "asset": "assets",
}
_ORDER = ("locations", "repositories", "jobs", "assets")


def register(app: typer.Typer) -> None:
    app.command("discover")(discover)


def parse_filter(text: str) -> list[str]:
    """``"jobs,assets"`` → ``["jobs", "assets"]``; ``all`` → every type. Raises BadInputError."""
    from daglab.helpers.errors import BadInputError

    chosen: set[str] = set()
    for word in (w.strip().lower() for w in text.split(",")):
        if word == "all":
            chosen.update(_ORDER)
        elif word in _TYPES:
            chosen.add(_TYPES[word])
        else:
            raise BadInputError(
                f"Unknown --filter {word!r}.",
                hint="Choose jobs, assets, repos, locations or all.",
            )
    return [t for t in _ORDER if t in chosen]


@with_global_options
def discover(
    opts: GlobalOptions,
    filter_: Annotated[str, typer.Option("--filter", help=FILTER_HELP, metavar="TYPES")] = "all",
    pattern: Annotated[
        str | None,
        typer.Option(
            "--pattern",
            metavar="GLOB",
            help="Shell-style wildcards on asset keys and on names: 'sales/*', '*/raw_*', "
            "'*_job'. Without --filter, the tables show only what matched.",
        ),
    ] = None,
    tags: Annotated[
        str | None,
        typer.Option(
            "--tags", metavar="K=V,...", help="Keep what has all these tags: key=value,key2=value2."
        ),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", metavar="GROUP", help="Keep assets of this group (repeatable)."),
    ] = None,
    location: Annotated[
        str | None, typer.Option("--location", metavar="NAME", help="Only this code location.")
    ] = None,
    repo: Annotated[
        str | None, typer.Option("--repo", metavar="NAME", help="Only this repository.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the result to FILE instead of printing tables: JSON when FILE ends "
            "in .json, CSV when it ends in .csv (one entity type only).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """List code locations, repositories, jobs and assets, with filters.

    Tables by default; --json prints one document with a key per type listed.
    A code location that failed to load is reported (with its error) and does not hide the others.
    With --pattern, --tags or --group and no --filter, only the types with a match are
    printed as tables (--json and --output still hold a key per type).
    """

    from daglab.helpers.discovery import EntityFilters, parse_tags
    from daglab.helpers.errors import BadInputError

    types = parse_filter(filter_)
    only_matches = _defaulted("filter_") and (pattern is not None or bool(tags) or bool(group))
    filters = EntityFilters(
        pattern=pattern,
        tags=parse_tags(tags) if tags is not None else None,
        groups=group or None,
        location=location,
        repository=repo,
    )
    if output is not None and output.suffix.lower() not in (".json", ".csv"):
        from daglab.helpers.checks import sanitize_input

        name = sanitize_input(str(output), "line")
        raise BadInputError(
            f"--output takes a file name ending in .json or .csv, not {name!r}.",
            hint="For JSON on stdout use --json; for a file, e.g. --output "
            f"{output.stem or 'discover'}.json.",
        )
    as_csv = output is not None and output.suffix.lower() == ".csv"
    if as_csv and len(types) != 1:
        raise BadInputError(
            "A CSV file holds one entity type.",
            hint="Choose one with --filter jobs|assets|repos|locations, or write .json.",
        )

    # A workspace of 10,000 assets parses into about a million objects, all alive until the
    # output is written: the cycle collector would only walk them again and again.
    gc.disable()
    found = run_async(_discover(opts, types, location, repo))
    for loc in found.failed_locations:
        first = (loc["error"] or "").strip().splitlines()
        reason = "".join(ch for ch in first[0] if ch.isprintable()) if first else ""
        err(
            f"Warning: code location {loc['name']!r} failed to load"
            + (f": {reason}" if reason else ".")
        )
    selected = _select(found, types, filters)
    document = selected  # records: what the models' to_json() would give

    if output is not None:
        from daglab.helpers.checks import safe_output_path

        output = safe_output_path(output)
        _write(output, document, types[0] if as_csv else None)
        counts = ", ".join(_count(t, len(document[t])) for t in types)
        err(f"Wrote {counts} to {output}.")
    if opts.json:
        print_json(document)
    elif output is None:
        _print_tables(selected, only_matches)


def _defaulted(param: str) -> bool:
    """Whether the option ``param`` was left to its default (not given on the command line)."""
    from typer._click.core import ParameterSource
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    return ctx is None or ctx.get_parameter_source(param) in (ParameterSource.DEFAULT, None)


async def _discover(
    opts: GlobalOptions, types: list[str], location: str | None, repo: str | None
) -> Discovery:
    from daglab.helpers.discovery import discover

    async with opts.client() as client:
        return await discover(client, types, location=location, repository=repo, records=True)


def _select(found: Discovery, types: list[str], filters: Any) -> dict[str, list[Record]]:
    """The entities of each type asked for that pass ``filters``, in a stable order."""
    from daglab.helpers.discovery import filter_entities

    selected: dict[str, list[Record]] = {}
    for kind in types:
        entities = getattr(found, kind) or []
        if kind == "jobs":
            entities = sorted(entities, key=lambda j: (j["location"], j["repository"], j["name"]))
        elif kind == "assets":
            entities = sorted(entities, key=lambda a: (a["key"], a["location"], a["repository"]))
        selected[kind] = filter_entities(entities, filters)
    return selected


def _write(path: Path, document: dict[str, list[dict[str, Any]]], csv_type: str | None) -> None:
    from daglab.commands._options import dumps_json
    from daglab.helpers.errors import BadInputError

    try:
        if csv_type is None:
            path.write_text(dumps_json(document) + "\n", encoding="utf-8")
            return
        import csv

        rows = document[csv_type]
        columns = list(rows[0]) if rows else _columns(csv_type)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _csv_cell(v) for k, v in row.items()})
    except OSError as exc:
        raise BadInputError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def _columns(csv_type: str) -> list[str]:
    from pydantic import BaseModel

    from daglab.helpers import models

    by_type: dict[str, type[BaseModel]] = {
        "locations": models.LocationInfo,
        "repositories": models.RepositoryInfo,
        "jobs": models.JobInfo,
        "assets": models.AssetInfo,
    }
    return list(by_type[csv_type].model_fields)


def _csv_cell(value: object) -> object:
    """Lists as ``a,b``, tags as ``k=v,k2=v2`` (the --tags syntax), booleans as true/false;
    server text cleaned and formulas defused (``daglab.helpers.text.csv_cell``)."""
    from daglab.helpers.text import csv_cell

    if isinstance(value, dict):
        return csv_cell(",".join(f"{k}={v}" for k, v in value.items()))
    if isinstance(value, list):
        return csv_cell(",".join(str(v) for v in value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return csv_cell(value)
    return "" if value is None else value


# -- tables -------------------------------------------------------------------------------------


def _compact_tags(tags: dict[str, str]) -> str:
    """``k=v k2=v2`` (``k`` alone for an empty value); wraps between tags when narrow."""
    from daglab.commands._render import sanitize

    return " ".join(sanitize(f"{k}={v}" if v else k) for k, v in tags.items())


def _widest_tag(tag_sets: Any) -> int:
    """The width of the longest single tag (``k=v``), up to 30: a Tags column at least that
    wide wraps between tags, not inside one."""
    widths = [len(f"{k}={v}" if v else k) for tags in tag_sets for k, v in tags.items()]
    return min(max(widths, default=4), 30)


def _short_partitions(asset: Record) -> str:
    """``"Daily, starting 2024-01-01 UTC."`` → ``"Daily"``: the table shows the gist, JSON all."""
    if not asset["partitioned"]:
        return ""
    text = (asset["partitions"] or "yes").split(",")[0].strip().rstrip(".")
    return text if len(text) <= 24 else text[:23] + "…"


def _print_tables(selected: dict[str, list[Any]], only_matches: bool = False) -> None:
    """One table per type; with ``only_matches`` the types where nothing matched are left out
    (a pattern for asset keys prints no "Jobs: none match")."""
    import os

    from daglab.commands._render import console

    out = console()
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = 250  # piped: one line per row, for grep and friends
    printers: dict[str, Callable[[Console, list[Any]], None]] = {
        "locations": _locations_table,
        "repositories": _repositories_table,
        "jobs": _jobs_table,
        "assets": _assets_table,
    }
    if only_matches:
        selected = {kind: rows for kind, rows in selected.items() if rows}
        if not selected:
            out.print("Nothing matches.")
            return
    for kind, rows in selected.items():
        printers[kind](out, rows)
    out.print(" · ".join(_count(kind, len(rows)) for kind, rows in selected.items()))


_NOUNS = {
    "locations": ("location", "locations"),
    "repositories": ("repository", "repositories"),
    "jobs": ("job", "jobs"),
    "assets": ("asset", "assets"),
}


def _count(kind: str, count: int) -> str:
    from daglab.helpers.text import plural

    return plural(count, *_NOUNS[kind])


def _table(title: str) -> Any:
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def _fixed_column(table: Any, header: str, values: list[str]) -> None:
    width = max([len(header), *(len(v) for v in values)])
    table.add_column(header, no_wrap=True, min_width=min(width, 60))


def _empty(out: Console, title: str) -> None:
    out.print(f"{title}: none match.\n")


def _locations_table(out: Console, rows: list[Record]) -> None:
    from daglab.commands._render import sanitize

    if not rows:
        return _empty(out, "Code locations")
    table = _table(f"Code locations ({len(rows)})")
    for column in ("Location", "Status", "Repositories", "Error"):
        table.add_column(column)
    for loc in rows:
        error = (loc["error"] or "").strip().splitlines()
        status = loc["load_status"] if loc["load_status"] != "FAILED" else "[red]FAILED[/red]"
        table.add_row(
            sanitize(loc["name"]),
            status,
            ", ".join(sanitize(r) for r in loc["repositories"]),
            sanitize(error[-1] if error else ""),
        )
    out.print(table)


def _repositories_table(out: Console, rows: list[Record]) -> None:
    from daglab.commands._render import sanitize

    if not rows:
        return _empty(out, "Repositories")
    table = _table(f"Repositories ({len(rows)})")
    table.add_column("Repository")
    table.add_column("Location")
    for repo in rows:
        table.add_row(sanitize(repo["name"]), sanitize(repo["location"]))
    out.print(table)


def _show_repository(rows: list[Any]) -> bool:
    return any(row["repository"] != "__repository__" for row in rows)


def _jobs_table(out: Console, rows: list[Record]) -> None:
    from daglab.commands._render import sanitize

    if not rows:
        return _empty(out, "Jobs")
    with_repo = _show_repository(rows)
    table = _table(f"Jobs ({len(rows)})")
    _fixed_column(table, "Job", [j["name"] for j in rows])
    _fixed_column(table, "Location", [j["location"] for j in rows])
    if with_repo:
        _fixed_column(table, "Repository", [j["repository"] for j in rows])
    table.add_column("Kind", no_wrap=True)
    table.add_column("Tags", overflow="fold", min_width=_widest_tag(j["tags"] for j in rows))
    table.add_column("Description", ratio=1, min_width=20)
    for job in rows:
        cells = [sanitize(job["name"]), sanitize(job["location"])]
        if with_repo:
            cells.append(sanitize(job["repository"]))
        first_line = (job["description"] or "").strip().splitlines()
        cells += [
            "assets" if job["is_asset_job"] else "ops",
            _compact_tags(job["tags"]),
            sanitize(first_line[0] if first_line else ""),
        ]
        table.add_row(*cells)
    out.print(table)


def _assets_table(out: Console, rows: list[Record]) -> None:
    from daglab.commands._render import sanitize

    if not rows:
        return _empty(out, "Assets")

    def partitions(asset: Record) -> str:
        text = _short_partitions(asset)
        if not asset["materializable"]:
            text = (text + " " if text else "") + "(not materializable)"
        return text

    # (header, cell, fixed width?); key, group and location never shrink.
    columns: list[tuple[str, Callable[[Record], str], bool]] = [
        ("Asset", lambda a: a["key"], True),
        ("Group", lambda a: a["group"], True),
        ("Location", lambda a: a["location"], True),
    ]
    if _show_repository(rows):
        columns.append(("Repository", lambda a: a["repository"], True))
    optional: list[tuple[str, Callable[[Record], str], bool]] = [
        ("Kinds", lambda a: " ".join(a["kinds"]), False),
        ("Tags", lambda a: " ".join(f"{k}={v}" if v else k for k, v in a["tags"].items()), False),
        ("Partitions", partitions, False),
        ("Jobs", lambda a: " ".join(a["jobs"]), False),
    ]
    cells = {header: [sanitize(cell(a)) for a in rows] for header, cell, _ in columns + optional}
    # Leave out columns empty in every row, then, on a narrow terminal, the least needed ones.
    optional = [c for c in optional if any(cells[c[0]])]
    tag_width = _widest_tag(a["tags"] for a in rows)
    for drop in ("Partitions", "Kinds", "Jobs", "Tags"):  # Tags last, never cut inside a tag
        if _min_width(columns + optional, cells, tag_width) <= out.width:
            break
        optional = [c for c in optional if c[0] != drop]
    shown = columns + optional

    table = _table(f"Assets ({len(rows)})")
    for header, _, fixed in shown:
        if fixed:
            _fixed_column(table, header, cells[header])
        elif header == "Tags":  # wraps between tags, never inside one
            table.add_column(header, overflow="fold", min_width=tag_width)
        else:
            table.add_column(header, overflow="fold")
    for i in range(len(rows)):
        table.add_row(*(cells[header][i] for header, _, _ in shown))
    out.print(table)


def _min_width(
    columns: list[tuple[str, Any, bool]], cells: dict[str, list[str]], tag_width: int
) -> int:
    """The width a table of ``columns`` needs: fixed ones whole, Tags as wide as its widest
    tag, others at 12 characters; three between columns and one before the first."""
    total = 1
    for header, _, fixed in columns:
        widest = max([len(header), *(len(c) for c in cells[header])])
        if fixed:
            total += min(widest, 60)
        elif header == "Tags":
            total += max(tag_width, len(header))
        else:
            total += min(widest, 12)
    return total + 3 * (len(columns) - 1)
