"""The daglab library: what scripts and notebooks import."""
