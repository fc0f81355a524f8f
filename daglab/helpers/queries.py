"""Every GraphQL document daglab sends, named, in one place.

A document may be gated to a range of Dagster minor versions where the schema differs
(see shared/research/graphql-versions.md). ``tests/unit/test_schema_coverage.py`` validates each
document against the SDL of every version it may be sent to. User text never goes into a
document: it travels as GraphQL variables.
"""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int]

OLDEST: Version = (1, 7)


@dataclass(frozen=True)
class Document:
    """A named GraphQL document and the Dagster minor versions it is valid on (inclusive)."""

    name: str
    text: str
    min_version: Version = OLDEST
    max_version: Version | None = None

    def supports(self, version: Version) -> bool:
        if version < self.min_version:
            return False
        return self.max_version is None or version <= self.max_version

    @property
    def is_mutation(self) -> bool:
        return self.text.lstrip().startswith("mutation")


def pick(version: Version, *documents: Document) -> Document:
    """The first of ``documents`` valid on ``version``."""
    for doc in documents:
        if doc.supports(version):
            return doc
    raise LookupError(f"no document among {[d.name for d in documents]} supports {version}")


VERSION = Document("DaglabVersion", "query DaglabVersion { version }")

WORKSPACE = Document(
    "DaglabWorkspace",
    """
query DaglabWorkspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        updatedTimestamp
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name } }
          ... on PythonError { message className }
        }
      }
    }
    ... on PythonError { message className }
  }
}
""",
)

# Repository.pipelines, not Repository.jobs: jobs{isAssetJob} is HTTP 500 on 1.11.15-1.12.13.
JOBS = Document(
    "DaglabJobs",
    """
query DaglabJobs {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        pipelines { name description isJob isAssetJob tags { key value } }
      }
    }
    ... on PythonError { message className }
  }
}
""",
)

REPOSITORIES = Document(
    "DaglabRepositories",
    """
query DaglabRepositories {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } } }
    ... on PythonError { message className }
  }
}
""",
)

_ASSET_FIELDS = """
          assetKey { path }
          groupName
          description
          computeKind
          tags { key value }
          isPartitioned
          partitionDefinition { type description }
          isExecutable
          isObservable
          jobNames
          dependencyKeys { path }
          owners {
            __typename
            ... on UserAssetOwner { email }
            ... on TeamAssetOwner { team }
          }
"""

# `sensor:`/`schedule:` selections: what each asset's instigators are (every version has
# the field; it costs the server a look at every sensor per asset, so it is asked only then).
ASSET_INSTIGATORS = Document(
    "DaglabAssetInstigators",
    """
query DaglabAssetInstigators {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        assetNodes {
          assetKey { path }
          targetingInstigators {
            __typename
            ... on Sensor { name }
            ... on Schedule { name }
          }
        }
      }
    }
    ... on PythonError { message className }
  }
}
""",
)

# 1.7: `isSource` and no `kinds`/`isMaterializable`; 1.8+: the reverse.
ASSETS_1_7 = Document(
    "DaglabAssets",
    """
query DaglabAssets {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        assetNodes {"""
    + _ASSET_FIELDS
    + """          isSource
        }
      }
    }
    ... on PythonError { message className }
  }
}
""",
    max_version=(1, 7),
)

ASSETS = Document(
    "DaglabAssets",
    """
query DaglabAssets {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        assetNodes {"""
    + _ASSET_FIELDS
    + """          isMaterializable
          kinds
        }
      }
    }
    ... on PythonError { message className }
  }
}
""",
    min_version=(1, 8),
)

# A config error's `path` is always [] (a Dagster TODO); where it is comes from `stack`
# (map-key entries are left out: the message still names their path).
_CONFIG_ERROR_FIELDS = """
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
    + _CONFIG_ERROR_FIELDS
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
    + _CONFIG_ERROR_FIELDS
    + """} }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on Error { message }
    ... on PythonError { className }
  }
}
""",
)

_RUN_FIELDS = """
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
    + _RUN_FIELDS
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
    + _RUN_FIELDS
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
    + _RUN_FIELDS
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

INSTANCE = Document(
    "DaglabInstance",
    """
query DaglabInstance {
  instance {
    runQueuingSupported
    daemonHealth {
      daemonStatus(daemonType: "QUEUED_RUN_COORDINATOR") { healthy required }
    }
  }
}
""",
)

# daglab status: the deployment's storage, run launcher and queue, and how each location is
# served (displayMetadata: host/port of a gRPC server, the python file of a managed one).
DEPLOYMENT = Document(
    "DaglabDeployment",
    """
query DaglabDeployment {
  instance {
    info
    runLauncher { name }
    runQueuingSupported
    runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml }
  }
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries { name loadStatus displayMetadata { key value } }
    }
  }
}
""",
)

