"""What discovery and `daglab status` hand back: locations, repositories, jobs, assets, the deployment."""

from __future__ import annotations

from pydantic import Field

from daglab.helpers.models.base import Model


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


class RepositoryInfo(Model):
    """A repository inside a code location (a ``Definitions`` object is ``__repository__``)."""

    name: str
    location: str

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class JobInfo(Model):
    """A user-defined job; implicit asset jobs (``__ASSET_JOB…``) are never JobInfo."""

    name: str
    repository: str
    location: str
    description: str | None = None
    tags: dict[str, str] = {}
    is_asset_job: bool = False

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class AssetInfo(Model):
    """An asset definition, with what a user needs to find and launch it.

    ``key`` is the slash-joined ``path`` (a ``/`` inside a component written ``\\/``, a
    backslash ``\\\\``: see ``daglab.helpers.assetkeys``); ``owners`` are ``team:NAME`` or
    e-mail addresses, as Dagster's ``owner:`` matches them; ``jobs`` are the user jobs that contain it and
    ``implicit_jobs`` the ``__ASSET_JOB…`` names an asset-selection run must be launched on.
    """

    key: str
    path: list[str]
    group: str
    repository: str
    location: str
    description: str | None = None
    tags: dict[str, str] = {}
    kinds: list[str] = []
    partitioned: bool = False
    partitions: str | None = None
    materializable: bool = True
    deps: list[str] = []
    jobs: list[str] = []
    implicit_jobs: list[str] = []
    owners: list[str] = []
    partition_type: str | None = None
    # The sensors and schedules that target it (``sensor:``/``schedule:`` selections); read
    # only when a selection names them (None: not read), never in its JSON.
    sensors: list[str] | None = Field(default=None, exclude=True)
    schedules: list[str] | None = Field(default=None, exclude=True)

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class DaemonInfo(Model):
    """One daemon of the instance (``SCHEDULER``, ``SENSOR``, ``QUEUED_RUN_COORDINATOR``, ...)."""

    daemon_type: str
    required: bool
    healthy: bool | None = None
    last_heartbeat: float | None = None
    errors: list[str] = []

    def to_json(self) -> dict[str, object]:
        return self.model_dump()


class CodeServerInfo(Model):
    """How one code location is served: by a gRPC server the deployment runs (``grpc``,
    with ``host`` and ``port``) or by a process the webserver manages (``managed``)."""

    location: str
    kind: str
    host: str | None = None
    port: str | None = None
    socket: str | None = None
    target: str | None = None
    state: str


class DeploymentInfo(Model):
    """The instance behind the webserver: storage, run launcher and coordinator, queue
    limits. A field is None when the server does not say (``instance.info`` hidden)."""

    storage: str | None = None
    run_storage: str | None = None
    event_log_storage: str | None = None
    schedule_storage: str | None = None
    run_launcher: str | None = None
    run_coordinator: str | None = None
    max_concurrent_runs: int | None = None
    tag_concurrency_limits: list[dict[str, object]] = []
    code_servers: list[CodeServerInfo] = []


class ServerStatus(Model):
    """What ``daglab status`` reports."""

    url: str
    url_source: str
    auth_source: str
    version: str
    round_trip_ms: float
    locations: list[LocationInfo]
    deployment: DeploymentInfo | None = None
    # issue 20: daemon health (None: the server does not report it) and what is unhealthy
    daemons: list[DaemonInfo] | None = None
    daemons_error: str | None = None
    problems: list[str] = []
