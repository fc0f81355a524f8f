"""Trust under hostile servers, bad input and signals (issue 15).

Each class of hole is reproduced against a hostile HTTP server on 127.0.0.1
(``hostile_server.py``) or the mock, through the real CLI in a subprocess, and measured:
peak RSS (``ru_maxrss`` of the daglab process), seconds, runs created. The figures are
printed (``-s`` shows them) and bounded by the assertions.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from daglab.harness.mock import MockDagster
from daglab.helpers import errors, runs
from daglab.helpers.runs import RunTarget
from daglab.helpers.text import csv_cell
from tests.conftest import REPO, isolated_env
from tests.unit.hostile_server import HostileServer, escapes

MiB = 2**20
BOMB_YAML = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.fixture(scope="module")
def hostile() -> Any:
    with HostileServer() as server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path, PYTHONPATH=str(REPO), DAGLAB_KEYRING="0")


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mib: float

    def json(self) -> Any:
        return json.loads(self.stdout)


# Linux carries a process's memory high-water mark across fork and exec: a child spawned
# straight from pytest (hundreds of MB after a full suite) would report pytest's peak, not its
# own. So daglab is spawned from this small process, which reports the child's exit code and
# peak on the pipe whose fd it is given first.
_MEASURE = (
    "import os, sys\n"
    "fd = int(sys.argv[1])\n"
    "os.set_inheritable(fd, False)\n"
    "pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "os.write(fd, f'{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}'.encode())\n"
)


def daglab(*args: str, env: dict[str, str], timeout: float = 90) -> Measured:
    """Run ``daglab ARGS``; its exit code, output, wall time and peak RSS (``wait4``, measured
    by a small parent so that the figure is daglab's own)."""
    started = time.monotonic()
    report_r, report_w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-c", _MEASURE, str(report_w), sys.executable, "-m", "daglab", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        pass_fds=(report_w,),
        start_new_session=True,
    )
    os.close(report_w)
    output: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        output[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=("out", proc.stdout)),
        threading.Thread(target=drain, args=("err", proc.stderr)),
    ]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"daglab {args} ran longer than {timeout}s") from None
    for reader in readers:
        reader.join()
    with os.fdopen(report_r, "rb") as report:
        code_text, rss_kib = report.read().decode().split()
    proc.returncode = code = int(code_text)
    result = Measured(
        code,
        output["out"].decode(),
        output["err"].decode(),
        time.monotonic() - started,
        int(rss_kib) / 1024,
    )
    shown = " ".join(a if len(a) < 40 else a[:20] + "..." for a in args)
    print(
        f"\n  daglab {shown}: exit {code}, {result.seconds:.1f}s, "
        f"peak RSS {result.peak_rss_mib:.0f} MiB"
    )
    return result


def one_error(result: Measured, code: int, kind: str | None = None) -> dict[str, Any]:
    """The one JSON error document, and no "unexpected" anywhere."""
    assert result.returncode == code, result.stderr
    assert "unexpected" not in result.stderr.lower()
    error = result.json()["error"]
    assert error["code"] == code
    if kind is not None:
        assert error["kind"] == kind
    return error


# -- 1. hard limits -------------------------------------------------------------------------


def test_a_gzip_bomb_is_stopped_at_the_cap(hostile: HostileServer, env: dict[str, str]) -> None:
    result = daglab("status", "--url", hostile.url("gzip-bomb"), "--json", env=env)
    error = one_error(result, 3, "ResponseTooLargeError")
    assert "decompresses to more than 256 MiB" in error["message"]
    assert result.peak_rss_mib < 700  # 2 GiB inflated whole took 10 GB before
    assert result.seconds < 30


def test_a_1_gib_body_that_says_so_is_refused_before_reading(
    hostile: HostileServer, env: dict[str, str]
) -> None:
    result = daglab("status", "--url", hostile.url("huge-declared"), "--json", env=env)
    one_error(result, 3, "ResponseTooLargeError")
    assert result.peak_rss_mib < 150
    assert result.seconds < 10


def test_a_1_gib_body_is_counted_while_it_is_read(
    hostile: HostileServer, env: dict[str, str]
) -> None:
    result = daglab("status", "--url", hostile.url("huge-undeclared"), "--json", env=env)
    error = one_error(result, 3, "ResponseTooLargeError")
    assert "more than 256 MiB" in error["message"]
    assert result.peak_rss_mib < 700  # 2.3-2.7 GB before


