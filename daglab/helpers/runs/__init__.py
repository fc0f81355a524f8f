"""Runs: what to run (``targets``), launching it once (``launch``), reading (``read``),
stopping (``control``) and watching it (``watch``, which tells what happens as ``events``
and shares one status query a round between watchers through ``poller``), and the one
workflow that strings them together for the CLI and the notebook helpers (``workflow``).

Modules depend downwards in that order: read <- targets <- launch; read <- control <- watch;
events, poller <- watch; all of them <- workflow. New run operations (history, logs, re-execution, backfills) go in
modules of their own here.
"""

from daglab.helpers.runs.control import SAFELY_CANCELABLE, cancel_run
from daglab.helpers.runs.events import ProgressCallback, ProgressEvent, describe
from daglab.helpers.runs.launch import (
    LOOKUP_DELAYS,
    MAX_LAUNCH_ATTEMPTS,
    find_run_by_request_id,
    launch_run,
    submit_asset_run,
    submit_job_run,
)
from daglab.helpers.runs.read import (
    DEFAULT_REPOSITORY,
    PARTITION_TAG,
    REQUEST_ID_TAG,
    get_run,
    get_run_url,
)
from daglab.helpers.runs.targets import (
    RunTarget,
    check_partition,
    parse_run_tags,
    resolve_assets,
    resolve_job,
    split_asset_keys,
)
from daglab.helpers.runs.watch import RunWatcher, monitor_run
from daglab.helpers.runs.workflow import (
    RunRequest,
    RunWorkflow,
    check_outcome,
    require_one_target,
    submitted_result,
    timeout_error,
)
from daglab.helpers.statuses import TERMINAL_EVENTS, TERMINAL_STATUSES

__all__ = [
    "DEFAULT_REPOSITORY",
    "LOOKUP_DELAYS",
    "MAX_LAUNCH_ATTEMPTS",
    "PARTITION_TAG",
    "REQUEST_ID_TAG",
    "SAFELY_CANCELABLE",
    "TERMINAL_EVENTS",
    "TERMINAL_STATUSES",
    "ProgressCallback",
    "ProgressEvent",
    "RunRequest",
    "RunTarget",
    "RunWatcher",
    "RunWorkflow",
    "cancel_run",
    "check_outcome",
    "check_partition",
    "describe",
    "find_run_by_request_id",
    "get_run",
    "get_run_url",
    "launch_run",
    "monitor_run",
    "parse_run_tags",
    "require_one_target",
    "resolve_assets",
    "resolve_job",
    "split_asset_keys",
    "submit_asset_run",
    "submit_job_run",
    "submitted_result",
    "timeout_error",
]
