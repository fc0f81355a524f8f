"""What daglab hands back: plain pydantic models that print, serialize and compare well."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocationInfo(Model):
    """A code location, with its load status and, if it failed to load, the error."""

    name: str
    load_status: str
    loaded: bool
    repositories: list[str] = []
    error: str | None = None
    error_class: str | None = None
    updated_at: float | None = None

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class ServerStatus(Model):
    """What ``daglab status`` reports."""

    url: str
    url_source: str
    auth_source: str
    version: str
    round_trip_ms: float
    locations: list[LocationInfo]
