"""Discovery: the server's version, the workspace, its jobs, repositories and assets."""

from __future__ import annotations

from daglab.helpers.queries.document import Document

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
