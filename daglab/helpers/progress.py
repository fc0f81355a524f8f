"""Live progress of a watched run: a display updated in place in Jupyter, a status line in a
terminal, nothing where nobody watches. The sync twin hands updates to the waiting thread."""

from __future__ import annotations

import html
import sys
import time
from contextvars import ContextVar
from typing import Any

from daglab.helpers.display import (
    _STATUS_COLORS,
    _get,
    _status_of,
    clean,
    error_text,
    format_seconds,
    in_notebook,
)
from daglab.helpers.text import plural


class Progress:
    """Shows one run's progress while it is watched; ``update`` is cheap to call often."""

    def __init__(self, label: str, *, mode: str) -> None:
        self.label = label
        self.mode = mode
        self.started = time.monotonic()
        self._handle: Any = None
        self._last_shown = 0.0
        self._last_key: tuple[object, ...] | None = None
        self._line_open = False
        self.status = ""  # none shown until the server tells one
        self.run_id: str | None = None
        self.url: str | None = None
        self.detail = ""

    def update(
        self,
        *,
        status: str | None = None,
        run_id: str | None = None,
        url: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.status = status or self.status
        self.run_id = run_id or self.run_id
        self.url = url or self.url
        if detail:
            self.detail = clean(detail).strip().splitlines()[0][:160] if detail.strip() else ""
        key = (self.status, self.run_id, self.detail)
        now = time.monotonic()
        if key == self._last_key and now - self._last_shown < 1.0:
            return
        self._last_key, self._last_shown = key, now
        self._show(final=False)

    def finish(self, result: Any = None) -> None:
        if result is not None:
            self.status = _status_of(result) or self.status
            self.run_id = _get(result, "run_id") or self.run_id
            self.url = _get(result, "url") or self.url
            error = error_text(_get(result, "error"))
            materialized = _get(result, "materialized") or []
            steps = _get(result, "steps_succeeded") or []
            if error.strip():
                self.detail = clean(error).strip().splitlines()[0][:160]
            elif materialized:
                self.detail = f"{plural(len(materialized), 'asset')} materialized"
            elif steps:
                self.detail = f"{plural(len(steps), 'step')} succeeded"
        self._show(final=True)

    def _elapsed(self) -> str:
        return format_seconds(time.monotonic() - self.started)

    def _show(self, *, final: bool) -> None:
        if self.mode == "notebook":
            self._show_notebook()
        elif self.mode == "terminal":
            self._show_terminal(final)

    def _html(self) -> str:
        color = _STATUS_COLORS.get(self.status, "#0969da")
        parts = [f"<b>{html.escape(self.label)}</b>"]
        if self.status:
            parts.append(
                f'<span style="color:{color};font-weight:bold">{html.escape(self.status)}</span>'
            )
        parts.append(html.escape(self._elapsed()))
        if self.run_id:
            rid = html.escape(self.run_id[:8])
            if self.url and self.url.startswith(("http://", "https://")):
                rid = f'<a href="{html.escape(self.url, quote=True)}" target="_blank">{rid}</a>'
            parts.append(f"run {rid}")
        if self.detail:
            parts.append(f"<code>{html.escape(self.detail)}</code>")
        return '<div class="daglab-progress">' + " · ".join(parts) + "</div>"

    def _show_notebook(self) -> None:
        try:
            from IPython.display import HTML, display
        except ImportError:  # pragma: no cover
            self.mode = "off"
            return
        content = HTML(self._html())
        if self._handle is None:
            self._handle = display(content, display_id=True)
        else:
            self._handle.update(content)

    def _text(self) -> str:
        parts = [self.label, *([self.status] if self.status else []), self._elapsed()]
        if self.run_id:
            parts.append(f"run {self.run_id}")
        if self.detail:
            parts.append(self.detail)
        return " · ".join(clean(p) for p in parts)

    def _show_terminal(self, final: bool) -> None:
        stream = sys.stderr
        line = self._text()
        try:
            if stream.isatty():
                stream.write("\r\x1b[K" + line + ("\n" if final else ""))
            else:
                stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed stream must not break the run
            self.mode = "off"


def progress_mode(progress: bool | None) -> str:
    """``"notebook"``, ``"terminal"`` or ``"off"``: None means on wherever someone watches."""
    if progress is False:
        return "off"
    if in_notebook():
        return "notebook"
    if progress is True:
        return "terminal"
    try:
        return "terminal" if sys.stderr.isatty() else "off"
    except (AttributeError, ValueError):
        return "off"


# Set by the sync twin: updates are queued here and shown by the thread that waits for the
# result (the notebook's main thread), not by the background event loop's thread.
caller_queue: ContextVar[Any] = ContextVar("daglab_caller_queue", default=None)


class _QueuedProgress:
    """Hands each update to the waiting caller's thread."""

    def __init__(self, target: Progress, queue: Any) -> None:
        self._target = target
        self._queue = queue

    def update(self, **kwargs: Any) -> None:
        self._queue.put(lambda: self._target.update(**kwargs))

    def finish(self, result: Any = None) -> None:
        self._queue.put(lambda: self._target.finish(result))


def open_progress(label: str, progress: bool | None) -> Progress | _QueuedProgress | None:
    """A live progress view for one run, or None when nobody would see it."""
    mode = progress_mode(progress)
    if mode == "off":
        return None
    view = Progress(label, mode=mode)
    queue = caller_queue.get()
    return view if queue is None else _QueuedProgress(view, queue)
