"""Where the fixture project is: the checkout's, or the copy a wheel carries."""

from __future__ import annotations

from pathlib import Path

# The fixture project lives in the repository checkout, next to the package; a wheel carries
# a copy inside the package (pyproject.toml: force-include), so `daglab dev up` needs no checkout.
_CHECKOUT_PROJECT = Path(__file__).resolve().parents[2] / "fixtures" / "dagster_project"
_PACKAGED_PROJECT = Path(__file__).resolve().parent / "fixture_project"
FIXTURE_PROJECT = (
    _CHECKOUT_PROJECT if (_CHECKOUT_PROJECT / "workspace.yaml").is_file() else _PACKAGED_PROJECT
)
FIXTURE_WORKSPACE = FIXTURE_PROJECT / "workspace.yaml"
FIXTURE_WORKSPACE_BROKEN = FIXTURE_PROJECT / "workspace_broken.yaml"
FIXTURE_WORKSPACE_GENERATED = FIXTURE_PROJECT / "workspace_generated.yaml"
