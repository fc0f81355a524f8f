"""The Subscription root: a run's logs, past events then new ones as they happen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from daglab.harness.mock.records import decode_cursor, encode_cursor
from daglab.harness.mock.schema.context import mock_context
from daglab.harness.mock.schema.events import render_event
from daglab.harness.mock.schema.runs import (
    PipelineRunLogsSubscriptionFailure,
    PipelineRunLogsSubscriptionPayload,
    PipelineRunLogsSubscriptionSuccess,
    Run,
)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def pipeline_run_logs(
        self, info: Info, run_id: strawberry.ID, cursor: str | None = None
    ) -> AsyncGenerator[PipelineRunLogsSubscriptionPayload, None]:
        """Like Dagster's: past events, then new ones as they happen; it never completes."""
        ctx = mock_context(info)
        rec = ctx.state.get_run(str(run_id))
        if rec is None:
            yield PipelineRunLogsSubscriptionFailure(
                message=f"Could not load run with id {run_id}", missing_run_id=str(run_id)
            )
            return
        after = -1 if cursor in (None, "HEAD") else decode_cursor(cursor)
        if cursor == "HEAD":
            visible = rec.visible_events(ctx.state.now())
            after = visible[-1].storage_id if visible else -1
        first = True
        while True:
            now = ctx.state.now()
            new = [e for e in rec.visible_events(now) if e.storage_id > after]
            if new or first:
                if new:
                    after = new[-1].storage_id
                first = False
                yield PipelineRunLogsSubscriptionSuccess(
                    run=Run(rec=rec, now=now),
                    messages=[render_event(rec, e) for e in new],
                    has_more_past_events=False,
                    cursor=encode_cursor(max(after, 0)),
                )
            await asyncio.sleep(0.05)
