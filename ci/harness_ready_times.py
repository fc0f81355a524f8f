"""Start a harness server for each Dagster minor in turn and print how long each took to be ready.

    python ci/harness_ready_times.py            # every supported minor, one at a time
    python ci/harness_ready_times.py 1.7 1.13   # just these

Also creates any missing cached environment first (not counted in the ready time).
"""

from __future__ import annotations

import argparse
import os
import time

from daglab.harness import FIXTURE_WORKSPACE
from daglab.harness.envs import SUPPORTED_VERSIONS, ensure_env
from daglab.harness.server import DagsterServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", default=list(SUPPORTED_VERSIONS))
    parser.add_argument("--workspace", default=str(FIXTURE_WORKSPACE))
    parser.add_argument("--no-daemon", action="store_true")
    args = parser.parse_args()
    print(f"{'minor':<7}{'version':<10}{'ready s':>8}{'stop s':>8}  load before")
    for minor in args.versions:
        ensure_env(minor)
        load = os.getloadavg()[0]
        server = DagsterServer(
            minor, workspace=args.workspace, daemon=not args.no_daemon, ready_timeout=900
        )
        with server:
            ready = server.startup_seconds
            stopping = time.monotonic()
        stop = time.monotonic() - stopping
        assert not server.leftover_pids, server.leftover_pids
        print(f"{minor:<7}{server.version:<10}{ready:>8.1f}{stop:>8.1f}  {load:.1f}", flush=True)


if __name__ == "__main__":
    main()
