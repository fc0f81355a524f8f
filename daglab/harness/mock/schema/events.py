"""A run's event log: the event interfaces and types, the DagsterRunEvent union, pages of it."""

from __future__ import annotations

import enum
import functools
import operator
from typing import Annotated, Any

import strawberry

from daglab.harness.mock.records import EventRecord, RunRecord, decode_cursor, encode_cursor
from daglab.harness.mock.schema.enums import DagsterEventType, LogLevel
from daglab.harness.mock.schema.errors import PythonError, RunNotFoundError, python_error
from daglab.harness.mock.schema.workspace import AssetKey, asset_key


@strawberry.interface
class MessageEvent:
    run_id: str
    message: str
    timestamp: str
    level: LogLevel
    step_key: str | None = None
    solid_handle_id: str | None = strawberry.field(name="solidHandleID", default=None)
    event_type: DagsterEventType | None = None


@strawberry.interface
class StepEvent:
    step_key: str | None = None
    solid_handle_id: str | None = strawberry.field(name="solidHandleID", default=None)


@strawberry.interface
class RunEvent:
    pipeline_name: str


@strawberry.interface
class ErrorEvent:
    error: PythonError | None = None


@strawberry.interface
class DisplayableEvent:
    label: str | None = None
    description: str | None = None


@strawberry.interface
class MarkerEvent:
    marker_start: str | None = None
    marker_end: str | None = None


@strawberry.type
class RunEnqueuedEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunDequeuedEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunStartingEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunStartEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunSuccessEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunCancelingEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunSuspendedEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunResumedEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class AlertStartEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class AlertSuccessEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class AlertFailureEvent(MessageEvent, RunEvent):
    pass


@strawberry.type
class RunFailureEvent(MessageEvent, RunEvent, ErrorEvent):
    pass


@strawberry.type
class RunCanceledEvent(MessageEvent, RunEvent, ErrorEvent):
    pass


@strawberry.type
class AssetMaterializationPlannedEvent(MessageEvent, RunEvent):
    asset_key: AssetKey | None = None


@strawberry.type
class ExecutionStepStartEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class ExecutionStepSuccessEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class ExecutionStepSkippedEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class ExecutionStepRestartEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class ExecutionStepFailureEvent(MessageEvent, StepEvent, ErrorEvent):
    pass


@strawberry.type
class ExecutionStepUpForRetryEvent(MessageEvent, StepEvent, ErrorEvent):
    seconds_to_wait: float | None = None


@strawberry.type
class HookCompletedEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class HookSkippedEvent(MessageEvent, StepEvent):
    pass


@strawberry.type
class HookErroredEvent(MessageEvent, StepEvent, ErrorEvent):
    pass


@strawberry.type
class LogMessageEvent(MessageEvent):
    pass


@strawberry.type
class LogsCapturedEvent(MessageEvent):
    file_key: str
    log_key: str
    step_keys: list[str] | None = None
    external_url: str | None = None
    external_stdout_url: str | None = None
    external_stderr_url: str | None = None
    pid: int | None = None


@strawberry.type
class HandledOutputEvent(MessageEvent, StepEvent, DisplayableEvent):
    output_name: str
    manager_key: str


@strawberry.type
class LoadedInputEvent(MessageEvent, StepEvent, DisplayableEvent):
    input_name: str
    manager_key: str
    upstream_output_name: str | None = None
    upstream_step_key: str | None = None


@strawberry.type
class EngineEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent, ErrorEvent):
    pass


@strawberry.type
class StepWorkerStartingEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent):
    pass


@strawberry.type
class StepWorkerStartedEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent):
    pass


@strawberry.type
class ResourceInitStartedEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent):
    pass


@strawberry.type
class ResourceInitSuccessEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent):
    pass


@strawberry.type
class ResourceInitFailureEvent(MessageEvent, DisplayableEvent, StepEvent, MarkerEvent, ErrorEvent):
    pass


@strawberry.type
class MaterializationEvent(MessageEvent, StepEvent, DisplayableEvent):
    asset_key: AssetKey | None = None
    partition: str | None = None


@strawberry.type
class ObservationEvent(MessageEvent, StepEvent, DisplayableEvent):
    asset_key: AssetKey | None = None
    partition: str | None = None


@strawberry.type
class FailedToMaterializeEvent(MessageEvent, StepEvent, DisplayableEvent):
    asset_key: AssetKey | None = None
    partition: str | None = None


