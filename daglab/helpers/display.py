"""How helper results look: compact HTML tables in Jupyter, plain text tables elsewhere,
and live run progress (a display updated in place in a notebook, a status line in a terminal).

Every value from the server is HTML-escaped before it goes into markup, and control
characters are stripped before it goes to a terminal.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, SupportsIndex, TypeVar, overload

from daglab.helpers.text import clean as _clean_text
from daglab.helpers.text import plural

T = TypeVar("T")

_MAX_CELL = 200

_STATUS_COLORS = {
    "SUCCESS": "#1a7f37",
    "FAILURE": "#cf222e",
    "CANCELED": "#9a6700",
    "CANCELING": "#9a6700",
}


# -- formatting -------------------------------------------------------------------------


def clean(value: object) -> str:
    """Text safe for a terminal or a notebook: no escape sequences, control characters or
    bidi overrides (``daglab.helpers.text.clean``, the one sanitizer)."""
    return _clean_text(value)


def format_bytes(value: int | float | None) -> str:
    if value is None:
        return "n/a"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


def format_seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    if value < 120:
        return f"{value:.2f} s"
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)}m{seconds:02.0f}s"


def format_time(epoch: float | None) -> str:
    if not epoch:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = ", ".join(f"{k}={v}" for k, v in value.items())
    text = clean(value).replace("\n", " ")
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    caption: str | None = None,
    links: dict[int, int] | None = None,
) -> str:
    """A small HTML table; every cell is escaped. ``links`` maps a column to the column
    holding its URL (http/https only)."""
    out = ['<table class="daglab" style="border-collapse:collapse;font-size:0.9em">']
    if caption:
        out.append(
            f'<caption style="text-align:left;font-weight:bold">{html.escape(caption)}</caption>'
        )
    out.append("<thead><tr>")
    out.extend(
        f'<th style="text-align:left;padding:2px 8px">{html.escape(h)}</th>' for h in headers
    )
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for index, value in enumerate(row):
            text = html.escape(_cell_text(value))
            url = None
            if links and index in links:
                target = row[links[index]]
                url = str(target) if isinstance(target, str) else None
            if url and url.startswith(("http://", "https://")):
                text = f'<a href="{html.escape(url, quote=True)}" target="_blank">{text}</a>'
            color = _STATUS_COLORS.get(str(value)) if headers[index] == "status" else None
            style = "text-align:left;padding:2px 8px;vertical-align:top"
            if color:
                style += f";color:{color};font-weight:bold"
            out.append(f'<td style="{style}">{text}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def text_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[_cell_text(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(v.ljust(widths[i]) for i, v in enumerate(row)).rstrip() for row in cells)
    return "\n".join(lines)


# -- what a model looks like as a table --------------------------------------------------


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _job_row(job: Any) -> list[object]:
    return [
        _get(job, "name"),
        _get(job, "location"),
        _get(job, "repository"),
        _get(job, "description") or "",
        _get(job, "tags") or {},
    ]


def _asset_row(asset: Any) -> list[object]:
    partitions = _get(asset, "partitions")
    partitioned = _get(asset, "partitioned")
    if partitioned:
        count = len(partitions) if isinstance(partitions, (list, tuple)) else None
        part_text = f"yes ({count})" if count is not None else "yes"
    else:
        part_text = ""
    return [
        _get(asset, "key"),
        _get(asset, "group"),
        _get(asset, "location"),
        _get(asset, "kinds") or [],
        part_text,
        _get(asset, "deps") or [],
        _get(asset, "description") or "",
    ]


def _location_row(loc: Any) -> list[object]:
    return [
        _get(loc, "name"),
        _get(loc, "load_status"),
        _get(loc, "repositories") or [],
        (_get(loc, "error") or "").strip().splitlines()[0] if _get(loc, "error") else "",
    ]


def _health_row(h: Any) -> list[object]:
    latest = _get(h, "latest_materialization")
    parts = _get(h, "partitions")
    checks = _get(h, "checks") or []
    failed = [c.name for c in checks if c.passed is False]
    return [
        _get(h, "key"),
        format_time(latest.timestamp) if latest is not None else "never",
        latest.run_id[:8] if latest is not None else "",
        _get(h, "latest_run_status") or "",
        _get(h, "stale_status") or "",
        (
            f"{parts.materialized}/{parts.total} ok, {parts.failed} failed, {parts.missing} missing"
            if parts is not None
            else ""
        ),
        f"{len(checks) - len(failed)} of {plural(len(checks), 'check')} passing" if checks else "",
    ]


def _check_row(c: Any) -> list[object]:
    return [
        _get(c, "asset"),
        _get(c, "name"),
        "yes" if _get(c, "blocking") else "",
        _get(c, "status") or "never executed",
        _get(c, "severity") or "",
        _get(c, "run_id") or "",
    ]


def _materialization_row(m: Any) -> list[object]:
    return [
        format_time(_get(m, "timestamp")),
        _get(m, "run_id"),
        _get(m, "partition") or "",
        "; ".join(
            f"{i.label}={i.value if i.value is not None else i.type}"
            for i in _get(m, "metadata") or []
        ),
    ]


_TABLES: dict[str, tuple[list[str], Callable[[Any], list[object]]]] = {
    "AssetHealth": (
        ["asset", "materialized", "run", "latest run", "staleness", "partitions", "checks"],
        _health_row,
    ),
    "AssetCheckInfo": (["asset", "check", "blocking", "latest", "severity", "run"], _check_row),
    "MaterializationRecord": (
        ["materialized", "run", "partition", "metadata"],
        _materialization_row,
    ),
    "JobInfo": (["name", "location", "repository", "description", "tags"], _job_row),
    "AssetInfo": (
        ["key", "group", "location", "kinds", "partitioned", "deps", "description"],
        _asset_row,
    ),
    "LocationInfo": (["name", "status", "repositories", "error"], _location_row),
    "InstigatorInfo": (
        ["kind", "name", "status", "declared", "location", "when", "next tick", "last tick"],
        lambda i: [
            i.kind,
            i.name,
            i.status,
            i.default_status,
            i.location,
            i.cron_schedule or f"every {i.min_interval_seconds}s",
            format_time(i.next_tick),
            i.ticks[0].status if i.ticks else "",
        ],
    ),
    "DaemonInfo": (
        ["daemon", "required", "healthy", "last heartbeat"],
        lambda d: [d.daemon_type, d.required, d.healthy, format_time(d.last_heartbeat)],
    ),
}


def _status_of(result: Any) -> str:
    status = _get(result, "status")
    return str(getattr(status, "value", status) or "")


def run_result_rows(result: Any) -> list[tuple[str, object]]:
    """The fields of a RunResult worth showing, in order, skipping the empty ones."""
    rows: list[tuple[str, object]] = []
    names = [
        ("run id", "run_id"),
        ("status", "status"),
        ("job", "job"),
        ("location", "location"),
        ("repository", "repository"),
        ("assets", "asset_selection"),
        ("started", "started_at"),
        ("ended", "ended_at"),
        ("duration", "duration_s"),
        ("materialized", "materialized"),
        ("checks", "checks"),
        ("skipped", "steps_skipped"),
        ("error", "error"),
        ("url", "url"),
    ]
    for label, attr in names:
        value = _get(result, attr)
        if value in (None, "", [], ()):
            continue
        if attr == "status":
            value = _status_of(result)
        elif attr == "checks":
            value = ", ".join(_check_text(c) for c in value)
        elif attr in ("started_at", "ended_at") and isinstance(value, (int, float)):
            value = format_time(value)
        elif attr == "duration_s" and isinstance(value, (int, float)):
            value = format_seconds(value)
        elif isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        elif attr == "error":
            value = error_text(value)
        rows.append((label, value))
    return rows


def _check_text(check: Any) -> str:
    passed = _get(check, "passed")
    verdict = "passed" if passed else f"FAILED ({_get(check, 'severity') or 'ERROR'})"
    return f"{_get(check, 'name')} on {_get(check, 'asset')} {verdict}"


def error_text(error: Any) -> str:
    """A RunError (message and failing step) or any error value, as one line of text."""
    if error is None or isinstance(error, str):
        return error or ""
    message = _get(error, "message") or str(error)
    step = _get(error, "step")
    return f"{step}: {message}" if step else str(message)


def run_result_html(result: Any) -> str:
    rows = run_result_rows(result)
    url = _get(result, "url")
    out = ['<table class="daglab" style="border-collapse:collapse;font-size:0.9em"><tbody>']
    for label, value in rows:
        text = html.escape(_cell_text(value))
        if label == "url" and isinstance(url, str) and url.startswith(("http://", "https://")):
            text = f'<a href="{html.escape(url, quote=True)}" target="_blank">{text}</a>'
        style = "text-align:left;padding:2px 8px"
        if label == "status" and (color := _STATUS_COLORS.get(str(value))):
            style += f";color:{color};font-weight:bold"
        out.append(
            f'<tr><th style="text-align:left;padding:2px 8px">{html.escape(label)}</th>'
            f'<td style="{style}">{text}</td></tr>'
        )
    out.append("</tbody></table>")
    return "".join(out)


def run_result_text(result: Any) -> str:
    rows = run_result_rows(result)
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join(f"{label.ljust(width)}  {_cell_text(value)}" for label, value in rows)


def runs_html(results: Iterable[Any]) -> str:
    items = list(results)
    return html_table(
        ["run id", "status", "job", "assets", "duration", "url"],
        [
            [
                _get(r, "run_id"),
                _status_of(r),
                _get(r, "job"),
                _get(r, "asset_selection") or [],
                format_seconds(_get(r, "duration_s")) if _get(r, "duration_s") else "",
                _get(r, "url"),
            ]
            for r in items
        ],
        caption=plural(len(items), "run"),
    )


def _problem_where(problem: Any) -> str:
    where = _get(problem, "where")
    if where:
        return str(where)
    path = _get(problem, "path") or []
    return ":".join(["root", *map(str, path)]) if isinstance(path, list) else str(path)


def validation_html(result: Any) -> str:
    valid = bool(_get(result, "valid"))
    head = f"Config for {_get(result, 'job') or _get(result, 'job_name') or 'the job'}: " + (
        "valid" if valid else "invalid"
    )
    errors = _get(result, "errors") or []
    if valid or not errors:
        color = "#1a7f37" if valid else "#cf222e"
        return f'<p style="color:{color};font-weight:bold">{html.escape(head)}</p>'
    rows = [[_problem_where(e), _get(e, "message") or str(e)] for e in errors]
    return html_table(["path", "problem"], rows, caption=head)


def validation_text(result: Any) -> str:
    valid = bool(_get(result, "valid"))
    lines = [
        f"Config for {_get(result, 'job') or _get(result, 'job_name') or 'the job'}: "
        + ("valid" if valid else "invalid")
    ]
    for e in _get(result, "errors") or []:
        lines.append(f"  {clean(_problem_where(e))}: {clean(_get(e, 'message') or e)}")
    return "\n".join(lines)


# -- lists that render as tables ----------------------------------------------------------


class EntityList(list[T]):
    """A plain list of jobs, assets or locations that shows itself as a table."""

    kind = "item"

    def _table(self) -> tuple[list[str], list[list[object]]]:
        if not self:
            return [], []
        spec = _TABLES.get(type(self[0]).__name__)
        if spec is None:
            return ["value"], [[str(item)] for item in self]
        headers, row = spec
        return headers, [row(item) for item in self]

    def _caption(self) -> str:
        return plural(len(self), self.kind)

    def _repr_html_(self) -> str:
        headers, rows = self._table()
        if not headers:
            return f"<p>No {html.escape(self.kind)}s found.</p>"
        return html_table(headers, rows, caption=self._caption())

    def __repr__(self) -> str:
        headers, rows = self._table()
        if not headers:
            return f"No {self.kind}s found."
        return f"{self._caption()}\n{text_table(headers, rows)}"

    __str__ = __repr__

    @overload
    def __getitem__(self, index: SupportsIndex) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> EntityList[T]: ...

    def __getitem__(self, index: SupportsIndex | slice) -> T | EntityList[T]:
        if isinstance(index, slice):
            return type(self)(super().__getitem__(index))
        return super().__getitem__(index)

    def names(self) -> list[str]:
        """Job names, asset keys or location names, in order."""
        return [str(_get(item, "key") or _get(item, "name")) for item in self]

    def to_json(self) -> list[Any]:
        return [
            item.model_dump(mode="json") if hasattr(item, "model_dump") else item for item in self
        ]

    def filter(
        self,
        pattern: str | None = None,
        *,
        tags: Mapping[str, str] | Iterable[str] | str | None = None,
        groups: Iterable[str] | None = None,
        location: str | None = None,
        repository: str | None = None,
    ) -> EntityList[T]:
        """The entries matching a glob ``pattern`` (on the name or asset key), tags
        (``{"team": "data"}``, ``"team=data"`` or ``["team=data"]``), groups, location and repository."""
        from daglab.helpers.discovery import EntityFilters, filter_entities

        filters = EntityFilters(
            pattern=pattern,
            tags=tag_dict(tags),
            groups=list(groups) if groups else None,
            location=location,
            repository=repository,
        )
        return type(self)(filter_entities(list(self), filters))


def tag_dict(tags: Mapping[str, str] | Iterable[str] | str | None) -> dict[str, str] | None:
    """Tags as a dict, from a dict, ``"k=v,k2=v2"`` or ``["k=v", ...]``."""
    if tags is None:
        return None
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    from daglab.helpers.discovery import parse_tags

    if isinstance(tags, str):
        return parse_tags(tags)
    return parse_tags(",".join(tags))


class JobList(EntityList[T]):
    kind = "job"


class AssetList(EntityList[T]):
    kind = "asset"


class LocationList(EntityList[T]):
    kind = "location"


class HealthList(EntityList[T]):
    kind = "asset"


class CheckList(EntityList[T]):
    kind = "check"


class MaterializationList(EntityList[T]):
    kind = "materialization"


class RunList(list[T]):
    """Runs, shown as one table."""

    def _repr_html_(self) -> str:
        return runs_html(self)

    def __repr__(self) -> str:
        return text_table(
            ["run id", "status", "job", "duration"],
            [
                [
                    _get(r, "run_id"),
                    _status_of(r),
                    _get(r, "job"),
                    format_seconds(_get(r, "duration_s")) if _get(r, "duration_s") else "",
                ]
                for r in self
            ],
        )

    __str__ = __repr__


# -- IPython integration ----------------------------------------------------------------


def ipython_shell() -> Any:
    """The running IPython shell, or None (without importing IPython)."""
    module = sys.modules.get("IPython")
    if module is None:
        return None
    try:
        return module.get_ipython()
    except Exception:  # pragma: no cover - a broken IPython
        return None


def in_notebook() -> bool:
    """True in a Jupyter kernel (where rich output is shown), False in a terminal or script."""
    shell = ipython_shell()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


_installed: set[int] = set()


def install_formatters() -> None:
    """Teach IPython to show daglab's pydantic models (RunResult, ...) as HTML tables."""
    shell = ipython_shell()
    if shell is None or id(shell) in _installed:
        return
    _installed.add(id(shell))
    try:
        html_formatter = shell.display_formatter.formatters["text/html"]
        text_formatter = shell.display_formatter.formatters["text/plain"]
    except (AttributeError, KeyError):  # pragma: no cover
        return
    from daglab.helpers import models

    # By the classes themselves, not by module and name: the models live in the area modules
    # of ``models/`` (``models.runs``, ...), whatever ``models`` re-exports them as.
    html_formatter.for_type(models.RunResult, run_result_html)
    html_formatter.for_type(models.RunSubmitResult, run_result_html)
    html_formatter.for_type(models.ValidationResult, validation_html)
    for model in (
        models.JobInfo,
        models.AssetInfo,
        models.LocationInfo,
        models.AssetHealth,
        models.AssetCheckInfo,
        models.InstigatorInfo,
        models.DaemonInfo,
    ):
        html_formatter.for_type(model, _single_html)
    for result in (models.RunResult, models.RunSubmitResult):
        text_formatter.for_type(result, lambda obj, p, cycle: p.text(run_result_text(obj)))


def _single_html(obj: Any) -> str:
    headers, row = _TABLES[type(obj).__name__]
    return html_table(headers, [row(obj)])