PERMISSIONS = Document(
    "DaglabPermissions",
    """
query DaglabPermissions {
  permissions { permission value disabledReason }
}
""",
)

RUN_QUEUE_CONFIG = Document(
    "DaglabRunQueueConfig",
    """
query DaglabRunQueueConfig {
  instance {
    runQueuingSupported
    runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml }
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


# -- run operations: history, logs, re-execution, backfills (issue 19) -------------------------

# A page of run history, newest first; the cursor is the last run id of the previous page.
RUNS_PAGE = Document(
    "DaglabRunsPage",
    """
query DaglabRunsPage($filter: RunsFilter, $cursor: String, $limit: Int) {
  runsOrError(filter: $filter, cursor: $cursor, limit: $limit) {
    __typename
    ... on Runs {
      results {"""
    + _RUN_FIELDS
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
    + _RUN_FIELDS
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
    + _CONFIG_ERROR_FIELDS
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


# -- asset health and checks (helpers/assets.py) ------------------------------------------------

# The value of a metadata entry, for the types whose value is plain text or a number; others
# are shown by their type name.
_METADATA_FIELDS = """
        __typename
        label
        ... on TextMetadataEntry { text }
        ... on IntMetadataEntry { intRepr }
        ... on FloatMetadataEntry { floatValue }
        ... on BoolMetadataEntry { boolValue }
        ... on JsonMetadataEntry { jsonString }
        ... on MarkdownMetadataEntry { mdStr }
        ... on PathMetadataEntry { path }
        ... on UrlMetadataEntry { url }
        ... on TimestampMetadataEntry { timestamp }
        ... on PipelineRunMetadataEntry { runId }
        ... on AssetMetadataEntry { assetKey { path } }
"""

_PARTITION_STATUS_FIELDS = """
      __typename
      ... on DefaultPartitionStatuses {
        materializedPartitions failedPartitions materializingPartitions
      }
      ... on TimePartitionStatuses { ranges { startKey endKey status } }
"""

# Per asset: its latest materialization, runs in flight, staleness, partitions and checks
# (every field exists from 1.7 on: shared/research/graphql-versions.md and the SDLs).
ASSET_HEALTH = Document(
    "DaglabAssetHealth",
    """
query DaglabAssetHealth($assetKeys: [AssetKeyInput!]!, $withKeys: Boolean!) {
  assetsLatestInfo(assetKeys: $assetKeys) {
    assetKey { path }
    unstartedRunIds
    inProgressRunIds
    latestRun { runId status }
    latestMaterialization {
      runId timestamp partition
      metadataEntries {"""
    + _METADATA_FIELDS
    + """      }
    }
  }
  assetNodes(assetKeys: $assetKeys) {
    assetKey { path }
    isPartitioned
    partitionKeys @include(if: $withKeys)
    partitionDefinition { type }
    partitionStats { numMaterialized numPartitions numFailed numMaterializing }
    assetPartitionStatuses @include(if: $withKeys) {"""
    + _PARTITION_STATUS_FIELDS
    + """    }
    staleStatus
    staleCauses { key { path } category reason dependency { path } }
    assetChecksOrError {
      __typename
      ... on AssetChecks {
        checks {
          name
          description
          blocking
          jobNames
          executionForLatestMaterialization {
            runId status timestamp
            evaluation { severity success }
          }
        }
      }
    }
  }
}
""",
)

# One page of an asset's materializations, newest first, before a timestamp (ms, exclusive).
# An unknown key is an `Asset` with no definition and no events on 1.13, not an error.
ASSET_MATERIALIZATIONS = Document(
    "DaglabAssetMaterializations",
    """
query DaglabAssetMaterializations(
  $assetKey: AssetKeyInput!, $limit: Int!, $beforeTimestampMillis: String
) {
  assetOrError(assetKey: $assetKey) {
    __typename
    ... on Asset {
      definition { id }
      assetMaterializations(limit: $limit, beforeTimestampMillis: $beforeTimestampMillis) {
        runId timestamp partition stepKey
        metadataEntries {"""
    + _METADATA_FIELDS
    + """        }
      }
    }
    ... on AssetNotFoundError { message }
  }
}
""",
)

# -- automation: schedules, sensors, reloads, daemon health (issue 20) ----------------------
# The same on 1.7-1.13 (measured SDLs): `ScheduleNotFoundError` joins ScheduleMutationResult
# only later, so the mutations name just the members every version has.

_SCHEDULE_FIELDS = """
  name cronSchedule executionTimezone description pipelineName defaultStatus canReset
  scheduleState { id selectorId status }
  futureTicks(limit: 1) { results { timestamp } }
"""
_SENSOR_FIELDS = """
  name description minIntervalSeconds defaultStatus canReset sensorType
  targets { pipelineName }
  sensorState { id selectorId status nextTick { timestamp } }
"""
_TICK_FIELDS = """
  tickId status timestamp endTimestamp skipReason runIds
  error { message className causes { message className } }
"""

AUTOMATION = Document(
    "DaglabAutomation",
    """
query DaglabAutomation {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        schedules { """
    + _SCHEDULE_FIELDS
    + """ }
        sensors { """
    + _SENSOR_FIELDS
    + """ }
      }
    }
    ... on PythonError { message className }
  }
}
""",
)

SCHEDULE_DETAIL = Document(
    "DaglabScheduleDetail",
    """
query DaglabScheduleDetail($selector: ScheduleSelector!, $limit: Int) {
  scheduleOrError(scheduleSelector: $selector) {
    __typename
    ... on Schedule {
      """
    + _SCHEDULE_FIELDS
    + """
      scheduleState { ticks(limit: $limit) { """
    + _TICK_FIELDS
    + """ } }
    }
    ... on ScheduleNotFoundError { message }
    ... on PythonError { message className }
  }
}
""",
)

SENSOR_DETAIL = Document(
    "DaglabSensorDetail",
    """
query DaglabSensorDetail($selector: SensorSelector!, $limit: Int) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor {
      """
    + _SENSOR_FIELDS
    + """
      sensorState { ticks(limit: $limit) { """
    + _TICK_FIELDS
    + """ } }
    }
    ... on SensorNotFoundError { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message className }
  }
}
""",
)

START_SCHEDULE = Document(
    "DaglabStartSchedule",
    """
