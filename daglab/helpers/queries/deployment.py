"""The deployment as `daglab status` and the watcher see it: instance, storage, permissions, queue."""

from __future__ import annotations

from daglab.helpers.queries.document import Document

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