def test_the_cap_is_a_setting(hostile: HostileServer, env: dict[str, str]) -> None:
    env = {**env, "DAGLAB_MAX_RESPONSE_MB": "8"}
    result = daglab("status", "--url", hostile.url("huge-undeclared"), "--json", env=env)
    assert "more than 8 MiB" in one_error(result, 3)["message"]
    assert result.peak_rss_mib < 150


def test_a_drip_cannot_stretch_the_deadline(hostile: HostileServer, env: dict[str, str]) -> None:
    result = daglab(
        "status", "--url", hostile.url("drip"), "--http-timeout", "2", "--json", env=env
    )
    error = one_error(result, 3, "RequestTimeoutError")
    assert "did not answer within 2s" in error["message"]
    assert result.seconds < 2 * 2 + 4  # each request 2 s, the call 4 s: 101 s before


def test_a_drip_cannot_stretch_a_watch(hostile: HostileServer, env: dict[str, str]) -> None:
    result = daglab(
        "watch", "abcdef12", "--url", hostile.url("drip"), "--timeout", "3", "--json", env=env
    )
    one_error(result, 3, "RequestTimeoutError")
    assert result.seconds < 3 + 4  # 61 s before


def test_a_huge_retry_after_is_rate_limiting_at_once(
    hostile: HostileServer, env: dict[str, str]
) -> None:
    result = daglab("status", "--url", hostile.url("retry-after"), "--json", env=env)
    error = one_error(result, 3, "RateLimitedError")
    assert "rate limiting" in error["message"] and "999999s" in error["message"]
    assert result.seconds < 5  # three silent minutes before


def test_a_yaml_anchor_bomb_is_refused(mock_dagster: MockDagster, env: dict[str, str]) -> None:
    assert len(BOMB_YAML) == 342
    result = daglab(
        "run",
        "--job",
        "config_job",
        "--config-yaml",
        BOMB_YAML,
        "--url",
        mock_dagster.url,
        "--json",
        env=env,
    )
    error = one_error(result, 2, "ConfigFileError")
    assert "aliases" in error["message"]
    assert result.peak_rss_mib < 150  # 5 GB before
    assert mock_dagster.runs == []


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "too-large"])
def test_run_config_files_are_regular_and_bounded(
    kind: str, tmp_path: Path, env: dict[str, str]
) -> None:
    if kind == "dev-zero":
        path = "/dev/zero"
    elif kind == "fifo":
        path = str(tmp_path / "config.fifo")
        os.mkfifo(path)
    else:
        path = str(tmp_path / "big.yaml")
        with open(path, "wb") as fh:
            fh.truncate(17 * MiB)
    result = daglab(
        "run",
        "--job",
        "x",
        "--run-config",
        path,
        "--url",
        "http://127.0.0.1:9",
        "--json",
        env=env,
        timeout=20,
    )
    error = one_error(result, 2, "ConfigFileError")
    assert ("not a regular file" in error["message"]) or ("larger than 16 MiB" in error["message"])
    assert result.seconds < 5


# -- 2. server text is made safe ------------------------------------------------------------

EVIL = "\x1b]8;;http://evil.example/\x07LOADED\x1b]8;;\x07\x1b[2J\u202e\x07"


def test_server_text_in_status_reaches_the_terminal_clean(
    hostile: HostileServer, env: dict[str, str]
) -> None:
    hostile.extra["evil-workspace"] = escapes(
        {
            "data": {
                "workspaceOrError": {
                    "__typename": "Workspace",
                    "locationEntries": [
                        {
                            "name": "main\x1b[31m",
                            "loadStatus": EVIL,
                            "updatedTimestamp": None,
                            "locationOrLoadError": {
                                "__typename": "RepositoryLocation",
                                "repositories": [{"name": "repo\x07"}],
                            },
                        }
                    ],
                }
            }
        }
    )
    result = daglab("status", "--url", hostile.url("evil-workspace"), env=env)
    shown = result.stdout + result.stderr
    assert "LOADED" in shown
    for bad in ("\x1b", "\x07", "\u202e", "evil.example"):
        assert bad not in shown


def test_csv_cells_defuse_formulas() -> None:
    assert csv_cell('=HYPERLINK("http://evil","x")') == '\'=HYPERLINK("http://evil","x")'
    for start in "=+-@":
        assert csv_cell(start + "1").startswith("'")
    assert csv_cell("orders\x1b[2J\nraw") == "orders raw"
    assert csv_cell("plain") == "plain"


# -- 3. never a second run ------------------------------------------------------------------