mutation DaglabStartSchedule($selector: ScheduleSelector!) {
  startSchedule(scheduleSelector: $selector) {
    __typename
    ... on ScheduleStateResult { scheduleState { id status } }
    ... on UnauthorizedError { message }
    ... on PythonError { message className }
  }
}
""",
)

STOP_SCHEDULE = Document(
    "DaglabStopSchedule",
    """
mutation DaglabStopSchedule($id: String!) {
  stopRunningSchedule(id: $id) {
    __typename
    ... on ScheduleStateResult { scheduleState { id status } }
    ... on UnauthorizedError { message }
    ... on PythonError { message className }
  }
}
""",
)

START_SENSOR = Document(
    "DaglabStartSensor",
    """
mutation DaglabStartSensor($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { id status } }
    ... on SensorNotFoundError { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message className }
  }
}
""",
)

STOP_SENSOR = Document(
    "DaglabStopSensor",
    """
mutation DaglabStopSensor($id: String!) {
  stopSensor(id: $id) {
    __typename
    ... on StopSensorMutationResult { instigationState { id status } }
    ... on UnauthorizedError { message }
    ... on PythonError { message className }
  }
}
""",
)

_LOCATION_ENTRY = """
  name loadStatus updatedTimestamp
  locationOrLoadError {
    __typename
    ... on RepositoryLocation { name repositories { name } }
    ... on PythonError { message className causes { message className } }
  }
"""

# The workspace as `reload` polls it: load errors with their causes (a SyntaxError is one).
LOCATION_LOAD = Document(
    "DaglabLocationLoad",
    """
query DaglabLocationLoad {
  workspaceOrError {
    __typename
    ... on Workspace { locationEntries { """
    + _LOCATION_ENTRY
    + """ } }
    ... on PythonError { message className }
  }
}
""",
)

RELOAD_LOCATION = Document(
    "DaglabReloadLocation",
    """
mutation DaglabReloadLocation($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry { """
    + _LOCATION_ENTRY
    + """ }
    ... on ReloadNotSupported { message }
    ... on RepositoryLocationNotFound { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message className }
  }
}
""",
)

RELOAD_WORKSPACE = Document(
    "DaglabReloadWorkspace",
    """
mutation DaglabReloadWorkspace {
  reloadWorkspace {
    __typename
    ... on Workspace { locationEntries { """
    + _LOCATION_ENTRY
    + """ } }
    ... on UnauthorizedError { message }
    ... on PythonError { message className }
  }
}
""",
)

DAEMON_HEALTH = Document(
    "DaglabDaemonHealth",
    """
query DaglabDaemonHealth {
  instance {
    daemonHealth {
      allDaemonStatuses {
        daemonType required healthy lastHeartbeatTime
        lastHeartbeatErrors { message className }
      }
    }
  }
}
""",
)


def all_documents() -> list[Document]:
    """Every document in this module, for the schema coverage test."""
    return [value for value in globals().values() if isinstance(value, Document)]
