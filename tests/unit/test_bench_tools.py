"""The measuring tools of bench/run.py: benchmarks are not tests, but the code that takes
their figures must not fail only when someone finally runs the whole bench."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("daglab_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_timed_pair_gives_each_command_its_own_median_and_peak_memory(bench: ModuleType) -> None:
    env = bench.clean_env()
    light = [sys.executable, "-c", "pass"]
    heavy = [sys.executable, "-c", "import time; b = b'x' * (64 << 20); time.sleep(0.2)"]
    (light_wall, light_rss), (heavy_wall, heavy_rss) = bench.timed_pair(light, heavy, env, 2)
    assert 0 < light_wall < heavy_wall
    assert heavy_wall >= 0.2
    assert heavy_rss > light_rss + 50


def test_a_failing_benchmark_command_stops_the_bench_with_its_error(bench: ModuleType) -> None:
    cmd = [sys.executable, "-c", "import sys; sys.exit('no server here')"]
    with pytest.raises(SystemExit, match="no server here"):
        bench.timed(cmd, bench.clean_env(), 1)


def test_import_profile_names_the_packages_a_command_imports(bench: ModuleType) -> None:
    profile = bench.import_profile([sys.executable, "-c", "import asyncio"], bench.clean_env())
    assert profile.startswith("imports ")
    assert "asyncio " in profile  # some thirty modules: always among the heaviest


def test_bench_clients_are_valid_python(bench: ModuleType) -> None:
    for name in ("BARE_CLIENT", "STACK_CLIENT", "OFFICIAL_LAUNCHES", "DAGLAB_LAUNCHES"):
        compile(getattr(bench, name), name, "exec")


def test_machine_cpu_counts_work_done_here_and_steal_apart(bench: ModuleType) -> None:
    busy_before, steal_before = bench.cpu_seconds()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # 0.3 s of this process's own CPU
        pass
    busy, steal = bench.cpu_seconds()
    assert busy - busy_before >= 0.25
    assert steal >= steal_before >= 0
