"""``daglab schedules list|show|start|stop``."""

from __future__ import annotations

from daglab.commands._instigators import build

app = build("schedule")
