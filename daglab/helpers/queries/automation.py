"""Automation: schedules, sensors and their ticks, location reloads, daemon health."""

from __future__ import annotations

from daglab.helpers.queries.document import Document

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
