"""daglab: find, launch and watch Dagster work over Dagster's GraphQL API."""

__version__ = "0.1.0"
