"""Validate, launch and watch a run: config checks, the launch, progress, partitions, terminate."""

from __future__ import annotations

from daglab.helpers.queries.document import Document

# A config error's `path` is always [] (a Dagster TODO); where it is comes from `stack`
# (map-key entries are left out: the message still names their path).
CONFIG_ERROR_FIELDS = """
      message
      reason
      stack {
        entries {
          __typename
          ... on EvaluationStackPathEntry { fieldName }
          ... on EvaluationStackListItemEntry { listIndex }
        }
      }
    """

CONFIG_VALID = Document(
    "DaglabConfigValid",
    """
query DaglabConfigValid(
  $selector: PipelineSelector!
  $mode: String!
  $runConfigData: RunConfigData
) {
  isPipelineConfigValid(pipeline: $selector, mode: $mode, runConfigData: $runConfigData) {
    __typename
    ... on PipelineConfigValidationValid { pipelineName }
    ... on RunConfigValidationInvalid { pipelineName errors {"""
    + CONFIG_ERROR_FIELDS
    + """} }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on PythonError { message className }
  }
}
""",
)

CONFIG_SCHEMA = Document(
    "DaglabConfigSchema",
    """
query DaglabConfigSchema($selector: PipelineSelector!) {
  runConfigSchemaOrError(selector: $selector) {
    __typename
    ... on RunConfigSchema { rootDefaultYaml }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on ModeNotFoundError { message }
    ... on PythonError { message className }
  }
}
""",
)

LAUNCH_RUN = Document(
    "DaglabLaunchRun",
    """
mutation DaglabLaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
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

RUN_FIELDS = """
      id
      runId
      status
      jobName
      creationTime
      startTime
      endTime
      tags { key value }
      assetSelection { path }
      repositoryOrigin { repositoryName repositoryLocationName }
"""

RUN = Document(
    "DaglabRun",
    """
query DaglabRun($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {"""
    + RUN_FIELDS
    + """    }
    ... on RunNotFoundError { message }
    ... on PythonError { message className }
  }
}
""",
)

_EVENT_FIELDS = """
        events {
          __typename
          ... on MessageEvent { message timestamp level stepKey eventType }
          ... on ErrorEvent { error { message className cause { message className } } }
          ... on MaterializationEvent { assetKey { path } }
          ... on AssetMaterializationPlannedEvent { assetKey { path } }
          ... on AssetCheckEvaluationEvent {
            evaluation { checkName assetKey { path } success severity }
          }
        }
        cursor
        hasMore
"""

# One round trip per poll: the run's status and the events since the last cursor.
RUN_PROGRESS = Document(
    "DaglabRunProgress",
    """
query DaglabRunProgress($runId: ID!, $afterCursor: String, $limit: Int) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {"""
    + RUN_FIELDS
    + """    }
    ... on RunNotFoundError { message }
    ... on PythonError { message className }
  }
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: $limit) {
    __typename
    ... on EventConnection {"""
    + _EVENT_FIELDS
    + """    }
    ... on RunNotFoundError { message }
    ... on PythonError { message className }
  }
}
""",
)

RUN_EVENTS = Document(
    "DaglabRunEvents",
    """
query DaglabRunEvents($runId: ID!, $afterCursor: String, $limit: Int) {
  logsForRun(runId: $runId, afterCursor: $afterCursor, limit: $limit) {
    __typename
    ... on EventConnection {"""
    + _EVENT_FIELDS
    + """    }
    ... on RunNotFoundError { message }
    ... on PythonError { message className }
  }
}
""",
)

RUNS_BY_TAG = Document(
    "DaglabRunsByTag",
    """
query DaglabRunsByTag($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    __typename
    ... on Runs { results { id runId status jobName } }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message className }
  }
}
""",
)

# The statuses of many runs in one round trip: what watchers without a live view poll.
RUNS_STATUS = Document(
    "DaglabRunsStatus",
    """
query DaglabRunsStatus($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
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

TERMINATE_RUN = Document(
    "DaglabTerminateRun",
    """
mutation DaglabTerminateRun($runId: String!, $terminatePolicy: TerminateRunPolicy) {
  terminateRun(runId: $runId, terminatePolicy: $terminatePolicy) {
    __typename
    ... on TerminateRunSuccess { run { id status } }
    ... on TerminateRunFailure { message run { id status } }
    ... on RunNotFoundError { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message className }
  }
}
""",
)

# The partition keys of assets, to check `daglab run --partition` before launching.
ASSET_PARTITION_KEYS = Document(
    "DaglabAssetPartitionKeys",
    """
query DaglabAssetPartitionKeys($assetKeys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $assetKeys) {
    assetKey { path }
    isPartitioned
    partitionKeys
  }
}
""",
)

# A job's partition set: every key, and the run config and tags Dagster computes for one
# (what the launchpad and `dagster job launch --partition` use). Unknown keys still get an
# answer on 1.8+, an HTTP 500 on 1.7), so the keys come first (`withPartition: false`) and
# the partition only for a key among them.
JOB_PARTITION = Document(
    "DaglabJobPartition",
    """
query DaglabJobPartition(
  $repositorySelector: RepositorySelector!
  $jobName: String!
  $partitionName: String!
  $withPartition: Boolean!
) {
  partitionSetsOrError(repositorySelector: $repositorySelector, pipelineName: $jobName) {
    __typename
    ... on PartitionSets {
      results {
        name
        partitionsOrError {
          __typename
          ... on Partitions { results { name } }
          ... on PythonError { message className }
        }
        partition(partitionName: $partitionName) @include(if: $withPartition) {
          name
          runConfigOrError {
            __typename
            ... on PartitionRunConfig { yaml }
            ... on PythonError { message className }
          }
          tagsOrError {
            __typename
            ... on PartitionTags { results { key value } }
            ... on PythonError { message className }
          }
        }
      }
    }
    ... on PipelineNotFoundError { message }
    ... on PythonError { message className }
  }
}
""",
)


# Optional follow mode (legacy graphql-ws protocol only; the stream never completes).
RUN_LOGS_SUBSCRIPTION = Document(
    "DaglabRunLogs",
    """
subscription DaglabRunLogs($runId: ID!, $cursor: String) {
  pipelineRunLogs(runId: $runId, cursor: $cursor) {
    __typename
    ... on PipelineRunLogsSubscriptionSuccess {
      messages {
        __typename
        ... on MessageEvent { message timestamp level stepKey eventType }
        ... on ErrorEvent { error { message className } }
        ... on MaterializationEvent { assetKey { path } }
      }
      hasMorePastEvents
      cursor
    }
    ... on PipelineRunLogsSubscriptionFailure { message missingRunId }
  }
}
""",
)