@strawberry.type
class AssetCheckEvaluationPlannedEvent(MessageEvent, StepEvent):
    asset_key: AssetKey
    check_name: str


@strawberry.enum
class AssetCheckSeverity(enum.Enum):
    WARN = "WARN"
    ERROR = "ERROR"


@strawberry.type
class AssetCheckEvaluation:
    timestamp: float
    check_name: str
    asset_key: AssetKey
    severity: AssetCheckSeverity
    success: bool
    description: str | None = None


@strawberry.type
class AssetCheckEvaluationEvent(MessageEvent, StepEvent):
    evaluation: AssetCheckEvaluation


# Every event type, in the order the DagsterRunEvent union lists them.
EVENT_TYPES: tuple[type, ...] = (
    RunEnqueuedEvent,
    RunDequeuedEvent,
    RunStartingEvent,
    RunStartEvent,
    RunSuccessEvent,
    RunCancelingEvent,
    RunSuspendedEvent,
    RunResumedEvent,
    AlertStartEvent,
    AlertSuccessEvent,
    AlertFailureEvent,
    RunFailureEvent,
    RunCanceledEvent,
    AssetMaterializationPlannedEvent,
    ExecutionStepStartEvent,
    ExecutionStepSuccessEvent,
    ExecutionStepSkippedEvent,
    ExecutionStepRestartEvent,
    ExecutionStepFailureEvent,
    ExecutionStepUpForRetryEvent,
    HookCompletedEvent,
    HookSkippedEvent,
    HookErroredEvent,
    LogMessageEvent,
    LogsCapturedEvent,
    HandledOutputEvent,
    LoadedInputEvent,
    EngineEvent,
    StepWorkerStartingEvent,
    StepWorkerStartedEvent,
    ResourceInitStartedEvent,
    ResourceInitSuccessEvent,
    ResourceInitFailureEvent,
    MaterializationEvent,
    ObservationEvent,
    FailedToMaterializeEvent,
    AssetCheckEvaluationPlannedEvent,
    AssetCheckEvaluationEvent,
)
_EVENT_CLASSES: dict[str, type] = {cls.__name__: cls for cls in EVENT_TYPES}

DagsterRunEvent = Annotated[
    functools.reduce(operator.or_, EVENT_TYPES), strawberry.union("DagsterRunEvent")
]


def render_event(run: RunRecord, event: EventRecord) -> Any:
    cls = _EVENT_CLASSES[event.typename]
    kwargs: dict[str, Any] = {
        "run_id": run.run_id,
        "message": event.message,
        "timestamp": str(int(event.at * 1000)),
        "level": LogLevel[event.level],
        "step_key": event.step_key,
        "solid_handle_id": event.step_key,
        "event_type": DagsterEventType[event.event_type] if event.event_type else None,
    }
    if issubclass(cls, RunEvent):
        kwargs["pipeline_name"] = run.job_name
    if issubclass(cls, ErrorEvent):
        kwargs["error"] = python_error(**event.error) if event.error else None
    if event.asset_path is not None:
        kwargs["asset_key"] = asset_key(event.asset_path)
        if issubclass(cls, DisplayableEvent):
            kwargs["label"] = "/".join(event.asset_path)
        if cls is MaterializationEvent:
            kwargs["partition"] = event.partition
    if cls is LogsCapturedEvent:
        kwargs["file_key"] = kwargs["log_key"] = event.file_key or ""
        kwargs["step_keys"] = [event.step_key] if event.step_key else None
    return cls(**kwargs)


@strawberry.type
class EventConnection:
    events: list[DagsterRunEvent]
    cursor: str
    has_more: bool


def event_page(
    run: RunRecord, now: float, after_cursor: str | None, limit: int | None
) -> EventConnection:
    after = decode_cursor(after_cursor)
    pending = [e for e in run.visible_events(now) if e.storage_id > after]
    page = pending if limit is None else pending[: max(limit, 0)]
    last = page[-1].storage_id if page else max(after, 0)
    return EventConnection(
        events=[render_event(run, e) for e in page],
        cursor=encode_cursor(last),
        has_more=len(page) < len(pending),
    )


EventConnectionOrError = Annotated[
    EventConnection | RunNotFoundError | PythonError, strawberry.union("EventConnectionOrError")
]