def job_target() -> RunTarget:
    return RunTarget("config_job", "main", "__repository__")


CONFIG_OK = {"ops": {"process_rows": {"config": {"rows": 3}}}}


async def test_a_lagging_lookup_does_not_make_a_second_run(mock_app: MockDagster) -> None:
    mock_app.lag_run_lookups(5.0)  # a read replica that shows a run 5 s after it was made
    mock_app.lose_response("launchRun", mode="drop")
    started = time.monotonic()
    async with mock_app.client() as client:
        submitted = await runs.launch_run(client, job_target(), run_config=CONFIG_OK)
    print(
        f"\n  lagging lookup (5 s): {len(mock_app.runs)} run(s) created, found after "
        f"{time.monotonic() - started:.1f}s"
    )
    assert len(mock_app.runs) == 1  # 2 before: re-launched after 3.5 s of empty lookups
    assert submitted.recovered and submitted.run_id == mock_app.runs[0].run_id
    assert mock_app.operations.count("DaglabLaunchRun") == 1


def test_a_5xx_after_the_run_was_created_finds_the_run(
    mock_dagster: MockDagster, env: dict[str, str]
) -> None:
    mock_dagster.lose_response("launchRun", mode="error500")
    result = daglab(
        "run",
        "--job",
        "config_job",
        "--no-wait",
        "--config-yaml",
        "ops: {process_rows: {config: {rows: 3}}}",
        "--url",
        mock_dagster.url,
        "--json",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    (run,) = mock_dagster.runs
    assert result.json()["run_id"] == run.run_id
    assert "found the run by its request id" in result.stderr
    assert mock_dagster.operations.count("DaglabLaunchRun") == 1


async def test_a_5xx_after_the_launch_says_the_run_may_exist(
    mock_app: MockDagster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs.launch, "LOOKUP_DELAYS", (0.0, 0.05))
    mock_app.lag_run_lookups(60.0)  # the run never shows within the lookups
    mock_app.lose_response("launchRun", mode="error500")
    async with mock_app.client() as client:
        with pytest.raises(errors.ServerError) as info:
            await runs.launch_run(client, job_target(), run_config=CONFIG_OK, request_id="rq-15")
    assert "may exist" in info.value.message
    assert "daglab/request_id=rq-15" in info.value.message
    assert info.value.message.startswith("The Dagster server failed on DaglabLaunchRun (HTTP 500)")
    assert len(mock_app.runs) == 1  # made once, never re-sent
    assert mock_app.operations.count("DaglabLaunchRun") == 1


# -- 4. input checked where it enters -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--http-timeout", "nan"), "--http-timeout"),
        (("--http-timeout", "inf"), "--http-timeout"),
        (("--http-timeout", "-1"), "--http-timeout"),
        (("--auth-token", "t\u00f6ken-\u2013"), "--auth-token"),
        (("--header", "X-Team=\u00e9quipe"), "--header"),
    ],
)
def test_bad_connection_input_is_exit_2_naming_it(
    args: tuple[str, ...], named: str, env: dict[str, str]
) -> None:
    result = daglab("status", "--url", "http://127.0.0.1:9", *args, "--json", env=env)
    assert named in one_error(result, 2)["message"]


def test_a_profile_timeout_that_is_not_a_number_is_exit_2(env: dict[str, str]) -> None:
    config = Path(env["XDG_CONFIG_HOME"]) / "daglab" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[profiles.p]\nurl = "http://127.0.0.1:9"\nhttp_timeout = "abc"\n')
    result = daglab("status", "--profile", "p", "--json", env=env)
    assert "http_timeout in profile 'p'" in one_error(result, 2)["message"]


