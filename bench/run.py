"""daglab's benchmarks: each figure beside its baseline, measured in the same run, as a ratio.

    python bench/run.py [--dagster-version 1.13 ...] [--quick]

Starts what it needs through the harness. Start-up is measured with bytecode compiled (the
script compiles the venv and daglab first, as a pip install leaves them), whatever
PYTHONDONTWRITEBYTECODE says. Benchmarks print; they do not pass or fail on their targets.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import textwrap
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from daglab.harness.envs import cache_dir, ensure_env, find_uv  # noqa: E402
from daglab.harness.server import DagsterServer  # noqa: E402

PY = sys.executable
DAGLAB = [PY, "-m", "daglab"]
GENERATED_WORKSPACE = REPO / "fixtures" / "dagster_project" / "workspace_generated.yaml"


@dataclass
class Row:
    figure: str
    daglab: str
    baseline: str
    ratio: str
    target: str
    met: bool | None


ROWS: list[Row] = []
VERSION = {"current": ""}


def add(figure: str, daglab: str, baseline: str, ratio: str, target: str, met: bool | None) -> None:
    row = Row(f"[{VERSION['current']}] {figure}", daglab, baseline, ratio, target, met)
    ROWS.append(row)
    verdict = {True: "met", False: "MISSED", None: "-"}[met]
    print(
        f"  {figure}: daglab {daglab} | baseline {baseline} | {ratio} | target {target} | {verdict}",
        flush=True,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGLAB_", "DAGSTER_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["XDG_CONFIG_HOME"] = "/nonexistent-daglab-bench"
    env["XDG_STATE_HOME"] = "/nonexistent-daglab-bench"
    env.update(extra)
    return env


def timed(cmd: Sequence[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall seconds over ``runs`` (after one warm-up), and the max child RSS in MB."""
    walls, rss = [], 0.0
    for i in range(runs + 1):
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"benchmark command failed ({proc.returncode}): {cmd}\n{err}")
        if proc.stderr:
            proc.stderr.close()
        if i:
            walls.append(wall)
            rss = max(rss, usage.ru_maxrss / 1024)
    return statistics.median(walls), rss


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def compile_bytecode() -> None:
    site = sysconfig.get_paths()["purelib"]
    for path in (site, str(REPO / "daglab")):
        compileall.compile_dir(path, quiet=1, workers=0)


# -- figures ------------------------------------------------------------------------------


