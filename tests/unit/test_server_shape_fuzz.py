"""Answers of the wrong shape give daglab errors, never Python ones: every command that reads
the mock's answers runs, in process, against answers whose shape is broken at random (a field
dropped, a value turned into null, a number, a string, a list or an object) and must end with
a documented exit code and one clear line, never "unexpected" or a traceback.

The mutations start from the mock's real answers, so every document daglab sends is broken in
places it really reads; seeds are fixed, so a failure is reproducible by its test id."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import helpers_fakes
import httpx
import pytest

from daglab.harness.mock import MockDagster

fresh_session = helpers_fakes.fresh_session

WRONG = [None, 0, -1, "", "x", [], {}, True, 1e300]


def mutate(value: Any, rng: random.Random, rate: float) -> Any:
    """``value`` with some of its nodes replaced or dropped (GraphQL type names kept, so the
    answer still takes the branches daglab reads)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key != "__typename" and rng.random() < rate:
                if rng.random() < 0.3:
                    continue  # the field is missing
                out[key] = rng.choice(WRONG)
            else:
                out[key] = mutate(item, rng, rate)
        return out
    if isinstance(value, list):
        return [mutate(item, rng, rate) for item in value if rng.random() > rate / 2]
    return value


class Mutating(httpx.AsyncBaseTransport):
    """The mock's answers, each broken at random (the version query excepted: a server that
    does not say its version is another test's)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, seed: int, rate: float) -> None:
        self.inner = inner
        self.rng = random.Random(seed)
        self.rate = rate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if b"DaglabVersion" in request.content:
            return httpx.Response(response.status_code, content=body)
        try:
            document = json.loads(body)
        except ValueError:
            return httpx.Response(response.status_code, content=body)
        return httpx.Response(
            response.status_code,
            json=mutate(document, self.rng, self.rate),
            headers={"content-type": "application/json"},
        )


COMMANDS = [
    ("status",),
    ("discover",),
    ("discover", "--filter", "assets", "--json"),
    ("run", "--job", "orders_job", "--timeout", "5"),
    ("run", "--asset-pattern", "orders/*", "--timeout", "5"),
    ("run", "--job", "config_job", "--validate-only", "--config-yaml", "ops: {}"),
    ("watch", "{failed}", "--timeout", "5"),
    ("runs", "list"),
    ("runs", "show", "{failed}"),
    ("logs", "{failed}"),
    ("logs", "{failed}", "--stderr", "--step", "explode"),
    ("rerun", "{failed}", "--from-failure", "--timeout", "5"),
    ("cancel", "{failed}"),
    ("backfills", "list"),
]
SEEDS = range(8)


@pytest.fixture(scope="module")
def failed() -> Iterator[tuple[MockDagster, str]]:
    mock = MockDagster()

    async def launch() -> str:
        from daglab.helpers import runs

        async with mock.client() as client:
            target = runs.RunTarget("failing_job", "main", "__repository__")
            submitted = await runs.launch_run(client, target)
            result = await runs.monitor_run(client, submitted.run_id, 30)
            return result.run_id

    import asyncio

    yield mock, asyncio.run(launch())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_broken_answer_is_a_daglab_error(
    command: tuple[str, ...],
    seed: int,
    failed: tuple[MockDagster, str],
    capsys: pytest.CaptureFixture[str],
    fresh_session: None,
) -> None:
    mock, run_id = failed
    args = [run_id if a == "{failed}" else a for a in command]
    transport = Mutating(mock.transport(), seed, rate=0.15)
    code, _, err = helpers_fakes.cli_in_process(capsys, transport, *args, "--url", mock.url)
    assert "unexpected" not in err.lower() and "Traceback" not in err, (args, seed, err)
    assert code in (0, 1, 2, 3, 4), (args, seed, code, err)
