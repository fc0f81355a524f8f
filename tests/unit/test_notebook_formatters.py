"""In a notebook, daglab's results show as HTML: the formatters IPython is taught find the
models wherever they live (the models are split by area; a formatter registered by module
name missed every one of them, and a validation or a run showed as plain repr)."""

from __future__ import annotations

from typing import Any

import pytest

from daglab.helpers import display, models

IPython = pytest.importorskip("IPython")


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Any:
    from IPython.core.interactiveshell import InteractiveShell

    instance = InteractiveShell.instance()
    monkeypatch.setattr(display, "ipython_shell", lambda: instance)
    display.install_formatters()
    yield instance
    InteractiveShell.clear_instance()


def html(shell: Any, value: object) -> str:
    data, _ = shell.display_formatter.format(value)
    return str(data.get("text/html", ""))


def test_a_validation_shows_as_html(shell: Any) -> None:
    valid = models.ValidationResult(valid=True, job="config_job", location="main", repository="r")
    assert "config_job" in html(shell, valid) and "valid" in html(shell, valid)


def test_a_run_shows_as_html_and_as_text(shell: Any) -> None:
    run = models.RunResult(run_id="8c1f0a3e-1", status="SUCCESS", url="http://d/runs/8c1f0a3e-1")
    assert "SUCCESS" in html(shell, run)
    data, _ = shell.display_formatter.format(run)
    assert "SUCCESS" in data["text/plain"] and "RunResult(" not in data["text/plain"]


@pytest.mark.parametrize(
    "model",
    ["JobInfo", "AssetInfo", "LocationInfo", "AssetHealth", "AssetCheckInfo", "InstigatorInfo",
     "DaemonInfo", "RunResult", "RunSubmitResult", "ValidationResult"],
)  # fmt: skip
def test_each_shown_model_has_its_html_formatter(shell: Any, model: str) -> None:
    formatter = shell.display_formatter.formatters["text/html"]
    assert formatter.lookup_by_type(getattr(models, model)) is not None
