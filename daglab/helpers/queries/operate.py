"""Run operations: history, one run in full, logs, re-execution and backfills."""

from __future__ import annotations

from daglab.helpers.queries.document import Document
from daglab.helpers.queries.runs import CONFIG_ERROR_FIELDS, RUN_FIELDS

# A page of run history, newest first; the cursor is the last run id of the previous page.
RUNS_PAGE = Document(
    "DaglabRunsPage",
    """
query DaglabRunsPage($filter: RunsFilter, $cursor: String, $limit: Int) {
  runsOrError(filter: $filter, cursor: $cursor, limit: $limit) {
    __typename
    ... on Runs {
      results {"""
    + RUN_FIELDS
    + """      }
    }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message className }
  }
}
""",
)

# Run ids only: what a prefix is looked up in (cheap pages over every run).
RUN_IDS_PAGE = Document(
    "DaglabRunIdsPage",
    """
query DaglabRunIdsPage($filter: RunsFilter, $cursor: String, $limit: Int) {
  runIdsOrError(filter: $filter, cursor: $cursor, limit: $limit) {
    __typename
    ... on RunIds { results }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message className }
  }
}
""",
)

# One run in full: steps, materializations, lineage, config (for re-execution).
RUN_DETAILS = Document(
    "DaglabRunDetails",
    """
query DaglabRunDetails($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {"""
    + RUN_FIELDS
    + """      updateTime
      parentRunId
      rootRunId
      runConfigYaml
      stepKeysToExecute
      stepStats { stepKey status startTime endTime }
      assetMaterializations { stepKey partition assetKey { path } }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message className }
  }
}
""",
)

_PYTHON_ERROR = "message className errorChain { isExplicitLink error { message className } }"

_LOG_EVENT_FIELDS = (
    """
        events {
          __typename
          ... on MessageEvent { message timestamp level stepKey eventType }
          ... on ErrorEvent { error { """
    + _PYTHON_ERROR
    + """ } }
          ... on MaterializationEvent { assetKey { path } }
          ... on LogsCapturedEvent {
            fileKey stepKeys externalUrl externalStdoutUrl externalStderrUrl
          }
        }
        cursor
        hasMore
"""
)

# The event log, a page at a time, with the run's status (to follow it to its end).
RUN_LOG_PAGE = Document(
    "DaglabRunLogPage",
    """
query DaglabRunLogPage($runId: ID!, $afterCursor: String, $limit: Int) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { runId status }
    ... on RunNotFoundError { message }
    ... on PythonError { message className }
  }
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: $limit) {
    __typename
    ... on EventConnection {"""
    + _LOG_EVENT_FIELDS
    + """    }
    ... on RunNotFoundError { message }
    ... on PythonError { message className }
  }
}
""",
)

# Captured stdout/stderr of one log key ([run id, "compute_logs", file key]); `limit` is a
# byte count per stream, the cursor "<stdout offset>:<stderr offset>". Same on 1.7 .. 1.13.
CAPTURED_LOGS = Document(
    "DaglabCapturedLogs",
    """
query DaglabCapturedLogs($logKey: [String!]!, $cursor: String, $limit: Int) {
  capturedLogs(logKey: $logKey, cursor: $cursor, limit: $limit) { stdout stderr cursor }
  capturedLogsMetadata(logKey: $logKey) {
    stdoutDownloadUrl stdoutLocation stderrDownloadUrl stderrLocation
  }
}
""",
)

LAUNCH_REEXECUTION = Document(
    "DaglabLaunchReexecution",
    """
mutation DaglabLaunchReexecution($executionParams: ExecutionParams) {
  launchRunReexecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { id runId status jobName } }
    ... on RunConfigValidationInvalid { pipelineName errors {"""
    + CONFIG_ERROR_FIELDS
    + """} }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on Error { message }
    ... on PythonError { className }
  }
}
""",
)

# 1.7 names no PartitionKeysNotFoundError (the fragment would make the document invalid).
_BACKFILL_RESULT = """
    __typename
    ... on LaunchBackfillSuccess { backfillId launchedRunIds }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on RunConfigValidationInvalid { pipelineName }
    ... on Error { message }
    ... on PythonError { className }
"""

LAUNCH_BACKFILL = Document(
    "DaglabLaunchBackfill",
    """
mutation DaglabLaunchBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {"""
    + _BACKFILL_RESULT
    + """  }
}
""",
)

# The partition keys of a job's partition set (for --partition-range on a job).
JOB_PARTITION_KEYS = Document(
    "DaglabJobPartitionKeys",
    """
query DaglabJobPartitionKeys($repositorySelector: RepositorySelector!, $partitionSetName: String) {
  partitionSetOrError(repositorySelector: $repositorySelector, partitionSetName: $partitionSetName) {
    __typename
    ... on PartitionSet {
      name
      partitionsOrError { __typename ... on Partitions { results { name } } ... on PythonError { message } }
    }
    ... on Error { message }
  }
}
""",
)

# Not `runs(limit:)` and friends: HTTP 500 before 1.13 (trap 6).
_BACKFILL_FIELDS = """
      id
      status
      numPartitions
      partitionNames
      partitionSetName
      isAssetBackfill
      timestamp
      endTimestamp
      fromFailure
      tags { key value }
      assetSelection { path }
      error { message className }
      partitionStatuses { results { partitionName runId runStatus } }
      assetBackfillData {
        assetBackfillStatuses {
          __typename
          ... on AssetPartitionsStatusCounts {
            assetKey { path }
            numPartitionsTargeted
            numPartitionsInProgress
            numPartitionsMaterialized
            numPartitionsFailed
          }
        }
      }
"""

BACKFILL = Document(
    "DaglabBackfill",
    """
query DaglabBackfill($backfillId: String!) {
  partitionBackfillOrError(backfillId: $backfillId) {
    __typename
    ... on PartitionBackfill {"""
    + _BACKFILL_FIELDS
    + """    }
    ... on BackfillNotFoundError { message }
    ... on PythonError { message className }
  }
}
""",
)

BACKFILLS = Document(
    "DaglabBackfills",
    """
query DaglabBackfills($status: BulkActionStatus, $cursor: String, $limit: Int) {
  partitionBackfillsOrError(status: $status, cursor: $cursor, limit: $limit) {
    __typename
    ... on PartitionBackfills {
      results {
        id status numPartitions partitionSetName isAssetBackfill timestamp endTimestamp
        tags { key value }
        assetSelection { path }
      }
    }
    ... on PythonError { message className }
  }
}
""",
)

CANCEL_BACKFILL = Document(
    "DaglabCancelBackfill",
    """
mutation DaglabCancelBackfill($backfillId: String!) {
  cancelPartitionBackfill(backfillId: $backfillId) {
    __typename
    ... on CancelBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
""",
)

RESUME_BACKFILL = Document(
    "DaglabResumeBackfill",
    """
mutation DaglabResumeBackfill($backfillId: String!) {
  resumePartitionBackfill(backfillId: $backfillId) {
    __typename
    ... on ResumeBackfillSuccess { backfillId }
    ... on Error { message }
  }
}
""",
)
