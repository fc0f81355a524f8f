"""What a notebook is generated from, and why it cannot be."""

from __future__ import annotations

from dataclasses import dataclass


class NotebookError(ValueError):
    """A notebook cannot be generated as asked (unknown template, missing option, ...)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class NotebookOptions:
    """What ``daglab notebook create`` was told; ``None`` means not given."""

    job: str | None = None
    asset_pattern: str | None = None
    select: str | None = None
    profile: str | None = None
    # The file the notebook is written to (names its state file when run headless).
    file_name: str = "notebook.ipynb"

    def given(self) -> dict[str, str]:
        return {
            name: value
            for name, value in (
                ("job", self.job),
                ("asset_pattern", self.asset_pattern),
                ("select", self.select),
                ("profile", self.profile),
            )
            if value is not None
        }
