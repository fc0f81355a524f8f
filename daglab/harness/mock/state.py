"""The mock's run state machine: the runs it launches, their events, and their end.

Plain Python, no GraphQL: ``schema/`` renders these records as Dagster's types. A run's
whole life (statuses and events, each with the time it happens) is planned when it is
launched; queries show what has happened by "now" (``MockState.clock``), so a run progresses
STARTING → STARTED → SUCCESS (or FAILURE) without any background task.
"""

from __future__ import annotations

import random
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from daglab.harness.mock.definitions import (
    ASSET_JOB,
    AssetDef,
    AssetPath,
    JobDef,
    LocationDef,
    fixture_locations,
)
from daglab.harness.mock.records import (
    BackfillRecord,
    EventRecord,
    RunRecord,
    UnknownTarget,
    captured_lines,
)
from daglab.helpers.statuses import TERMINAL_STATUSES


class MockState:
    """Locations, runs and event log of one mock server. Thread-safe: the HTTP server's
    thread and the test's thread both use it."""

    def __init__(
        self,
        locations: dict[str, LocationDef] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.locations = locations if locations is not None else fixture_locations()
        self.runs: dict[str, RunRecord] = {}
        self.backfills: dict[str, BackfillRecord] = {}
        self.clock = clock
        self._lock = threading.RLock()
        self._storage_id = 0

    # -- lookups -------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock()

    def loaded_locations(self) -> list[LocationDef]:
        return [loc for loc in self.locations.values() if loc.load_error is None]

    def find_job(self, location: str, repository: str, job_name: str) -> tuple[LocationDef, JobDef]:
        loc = self.locations.get(location)
        if loc is None or loc.load_error is not None or loc.repository != repository:
            raise UnknownTarget(f"{location}.{repository}")
        job = loc.jobs.get(job_name)
        if job is None:
            raise UnknownTarget(f"{location}.{repository}.{job_name}")
        return loc, job

    def find_asset(self, path: Iterable[str]) -> AssetDef | None:
        wanted = tuple(path)
        for loc in self.loaded_locations():
            if wanted in loc.assets:
                return loc.assets[wanted]
        return None

    def location_of_asset(self, path: AssetPath) -> LocationDef | None:
        for loc in self.loaded_locations():
            if path in loc.assets:
                return loc
        return None

    def jobs_of_asset(self, loc: LocationDef, path: AssetPath) -> list[str]:
        return [j.name for j in loc.jobs.values() if path in j.assets]

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            self.tick()
            return self.runs.get(run_id)

    # -- launching -----------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._storage_id += 1
        return self._storage_id

    def launch(
        self,
        loc: LocationDef,
        job: JobDef,
        *,
        run_config: Any,
        tags: Mapping[str, str],
        asset_selection: list[AssetPath] | None,
        step_seconds: float,
        queued: bool = False,
        parent_run_id: str | None = None,
        root_run_id: str | None = None,
        step_keys: list[str] | None = None,
        at: float | None = None,
    ) -> RunRecord:
        """Create a run and plan its whole life from now (or from ``at``, for a backfill's
        run submitted by its daemon tick). ``step_keys``: only these of the job's steps."""
        with self._lock:
            now = self.now() if at is None else at
            run_id = str(uuid.uuid4())
            steps = loc.steps_of(job, asset_selection)
            if step_keys is not None:
                steps = [k for k in steps if k in step_keys]
            all_tags = {**job.tags, "dagster/code_location": loc.name, **dict(tags)}
            run = RunRecord(
                run_id=run_id,
                job_name=job.name,
                location=loc.name,
                repository=loc.repository,
                tags=all_tags,
                run_config=run_config,
                asset_selection=asset_selection,
                step_keys=steps,
                created_at=now,
                timeline=[],
                events=[],
                parent_run_id=parent_run_id,
                root_run_id=root_run_id,
                step_keys_to_execute=steps if step_keys is not None or asset_selection else None,
            )
            self._plan(run, loc, job, now, step_seconds, queued)
            self.runs[run_id] = run
            return run

    def _event(
        self,
        run: RunRecord,
        at: float,
        typename: str,
        event_type: str | None,
        message: str,
        **kw: Any,
    ) -> None:
        run.events.append(EventRecord(self._next_id(), at, typename, event_type, message, **kw))

    def _plan(
        self,
        run: RunRecord,
        loc: LocationDef,
        job: JobDef,
        t: float,
        step: float,
        queued: bool,
    ) -> None:
        name = job.name
        for key in run.step_keys:
            planned = next((a for a in loc.assets.values() if a.op_name == key), None)
            if planned is not None:
                self._event(
                    run,
                    t,
                    "AssetMaterializationPlannedEvent",
                    "ASSET_MATERIALIZATION_PLANNED",
                    f"{name} intends to materialize asset {list(planned.path)!r}",
                    asset_path=planned.path,
                )
        if queued:
            run.timeline.append((t, "QUEUED"))
            self._event(run, t, "RunEnqueuedEvent", "RUN_ENQUEUED", "", level="INFO")
            t += step
            self._event(run, t, "RunDequeuedEvent", "RUN_DEQUEUED", "", level="INFO")
        run.timeline.append((t, "STARTING"))
        self._event(run, t, "RunStartingEvent", "RUN_STARTING", "", level="INFO")
        t += step
        run.timeline.append((t, "STARTED"))
        self._event(run, t, "RunStartEvent", "RUN_START", f'Started execution of run for "{name}".')
        duration = step
        if job.sleep_op:
            cfg = ((run.run_config or {}).get("ops") or {}).get(job.sleep_op) or {}
            seconds = (cfg.get("config") or {}).get("seconds", 30.0)
            duration = max(step, float(seconds))
        slot = duration / (len(run.step_keys) + 1)
        failed: list[str] = []
        for i, key in enumerate(run.step_keys):
            at, span = t + slot * (i + 0.5), slot
            if key == job.sleep_op:  # it starts at once and sleeps the whole run
                at, span = t + step / 4, 2 * (duration - step / 2)
            self._event(
                run,
                at,
                "ExecutionStepStartEvent",
                "STEP_START",
                f'Started execution of step "{key}".',
                step_key=key,
            )
            asset = next((a for a in loc.assets.values() if a.op_name == key), None)
            text = asset.log_message if asset else job.log_messages.get(key, f"op {key}")
            self._event(
                run,
                at,
                "LogsCapturedEvent",
                "LOGS_CAPTURED",
                f"Started capturing logs in process (pid: {4000 + i}).",
                step_key=key,
                file_key=key,
            )
            self._event(run, at, "LogMessageEvent", None, text, level="INFO", step_key=key)
            fails = key == job.fails_in
            run.captured[key] = captured_lines(run, key, text, at, span, fails)
            if fails:
                failed.append(key)
                self._event(
                    run,
                    at + span / 4,
                    "ExecutionStepFailureEvent",
                    "STEP_FAILURE",
                    f'Execution of step "{key}" failed.',
                    level="ERROR",
                    step_key=key,
                    error={
                        "message": "Exception: daglab fixture failure: the explode op always "
                        "fails\n",
                        "className": "Exception",
                        "stack": ['  File "main_location.py", line 134, in explode\n'],
                    },
                )
                break
            if asset is not None:
                self._event(
                    run,
                    at + span / 4,
                    "MaterializationEvent",
                    "ASSET_MATERIALIZATION",
                    f"Materialized value {' '.join(asset.path)}.",
                    step_key=key,
                    asset_path=asset.path,
                    partition=run.partition if asset.partitions else None,
                )
            self._event(
                run,
                at + span / 2,
                "ExecutionStepSuccessEvent",
                "STEP_SUCCESS",
                f'Finished execution of step "{key}" in {int(span * 500)}ms.',
                step_key=key,
            )
        end = t + duration
        if failed:
            run.timeline.append((end, "FAILURE"))
            self._event(
                run,
                end,
                "RunFailureEvent",
                "RUN_FAILURE",
                f'Execution of run for "{name}" failed. Steps failed: {failed!r}.',
                level="ERROR",
            )
        else:
            run.timeline.append((end, "SUCCESS"))
            self._event(
                run,
                end,
                "RunSuccessEvent",
                "RUN_SUCCESS",
                f'Finished execution of run for "{name}".',
            )

    # -- terminating ---------------------------------------------------------------------------

    def cancel(self, run: RunRecord, *, force: bool = False, delay: float = 0.0) -> str | None:
        """Terminate a run as Dagster does; None if done, else the status that prevents it.

        Safe termination (the default) takes only QUEUED runs (CANCELED at once) and STARTED
        runs (CANCELING now, CANCELED after ``delay``, when the run worker has stopped).
        ``force`` (MARK_AS_CANCELED_IMMEDIATELY) marks any unfinished run CANCELED at once.
        """
        with self._lock:
            now = self.now()
            status = run.status(now)
            if status in TERMINAL_STATUSES:
                return status
            if not force and status not in ("QUEUED", "STARTED"):
                return status
            run.timeline = [(at, s) for at, s in run.timeline if at <= now]
            run.events = [e for e in run.events if e.at <= now]
            run.captured = {
                k: [line for line in lines if line[0] <= now] for k, lines in run.captured.items()
            }
            canceled_at = now
            if status == "STARTED" and not force:
                run.timeline.append((now, "CANCELING"))
                self._event(
                    run,
                    now,
                    "RunCancelingEvent",
                    "RUN_CANCELING",
                    "Sending run termination request.",
                    level="INFO",
                )
                canceled_at = now + delay
            run.timeline.append((canceled_at, "CANCELED"))
            self._event(
                run,
                canceled_at,
                "RunCanceledEvent",
                "RUN_CANCELED",
                f'Execution of run for "{run.job_name}" canceled.',
                level="ERROR",
            )
            return None

    def finish_all(self) -> None:
        """Move every run to the end of its planned life, after every backfill that is
        REQUESTED has submitted all its runs (tests that do not want to wait)."""
        with self._lock:
            now = self.now()
            for backfill in self.backfills.values():
                if backfill.status == "REQUESTED":
                    backfill.next_submit = now
                    backfill.tick_seconds = 0.0
            self.tick()
            for run in self.runs.values():
                last = max(at for at, _ in run.timeline)
                shift = last - now
                if shift > 0:
                    run.created_at -= shift
                    run.timeline = [(at - shift, s) for at, s in run.timeline]
                    for event in run.events:
                        event.at -= shift
                    run.captured = {
                        k: [(at - shift, stream, text) for at, stream, text in lines]
                        for k, lines in run.captured.items()
                    }
            self.tick()

    # -- listing -------------------------------------------------------------------------------

    def list_runs(
        self,
        *,
        run_ids: Iterable[str | None] | None = None,
        job_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        statuses: Iterable[str] | None = None,
        created_after: float | None = None,
        created_before: float | None = None,
    ) -> list[RunRecord]:
        """Matching runs, newest first (as Dagster orders them)."""
        now = self.now()
        with self._lock:
            self.tick()
            runs = list(reversed(self.runs.values()))
        if run_ids is not None:
            ids = {r for r in run_ids if r}
            runs = [r for r in runs if r.run_id in ids]
        if job_name:
            runs = [r for r in runs if r.job_name == job_name]
        if tags:
            runs = [r for r in runs if all(r.tags.get(k) == v for k, v in tags.items())]
        if statuses:
            wanted = set(statuses)
            runs = [r for r in runs if r.status(now) in wanted]
        if created_after is not None:
            runs = [r for r in runs if r.created_at > created_after]
        if created_before is not None:
            runs = [r for r in runs if r.created_at < created_before]
        return runs

    # -- backfills -----------------------------------------------------------------------------

    def launch_backfill(
        self,
        loc: LocationDef,
        asset_selection: list[AssetPath],
        partitions: list[str],
        *,
        tags: Mapping[str, str],
        tick_seconds: float,
    ) -> BackfillRecord:
        with self._lock:
            now = self.now()
            backfill_id = "".join(random.choices(string.ascii_lowercase, k=8))
            backfill = BackfillRecord(
                backfill_id=backfill_id,
                created_at=now,
                location=loc.name,
                partition_names=list(partitions),
                asset_selection=list(asset_selection),
                tags=dict(tags),
                tick_seconds=tick_seconds,
                next_submit=now + tick_seconds,
            )
            self.backfills[backfill_id] = backfill
            return backfill

    def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        with self._lock:
            self.tick()
            return self.backfills.get(backfill_id)

    def list_backfills(self) -> list[BackfillRecord]:
        """Newest first, as Dagster lists them."""
        with self._lock:
            self.tick()
            return list(reversed(self.backfills.values()))

    def cancel_backfill(self, backfill: BackfillRecord) -> None:
        """Dagster's resolver marks any backfill CANCELING; the daemon does the rest."""
        with self._lock:
            backfill.status = "CANCELING"
            self.tick()

    def resume_backfill(self, backfill: BackfillRecord) -> None:
        """Dagster's resolver sets any backfill back to REQUESTED."""
        with self._lock:
            now = self.now()
            backfill.status = "REQUESTED"
            backfill.end_at = None
            backfill.next_submit = max(backfill.next_submit, now + backfill.tick_seconds)
            self.tick()

    def tick(self) -> None:
        """The backfill daemon, caught up to now: what it would have done by this moment."""
        with self._lock:
            now = self.now()
            for backfill in self.backfills.values():
                if backfill.status == "REQUESTED":
                    self._submit_due(backfill, now)
                elif backfill.status == "CANCELING":
                    self._cancel_in_flight(backfill, now)
                self._maybe_end(backfill, now)

    def _submit_due(self, backfill: BackfillRecord, now: float) -> None:
        loc = self.locations[backfill.location]
        job = loc.jobs[ASSET_JOB]
        while backfill.pending and backfill.next_submit <= now:
            partition = backfill.pending[0]
            run = self.launch(
                loc,
                job,
                run_config={},
                tags={
                    **backfill.tags,
                    "dagster/backfill": backfill.backfill_id,
                    "dagster/partition": partition,
                },
                asset_selection=backfill.asset_selection,
                step_seconds=max(backfill.tick_seconds, 0.01),
                at=backfill.next_submit,
            )
            backfill.runs[partition] = run.run_id
            backfill.next_submit += backfill.tick_seconds

    def _cancel_in_flight(self, backfill: BackfillRecord, now: float) -> None:
        """The daemon has the run coordinator cancel every run not ended: one STARTED is
        terminated (CANCELING, then CANCELED when its worker stops), any other marked
        CANCELED at once. ``cancel_backfill`` runs this at the moment of the cancel."""
        for run_id in backfill.runs.values():
            run = self.runs[run_id]
            status = run.status(now)
            if status not in TERMINAL_STATUSES and status != "CANCELING":
                self.cancel(run, force=status != "STARTED", delay=backfill.tick_seconds)

    def _maybe_end(self, backfill: BackfillRecord, now: float) -> None:
        if backfill.status not in ("REQUESTED", "CANCELING"):
            return
        if backfill.status == "REQUESTED" and backfill.pending:
            return
        runs = [self.runs[r] for r in backfill.runs.values()]
        if any(r.status(now) not in TERMINAL_STATUSES for r in runs):
            return
        ends = [e for r in runs if (e := r.end_time(now)) is not None]
        backfill.end_at = max(ends, default=now)
        if backfill.status == "CANCELING":
            backfill.status = "CANCELED"
        elif all(r.status(now) == "SUCCESS" for r in runs):
            backfill.status = "COMPLETED_SUCCESS"
        else:
            backfill.status = "COMPLETED_FAILED"