def test_a_run_config_nested_100k_deep_is_exit_2(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"ops": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = daglab(
        "run",
        "--job",
        "x",
        "--run-config",
        str(path),
        "--url",
        "http://127.0.0.1:9",
        "--json",
        env=env,
    )
    assert "nested too deeply" in one_error(result, 2, "ConfigFileError")["message"]


def test_a_selection_with_50k_parentheses_is_exit_2(env: dict[str, str]) -> None:
    select = "(" * 50_000 + 'key:"a"' + ")" * 50_000
    result = daglab("run", "--select", select, "--url", "http://127.0.0.1:9", "--json", env=env)
    one_error(result, 2, "SelectionSyntaxError")


@pytest.mark.parametrize(
    "behaviour",
    [
        "deep-json",
        "not-json",
        "shape-workspace-list",
        "shape-workspace-missing",
        "shape-workspace-types",
        "shape-union-list",
        "shape-errors-object",
    ],
)
def test_malformed_server_json_is_a_server_error(
    behaviour: str, hostile: HostileServer, env: dict[str, str]
) -> None:
    result = daglab("status", "--url", hostile.url(behaviour), "--json", env=env)
    one_error(result, 3)


# -- 5. signals and pipes -------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_leave_the_run_alone_and_report_it(
    signum: int, code: int, mock_dagster: MockDagster, env: dict[str, str]
) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daglab",
            "run",
            "--job",
            "slow_job",
            "--json",
            "--config-yaml",
            "ops: {sleep_for: {config: {seconds: 30}}}",
            "--url",
            mock_dagster.url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = ""
    while "status" not in seen:
        line = proc.stderr.readline()
        assert line, f"daglab ended early: {seen}"
        seen += line
    proc.send_signal(signum)
    out, rest = proc.communicate(timeout=30)
    (run,) = mock_dagster.runs
    assert proc.returncode == code
    assert f"Run {run.run_id} was left alone" in rest
    assert f"/runs/{run.run_id}" in rest
    assert json.loads(out)["run_id"] == run.run_id
    assert "DaglabTerminateRun" not in mock_dagster.operations


def test_a_signal_while_launching_still_prints_one_document(
    mock_dagster: MockDagster, env: dict[str, str]
) -> None:
    mock_dagster.set_latency(20.0, "launchRun")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daglab",
            "run",
            "--job",
            "config_job",
            "--json",
            "--config-yaml",
            "ops: {process_rows: {config: {rows: 3}}}",
            "--url",
            mock_dagster.url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while "DaglabLaunchRun" not in mock_dagster.operations and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert "daglab/request_id=" in err
    assert json.loads(out)["error"]["code"] == 143


def test_a_table_into_a_closed_pipe_exits_141_quietly(
    mock_dagster: MockDagster, env: dict[str, str]
) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # nobody reads: the first write is EPIPE
    proc = subprocess.run(
        [sys.executable, "-m", "daglab", "discover", "--url", mock_dagster.url],
        env=env,
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    os.close(writer)
    assert proc.returncode == 141
    assert proc.stderr == ""


@pytest.mark.parametrize("stdout", ["full", "closed"])
def test_an_unwritable_stdout_is_exit_74(
    stdout: str, mock_dagster: MockDagster, env: dict[str, str]
) -> None:
    args = [sys.executable, "-m", "daglab", "discover", "--json", "--url", mock_dagster.url]
    if stdout == "full":
        with open("/dev/full", "w") as full:
            proc = subprocess.run(args, env=env, stdout=full, stderr=subprocess.PIPE, text=True)
    else:
        proc = subprocess.run(
            ["sh", "-c", 'exec "$@" >&-', "sh", *args], env=env, stderr=subprocess.PIPE, text=True
        )
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr.startswith("Error: cannot write the output")


# -- 6. one JSON document on every outcome --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("run", "--job", "nosuch"), 3),
        (("status",), 3),
        (("watch", "0badc0de"), 3),
        (("cancel", "0badc0de"), 3),
        (("watch", "nosuch00"), 2),  # not a run id: bad input before any request
        (("runs", "list"), 3),
        (("runs", "show", "latest"), 3),
        (("logs", "0badc0de"), 3),
        (("rerun", "0badc0de"), 3),
        (("backfills", "list"), 3),
        (("discover", "--filter", "nothing"), 2),
        (("status", "--no-such-flag"), 2),
        (("auth", "status"), 3),  # the report says the server is unreachable
        (("auth", "logout"), 0),
        (("dev", "status"), 0),
        (("dev", "down"), 0),
        (("notebook", "list"), 0),
    ],
)
def test_json_prints_exactly_one_document(
    args: tuple[str, ...], code: int, env: dict[str, str]
) -> None:
    url = () if args[0] in ("dev", "notebook") else ("--url", "http://127.0.0.1:9")
    result = daglab(*args, *url, "--json", env=env)
    assert result.returncode == code, result.stderr
    document = json.loads(result.stdout)  # exactly one document: json.loads takes no more
    if isinstance(document, dict) and "error" in document:
        assert document["error"]["code"] == code


def test_run_nosuch_job_json_error(mock_dagster: MockDagster, env: dict[str, str]) -> None:
    result = daglab("run", "--job", "nosuch", "--url", mock_dagster.url, "--json", env=env)
    error = one_error(result, 2, "TargetNotFoundError")
    assert "nosuch" in error["message"]
    assert set(error) == {"code", "kind", "message", "hint"}


