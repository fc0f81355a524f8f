"""Asset health and checks: latest materializations, partitions, check executions."""

from __future__ import annotations

from daglab.helpers.queries.document import Document

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
