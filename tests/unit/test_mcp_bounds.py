"""The MCP server's bounds: caps, waits, deadlines, safe text, and the output schemas that
must stay the CLI's ``--json`` documents."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("mcp.server")

from daglab.helpers.auth import register_secret
from daglab.helpers.errors import BadInputError, ConfigValidationError, operation, setting
from daglab.helpers.models import ConfigProblem, RunError, RunResult, ValidationResult
from daglab.mcp import schemas
from daglab.mcp.bounds import CLIPPED, Limits, ToolDeadlineError, capped, safe_json, within
from daglab.mcp.deployments import Deployments
from daglab.mcp.tools import ToolContext, error_text, mcp_spelling


def test_limit_defaults_and_is_capped_both_ways() -> None:
    limits = Limits(default_limit=10, max_limit=50)
    assert limits.limit(None) == 10
    assert limits.limit(3) == 3
    assert limits.limit(10_000) == 50
    assert limits.limit(0) == 1


def test_wait_defaults_and_is_capped_at_max_wait() -> None:
    limits = Limits(default_wait=120.0, max_wait=30.0)
    assert limits.wait(None) == 30.0
    assert limits.wait(5) == 5.0
    assert limits.wait(1e9) == 30.0
    assert limits.wait(-1) == 0.0


@pytest.mark.parametrize(
    "bad", [{"tool_timeout": 0}, {"max_wait": -1}, {"default_limit": 0}, {"max_text": 10}]
)
def test_nonsense_limits_are_bad_input(bad: dict[str, float]) -> None:
    with pytest.raises(BadInputError):
        Limits(**bad)  # type: ignore[arg-type]


def test_capped_says_whether_anything_was_left_out() -> None:
    assert capped([1, 2, 3], 3) == ([1, 2, 3], False)
    assert capped([1, 2, 3], 2) == ([1, 2], True)


def test_safe_json_cleans_redacts_and_clips_every_string_keys_included() -> None:
    register_secret("tok-SAFE-json-1234")
    doc = {
        "\x1b[31mkey": ["a\x1b]8;;http://evil\x07link\x1b]8;;\x07", "Bearer tok-SAFE-json-1234"],
        "n": 3,
        "long": "x" * 500,
        "bidi": "abc\u202edef",
    }
    out = safe_json(doc, 200)
    assert out == {
        "key": ["alink", "Bearer ***"],
        "n": 3,
        "long": "x" * (200 - len(CLIPPED)) + CLIPPED,
        "bidi": "abcdef",
    }


def test_a_secret_split_by_a_control_character_is_still_masked() -> None:
    register_secret("split-SECRET-5678")
    assert "split-SECRET-5678" not in safe_json("split-SEC\x07RET-5678", 1000)


async def test_within_turns_a_slow_call_into_a_deadline_error() -> None:
    with pytest.raises(ToolDeadlineError, match=r"deadline of 0\.05s"):
        await within(0.05, asyncio.sleep(5), "discover_jobs")
    assert await within(1, asyncio.sleep(0, "done"), "x") == "done"


def test_errors_name_tool_arguments_and_tools() -> None:
    exc = BadInputError(
        f"Give {setting('location')}.", hint=f"Then {operation('wait_for_run', 'abc')}."
    )
    ctx = ToolContext(Deployments())
    assert error_text(exc, ctx) == (
        "[bad input] Give `location`.\nThen the tool get_run(run_id='abc')."
    )
    assert mcp_spelling("setting", "pattern") == "`asset_pattern`"


def test_an_invalid_config_error_lists_each_problem_with_its_path() -> None:
    exc = ConfigValidationError(
        "The run config is not valid.", [ConfigProblem(path=["ops", "x"], message="missing")]
    )
    assert "root:ops:x: missing" in error_text(exc, ToolContext(Deployments()))


def test_an_unexpected_error_says_its_type_and_is_redacted() -> None:
    register_secret("boom-SECRET-999")
    text = error_text(RuntimeError("boom-SECRET-999"), ToolContext(Deployments()))
    assert text == "[error] unexpected RuntimeError: ***"


# -- the output schemas are the --json documents --------------------------------------------


def _fields(model: type) -> set[str]:
    return set(model.model_fields)  # type: ignore[attr-defined]


def test_run_schema_is_exactly_run_result_to_json() -> None:
    result = RunResult(
        run_id="r",
        status="FAILURE",
        url="u",
        started_at=1.0,
        ended_at=2.0,
        error=RunError(message="m", step="s"),
    )
    data = result.to_json()
    assert set(data) == _fields(schemas.RunOut)
    assert set(data["error"]) == _fields(schemas.RunErrorOut)  # type: ignore[arg-type]
    schemas.RunOut.model_validate(data)


def test_validation_schema_is_exactly_validation_result_to_json() -> None:
    result = ValidationResult(
        valid=False,
        job="j",
        location="l",
        repository="r",
        errors=[ConfigProblem(path=["a"], message="m")],
    )
    data = result.to_json()
    assert set(data) == _fields(schemas.ValidationOut)
    assert set(data["errors"][0]) == _fields(schemas.ProblemOut)  # type: ignore[index]
    schemas.ValidationOut.model_validate(data)


def test_launch_and_cancel_schemas_add_only_their_own_fields() -> None:
    assert _fields(schemas.LaunchOut) - _fields(schemas.RunOut) == {
        "request_id",
        "stop_reason",
        "waited_s",
    }
    assert _fields(schemas.CancelOut) - _fields(schemas.RunOut) == {"force"}