# -- 7. concurrent logins -------------------------------------------------------------------


def _login(home: str, url: str, barrier: Any) -> None:
    os.environ["XDG_CONFIG_HOME"] = home
    os.environ["DAGLAB_KEYRING"] = "0"
    from daglab.helpers.auth.store import credential_key, store_token

    barrier.wait()
    store_token(credential_key(None, url), "tok-" + url.rsplit(":", 1)[1])


def test_concurrent_logins_for_different_urls_lose_nothing(tmp_path: Path) -> None:
    from daglab.helpers.auth.store import _read_credentials, credentials_path

    writers, rounds = 8, 5
    context = multiprocessing.get_context("fork")
    for round_ in range(rounds):
        home = str(tmp_path / f"round{round_}")
        barrier = context.Barrier(writers)
        urls = [f"http://host{i}:{3000 + i}" for i in range(writers)]
        procs = [context.Process(target=_login, args=(home, url, barrier)) for url in urls]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(30)
            assert proc.exitcode == 0
        stored = _read_credentials(credentials_path({"XDG_CONFIG_HOME": home}))
        assert sorted(stored) == sorted(f"url:{u}" for u in urls)  # 4 in 40 lost before
        leftovers = [p.name for p in Path(home, "daglab").iterdir() if p.name.endswith(".tmp")]
        assert leftovers == []


# -- fuzz: whatever the server answers, only daglab's errors --------------------------------

FIELDS = [
    "__typename",
    "data",
    "errors",
    "message",
    "version",
    "workspaceOrError",
    "locationEntries",
    "name",
    "loadStatus",
    "locationOrLoadError",
    "repositories",
    "repositoriesOrError",
    "nodes",
    "jobs",
    "pipelines",
    "assetNodes",
    "assetKey",
    "path",
    "runsOrError",
    "results",
    "runId",
    "status",
    "runOrError",
    "tags",
    "key",
    "value",
    "launchRun",
    "run",
    "jobName",
    "assetSelection",
    "updatedTimestamp",
    "location",
    "groupName",
    "isJob",
    "className",
]
TYPENAMES = [
    "Workspace",
    "RepositoryLocation",
    "PythonError",
    "RepositoryConnection",
    "Repository",
    "Runs",
    "Run",
    "LaunchRunSuccess",
    "RunNotFoundError",
    "UnauthorizedError",
    "Job",
    "RunConfigValidationInvalid",
    "PipelineNotFoundError",
    "AssetNode",
]


def _json_values() -> Any:
    from hypothesis import strategies as st

    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False)
        | st.sampled_from([*TYPENAMES, "LOADED", "SUCCESS", "main", "1.13.0", ""])
        | st.text(max_size=8)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=6)
        ),
        max_leaves=30,
    )


def test_fuzzed_server_answers_give_only_daglab_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import httpx
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    import daglab.helpers as dl

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(runs.launch, "LOOKUP_DELAYS", (0.0,))

    calls = [
        lambda: dl.discover_locations(),
        lambda: dl.discover_jobs(),
        lambda: dl.discover_assets(),
        lambda: dl.get_run("abcdef12"),
        lambda: dl.run_job("job", location="main", repository="r", wait=False, progress=False),
    ]

    @settings(
        max_examples=int(os.environ.get("DAGLAB_FUZZ_EXAMPLES", "150")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        answer=_json_values(),
        wrap=st.sampled_from(["data-root", "whole", "raw"]),
        call=st.sampled_from(range(len(calls))),
    )
    def check(answer: Any, wrap: str, call: int) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if b"DaglabVersion" in request.content:
                return httpx.Response(200, json={"data": {"version": "1.13.0"}})
            if wrap == "raw":
                return httpx.Response(200, content=json.dumps(answer).encode())
            if wrap == "whole":
                return httpx.Response(200, json=answer)
            query = json.loads(request.content)["query"]
            root = next((f for f in FIELDS if f"{f}(" in query or f"{f} {{" in query), "data")
            return httpx.Response(200, json={"data": {root: answer}})

        async def go() -> None:
            await dl.connect(
                "http://fuzz.test", transport=httpx.MockTransport(handler), check=False
            )
            try:
                await calls[call]()
            except errors.DaglabError:
                pass
            finally:
                await dl.close()

        asyncio.run(go())

    check()