def startup(dagster_python: Path, runs: int) -> None:
    env = clean_env()
    floor, _ = timed([PY, "-c", "import typer"], env, runs)
    for args in (["--help"], ["--version"]):
        wall, _ = timed([*DAGLAB, *args], env, runs)
        add(
            f"start-up `daglab {args[0]}`",
            ms(wall),
            f"import typer {ms(floor)}",
            f"{wall / floor:.2f}x",
            "<= 1.3x",
            wall / floor <= 1.3,
        )
    help_wall, _ = timed([*DAGLAB, "--help"], env, runs)
    dagster_bin = dagster_python.parent / "dagster"
    dagster_wall, _ = timed([str(dagster_bin), "--help"], env, max(3, runs // 3))
    add(
        "start-up vs `dagster --help`",
        ms(help_wall),
        ms(dagster_wall),
        f"{dagster_wall / help_wall:.1f}x faster",
        ">= 10x faster",
        dagster_wall / help_wall >= 10,
    )
    dg = dg_binary()
    if dg is not None:
        dg_wall, _ = timed([str(dg), "--help"], env, max(3, runs // 3))
        add(
            "start-up vs `dg --help`",
            ms(help_wall),
            ms(dg_wall),
            f"{dg_wall / help_wall:.1f}x faster",
            "(peer)",
            None,
        )


def dg_binary() -> Path | None:
    """``dg`` from dagster-dg-cli, in a cached env of its own."""
    env_dir = cache_dir() / "bench-dg"
    dg = env_dir / "bin" / "dg"
    if dg.exists():
        return dg
    uv = find_uv()
    try:
        subprocess.run([uv, "venv", "-q", str(env_dir), "--python", sys.executable], check=True)
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "-q",
                "--python",
                str(env_dir / "bin" / "python"),
                "dagster-dg-cli",
            ],
            check=True,
        )
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"  (dg unavailable: {exc})")
        return None
    return dg if dg.exists() else None


def helpers_import(dagster_python: Path, runs: int) -> None:
    env = clean_env()
    ours, _ = timed([PY, "-c", "import daglab.helpers"], env, runs)
    theirs, _ = timed(
        [str(dagster_python), "-c", "from dagster_graphql import DagsterGraphQLClient"],
        env,
        max(3, runs // 3),
    )
    add(
        "import `daglab.helpers`",
        ms(ours),
        f"DagsterGraphQLClient {ms(theirs)}",
        f"{theirs / ours:.1f}x faster",
        ">= 10x faster",
        theirs / ours >= 10,
    )


BARE_CLIENT = textwrap.dedent(
    """
    import json, sys, urllib.request
    url = sys.argv[1]
    for doc in json.loads(sys.argv[2]):
        req = urllib.request.Request(url, data=json.dumps({"query": doc}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            json.load(resp)
    """
)


def discover_documents(minor: tuple[int, int]) -> list[str]:
    from daglab.helpers import queries

    assets = queries.pick(minor, queries.ASSETS_1_7, queries.ASSETS)
    return [queries.VERSION.text, queries.WORKSPACE.text, queries.JOBS.text, assets.text]


def discover(
    server: DagsterServer, runs: int, figure: str, target: float, rss_limit: float | None
) -> None:
    env = clean_env()
    minor = tuple(int(x) for x in server.minor.split("."))
    docs = json.dumps(discover_documents(minor))  # type: ignore[arg-type]
    bare, bare_rss = timed([PY, "-c", BARE_CLIENT, server.graphql_url, docs], env, runs)
    ours, our_rss = timed([*DAGLAB, "discover", "--json", "--url", server.url], env, runs)
    met = ours / bare <= target and (rss_limit is None or our_rss <= rss_limit)
    rss_note = f", peak RSS {our_rss:.0f} MB" if rss_limit else ""
    add(
        figure,
        f"{ms(ours)}{rss_note}",
        f"bare urllib {ms(bare)} (RSS {bare_rss:.0f} MB)",
        f"{ours / bare:.2f}x",
        f"<= {target}x" + (f", RSS <= {rss_limit:.0f} MB" if rss_limit else ""),
        met,
    )


def _run_end_time(server: DagsterServer, run_id: str) -> float:
    query = {
        "query": "query($id: ID!){ runOrError(runId: $id){ ... on Run { endTime } } }",
        "variables": {"id": run_id},
    }
    req = urllib.request.Request(
        server.graphql_url,
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        return float(json.load(resp)["data"]["runOrError"]["endTime"])


def monitoring_delay(server: DagsterServer, runs: int) -> None:
    env = clean_env()
    delays = []
    for _ in range(runs):
        proc = subprocess.run(
            [
                *DAGLAB,
                "run",
                "--asset-selection",
                "orders/raw_orders",
                "--json",
                "--url",
                server.url,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        exited = time.time()
        if proc.returncode != 0:
            raise SystemExit(f"daglab run failed ({proc.returncode}):\n{proc.stderr}")
        run_id = json.loads(proc.stdout)["run_id"]
        delays.append(exited - _run_end_time(server, run_id))
    median = statistics.median(delays)
    add(
        "run monitoring delay (endTime → exit)",
        f"median {median:.2f} s over {runs}",
        "-",
        "-",
        "<= 0.5 s",
        median <= 0.5,
    )


OFFICIAL_LAUNCHES = textwrap.dedent(
    """
    import sys, time
    from dagster_graphql import DagsterGraphQLClient
    host, port, n, job = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    client = DagsterGraphQLClient(host, port_number=port)
    for _ in range(n):  # the usual loop: launch, poll every second until it ends
        run_id = client.submit_job_execution(job, repository_location_name="main",
                                             repository_name="__repository__")
        while client.get_run_status(run_id).value not in ("SUCCESS", "FAILURE", "CANCELED"):
            time.sleep(1)
    """
)

DAGLAB_LAUNCHES = textwrap.dedent(
    """
    import asyncio, sys
    from daglab.helpers import connect, run_job
    url, n, job = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    async def main():
        await connect(url)
        results = await asyncio.gather(
            *(run_job(job, location="main", progress=False) for _ in range(n))
        )
        bad = [r for r in results if r.status != "SUCCESS"]
        assert not bad, bad
    asyncio.run(main())
    """
)


def launch_throughput(server: DagsterServer, count: int) -> None:
    env = clean_env()
    dagster_python = ensure_env(server.minor)
    job = "orders_job"
    started = time.perf_counter()
    subprocess.run([PY, "-c", DAGLAB_LAUNCHES, server.url, str(count), job], env=env, check=True)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(
        [
            str(dagster_python),
            "-c",
            OFFICIAL_LAUNCHES,
            "127.0.0.1",
            str(server.port),
            str(count),
            job,
        ],
        env=env,
        check=True,
    )
    theirs = time.perf_counter() - started
    add(
        f"launch + await {count} runs",
        f"{ours:.1f} s",
        f"DagsterGraphQLClient, 1 s poll: {theirs:.1f} s",
        f"{theirs / ours:.2f}x faster",
        ">= 3x faster",
        theirs / ours >= 3,
    )


def waiting_overhead(server: DagsterServer, seconds: float) -> None:
    env = clean_env()
    cmd = [
        *DAGLAB,
        "run",
        "--job",
        "slow_job",
        "--location",
        "main",
        "--config-yaml",
        f"ops: {{sleep_for: {{config: {{seconds: {seconds}}}}}}}",
        "--timeout",
        str(seconds * 3),
        "--url",
        server.url,
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("daglab run --job slow_job failed")
    cpu = usage.ru_utime + usage.ru_stime
    share = cpu / wall * 100
    add(
        f"CPU while waiting on a {seconds:.0f} s run",
        f"{cpu:.2f} s CPU in {wall:.0f} s",
        "-",
        f"{share:.2f}% of one core",
        "<= 2%",
        share <= 2,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dagster-version", action="append", dest="versions")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--assets", type=int, default=10_000, help="assets in the large workspace")
    parser.add_argument("--launches", type=int, default=20, help="runs in the throughput figure")
    parser.add_argument(
        "--wait-seconds", type=float, default=60.0, help="run length for CPU overhead"
    )
    args = parser.parse_args(argv)
    versions = args.versions or ["1.13", "1.7"]
    runs = 5 if args.quick else 15
    print(
        f"daglab benchmarks, {datetime.now():%Y-%m-%d %H:%M}, Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    print("Start-up is measured with bytecode compiled (compileall on the venv and daglab first).")
    compile_bytecode()
    for version in versions:
        dagster_python = ensure_env(version)
        VERSION["current"] = version
        print(f"\n== Dagster {version} ==", flush=True)
        startup(dagster_python, runs)
        helpers_import(dagster_python, runs)
        with DagsterServer(version) as server:
            print(f"  (server {server.version} ready in {server.startup_seconds:.1f} s)")
            discover(server, runs, "small discover `daglab discover --json`", 2.0, None)
            monitoring_delay(server, 3 if args.quick else 5)
            launch_throughput(server, args.launches)
            waiting_overhead(server, args.wait_seconds)
        env = {"DAGLAB_FIXTURE_ASSET_COUNT": str(args.assets)}
        with DagsterServer(
            version, workspace=GENERATED_WORKSPACE, daemon=False, env=env, ready_timeout=900
        ) as big:
            print(f"  (server with {args.assets} assets ready in {big.startup_seconds:.1f} s)")
            discover(big, 3, f"large discover ({args.assets} assets)", 1.15, 200.0)
    print("\nSummary")
    width = max(len(r.figure) for r in ROWS)
    for r in ROWS:
        verdict = {True: "met", False: "MISSED", None: "-"}[r.met]
        print(f"  {r.figure:<{width}}  {r.ratio:>18}  target {r.target:<28} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
