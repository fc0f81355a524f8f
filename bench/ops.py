"""Benchmarks of run operations on an instance with many runs (issue 19), ratios in one run:

    python bench/ops.py [--dagster-version 1.13] [--runs 100000]

- the first page of ``runs list`` (library and CLI) against the bare GraphQL query for the
  same page (goal: library <= 1.2x);
- a run named by an 8-character id prefix (every id must be seen to know it is unique)
  against the bare walk of ``runIdsOrError`` (ratio; the time is what a user waits);
- ``runs list --all --json`` over every run: peak RSS (goal < 150 MB, whatever the count);
- ``logs --follow``: from an event's commit (the time the op logs in its message) to the
  line on daglab's stdout, median (goal <= 0.5 s), and daglab's CPU while following
  (goal <= 2% of a core).

The runs are seeded straight into the instance's run storage through the Dagster venv's own
API (``SqlRunStorage`` insertion values, in one transaction), not by running them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from daglab.harness import FIXTURE_PROJECT  # noqa: E402
from daglab.harness.envs import ensure_env  # noqa: E402
from daglab.harness.server import DagsterServer  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from run import _MEASURE, clean_env  # noqa: E402

PY = sys.executable
sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

SEED = textwrap.dedent(
    """
    import sys, uuid
    from datetime import datetime, timedelta, timezone
    from dagster import DagsterInstance
    from dagster._serdes import serialize_value
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus
    from dagster._core.storage.runs.schema import RunsTable, RunTagsTable

    count = int(sys.argv[1])
    storage = DagsterInstance.get()._run_storage
    start = datetime.now(timezone.utc) - timedelta(seconds=count)
    statuses = [DagsterRunStatus.SUCCESS] * 8 + [DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
    batch, tags = [], []
    with storage.connect() as conn:
        for i in range(count):
            run = DagsterRun(
                job_name=f"bench_job_{i % 5}", run_id=str(uuid.uuid4()),
                status=statuses[i % 10], tags={"bench/shard": str(i % 10)},
            )
            if hasattr(storage, "_get_run_insertion_values"):  # 1.8+
                values = storage._get_run_insertion_values(run, start + timedelta(seconds=i))
            else:  # 1.7: what its add_run inserts
                values = dict(
                    run_id=run.run_id, pipeline_name=run.job_name, status=run.status.value,
                    run_body=serialize_value(run), snapshot_id=None, partition=None,
                    partition_set=None, create_timestamp=start + timedelta(seconds=i),
                )
            # Real runs carry their start and end in the record; without them the webserver
            # reads each run's event log to find them (and creates one SQLite file per run).
            values["start_time"] = (start + timedelta(seconds=i)).timestamp()
            values["end_time"] = values["start_time"] + 3.0
            batch.append(values)
            tags.append({"run_id": run.run_id, "key": "bench/shard", "value": str(i % 10)})
            if len(batch) == 5000:
                conn.execute(RunsTable.insert(), batch)
                conn.execute(RunTagsTable.insert(), tags)
                batch, tags = [], []
        if batch:
            conn.execute(RunsTable.insert(), batch)
            conn.execute(RunTagsTable.insert(), tags)
    print(count)
    """
)


def seed(server: DagsterServer, dagster_python: Path, count: int) -> float:
    started = time.perf_counter()
    env = {**os.environ, "DAGSTER_HOME": str(server.dagster_home)}
    subprocess.run(
        [str(dagster_python), "-c", SEED, str(count)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=server.dagster_home,
    )
    return time.perf_counter() - started


def first_page(server: DagsterServer, repeats: int) -> None:
    import httpx

    from daglab.helpers.graphql import DagsterClient
    from daglab.helpers.queries import RUNS_PAGE
    from daglab.helpers.runs.history import list_runs

    body = {
        "query": RUNS_PAGE.text,
        "operationName": RUNS_PAGE.name,
        "variables": {"filter": {}, "cursor": None, "limit": 20},
    }

    async def measure() -> tuple[float, float]:
        bare, ours = [], []
        async with (
            httpx.AsyncClient(trust_env=False, timeout=60) as http,
            DagsterClient(server.url) as client,
        ):
            await list_runs(client, None, 20)  # warm both paths
            await http.post(server.graphql_url, json=body)
            for _ in range(repeats):
                t = time.perf_counter()
                response = await http.post(server.graphql_url, json=body)
                response.json()
                bare.append(time.perf_counter() - t)
                t = time.perf_counter()
                runs = await list_runs(client, None, 20)
                ours.append(time.perf_counter() - t)
                assert len(runs) == 20
        return statistics.median(bare), statistics.median(ours)

    bare, ours = asyncio.run(measure())
    print(
        f"  first page (20 runs): library {ours * 1000:.1f} ms | bare GraphQL {bare * 1000:.1f} ms"
        f" | {ours / bare:.2f}x | target <= 1.2x | {'met' if ours / bare <= 1.2 else 'MISSED'}"
    )
    cli = []
    env = clean_env(DAGLAB_URL=server.url)
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(
            [PY, "-m", "daglab", "runs", "list", "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cli.append(time.perf_counter() - t)
    print(
        f"      the CLI (`daglab runs list --json`, process start included): "
        f"{statistics.median(cli) * 1000:.0f} ms"
    )


def prefix_lookup(server: DagsterServer, repeats: int = 3) -> None:
    """A run named by an 8-character prefix (``daglab runs show 1a2b3c4d``): daglab must see
    every run id to know the prefix is unique. Against the bare walk of ``runIdsOrError``."""
    import httpx

    from daglab.helpers.graphql import DagsterClient
    from daglab.helpers.queries import RUN_IDS_PAGE
    from daglab.helpers.runs.history import ID_PAGE_SIZE, resolve_run_ref

    def walk(http: httpx.Client) -> list[str]:
        ids: list[str] = []
        cursor = None
        while True:
            body = {
                "query": RUN_IDS_PAGE.text,
                "variables": {"filter": {}, "cursor": cursor, "limit": ID_PAGE_SIZE},
            }
            page = http.post(server.graphql_url, json=body).json()["data"]["runIdsOrError"]
            ids += page["results"]
            if len(page["results"]) < ID_PAGE_SIZE:
                return ids
            cursor = page["results"][-1]

    with httpx.Client(trust_env=False, timeout=120) as http:
        t = time.perf_counter()
        ids = walk(http)
        bare = time.perf_counter() - t
    newest, oldest = ids[0], ids[-1]

    async def ours(prefix: str) -> float:
        async with DagsterClient(server.url) as client:
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                found = await resolve_run_ref(client, prefix)
                times.append(time.perf_counter() - t)
                assert found in (newest, oldest)
            return statistics.median(times)

    for name, run_id in (("newest", newest), ("oldest", oldest)):
        seconds = asyncio.run(ours(run_id[:8]))
        print(
            f"  run by 8-char prefix ({name} of {len(ids)}): library {seconds * 1000:.0f} ms | "
            f"bare walk of every id {bare * 1000:.0f} ms | {seconds / bare:.2f}x"
        )


def stream_all(server: DagsterServer, count: int) -> None:
    env = clean_env(DAGLAB_URL=server.url)
    out = Path(server.dagster_home) / "all.jsonl"
    with open(out, "wb") as sink:
        proc = subprocess.run(
            [PY, "-c", _MEASURE, PY, "-m", "daglab", "runs", "list", "--all", "--json"],
            env=env,
            stdout=sink,
            stderr=subprocess.PIPE,
            check=False,
        )
    report = proc.stderr.decode(errors="replace").rpartition("\n@bench ")[2].split()
    wall, rss_mb = float(report[0]), int(report[1]) / 1024
    with open(out, "rb") as written:
        lines = sum(1 for _ in written)
    print(
        f"  runs list --all --json: {lines} runs in {wall:.1f} s, peak RSS {rss_mb:.0f} MB | "
        f"target < 150 MB | {'met' if rss_mb < 150 and lines >= count else 'MISSED'}"
    )


def follow(server: DagsterServer, ticks: int) -> None:
    env = clean_env(DAGLAB_URL=server.url)
    launched = subprocess.run(
        [
            PY,
            "-m",
            "daglab",
            "run",
            "--job",
            "ticker_job",
            "--config-yaml",
            f"ops: {{tick: {{config: {{count: {ticks}, every: 0.5}}}}}}",
            "--no-wait",
            "--json",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    import json

    run_id = json.loads(launched.stdout)["run_id"]
    proc = subprocess.Popen(
        [PY, "-m", "daglab", "logs", run_id, "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None
    latencies: list[float] = []
    cpu_first = cpu_last = 0.0
    first_at = last_at = 0.0
    for line in proc.stdout:
        now = time.time()
        if "daglab tick " in line:
            sent = float(line.rsplit("daglab tick ", 1)[1].split()[0])
            latencies.append(now - sent)
            cpu_last, last_at = _cpu_seconds(proc.pid), now
            if len(latencies) == 1:
                cpu_first, first_at = cpu_last, now
    proc.wait()
    median = statistics.median(latencies) if latencies else float("nan")
    print(
        f"  logs --follow: {len(latencies)} events, latency median {median:.3f} s, max "
        f"{max(latencies or [0]):.3f} s | target <= 0.5 s | {'met' if median <= 0.5 else 'MISSED'}"
    )
    span = max(last_at - first_at, 1e-6)
    share = 100 * (cpu_last - cpu_first) / span
    print(
        f"  logs --follow CPU between the first and the last event: {cpu_last - cpu_first:.2f} s "
        f"over {span:.1f} s = {share:.1f}% of a core | target <= 2% | "
        f"{'met' if share <= 2 else 'MISSED'}"
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dagster-version", default="1.13")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--ticks", type=int, default=40)
    args = parser.parse_args(argv)
    dagster_python = ensure_env(args.dagster_version)
    with DagsterServer(
        args.dagster_version, workspace=FIXTURE_PROJECT / "workspace_ops.yaml"
    ) as server:
        print(f"Dagster {server.version}, ready in {server.startup_seconds:.1f} s")
        seconds = seed(server, dagster_python, args.runs)
        print(f"  seeded {args.runs} runs in {seconds:.1f} s")
        first_page(server, 15)
        prefix_lookup(server)
        stream_all(server, args.runs)
        follow(server, args.ticks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
