"""Run config as Dagster checks it: parsing ``runConfigData``, the problems it reports, and
the defaults it shows (``RunConfigSchema.rootDefaultYaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from daglab.harness.mock.definitions import JobDef


@dataclass(frozen=True)
class ConfigProblem:
    """One run-config error, shaped like Dagster's PipelineConfigValidationError."""

    kind: str  # MissingFieldConfigError | RuntimeMismatchConfigError | FieldNotDefinedConfigError
    reason: str  # EvaluationErrorReason
    message: str
    path: tuple[str, ...]
    field_name: str | None = None
    value_rep: str | None = None


_TOP_LEVEL_KEYS = ("ops", "execution", "loggers", "resources")
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "Int": (int,),
    "Float": (int, float),
    "String": (str,),
    "Bool": (bool,),
}


def _type_ok(type_name: str, value: Any) -> bool:
    if type_name in ("Int", "Float") and isinstance(value, bool):
        return False
    return isinstance(value, _PY_TYPES.get(type_name, (object,)))


def parse_run_config(data: Any) -> Any:
    """``runConfigData`` may be an object or a YAML string (both accepted by Dagster)."""
    if data is None:
        return {}
    if isinstance(data, str):
        loaded = yaml.safe_load(data) if data.strip() else {}
        return {} if loaded is None else loaded
    return data


def validate_run_config(job: JobDef, run_config: Any) -> list[ConfigProblem]:
    """The problems Dagster would report for ``run_config`` on ``job`` (a useful subset)."""
    problems: list[ConfigProblem] = []
    if not isinstance(run_config, dict):
        return [
            ConfigProblem(
                "RuntimeMismatchConfigError",
                "RUNTIME_TYPE_MISMATCH",
                f'Invalid scalar at path root. Value "{run_config!r}" is not a dict.',
                (),
                value_rep=repr(run_config),
            )
        ]
    for key in run_config:
        if key not in _TOP_LEVEL_KEYS:
            problems.append(
                ConfigProblem(
                    "FieldNotDefinedConfigError",
                    "FIELD_NOT_DEFINED",
                    f'Received unexpected config entry "{key}" at the root.',
                    (),
                    field_name=str(key),
                )
            )
    ops = run_config.get("ops") or {}
    if not isinstance(ops, dict):
        ops = {}
    for op_name in ops:
        if op_name not in job.op_names and op_name not in job.config:
            problems.append(
                ConfigProblem(
                    "FieldNotDefinedConfigError",
                    "FIELD_NOT_DEFINED",
                    f'Received unexpected config entry "{op_name}" at path root:ops.',
                    ("ops",),
                    field_name=str(op_name),
                )
            )
    for op_name, fields in job.config.items():
        op_entry = ops.get(op_name) or {}
        given = op_entry.get("config") if isinstance(op_entry, dict) else None
        given = given if isinstance(given, dict) else {}
        path = ("ops", op_name, "config")
        where = "root:" + ":".join(path)
        known = {f.name for f in fields}
        for f in fields:
            if f.name not in given:
                if f.required:
                    problems.append(
                        ConfigProblem(
                            "MissingFieldConfigError",
                            "MISSING_REQUIRED_FIELD",
                            f'Missing required config entry "{f.name}" at path {where}. '
                            f"Sample config for missing entry: {{'{f.name}': 0}}",
                            path,
                            field_name=f.name,
                        )
                    )
                continue
            value = given[f.name]
            if not _type_ok(f.type, value):
                problems.append(
                    ConfigProblem(
                        "RuntimeMismatchConfigError",
                        "RUNTIME_TYPE_MISMATCH",
                        f'Invalid scalar at path {where}:{f.name}. Value "{value}" of type '
                        f'"{type(value)}" is not valid for expected type "{f.type}".',
                        (*path, f.name),
                        value_rep=repr(value),
                    )
                )
        for name in given:
            if name not in known:
                problems.append(
                    ConfigProblem(
                        "FieldNotDefinedConfigError",
                        "FIELD_NOT_DEFINED",
                        f'Received unexpected config entry "{name}" at path {where}.',
                        path,
                        field_name=str(name),
                    )
                )
    return problems


def default_config_yaml(job: JobDef) -> str:
    """``RunConfigSchema.rootDefaultYaml``: the defaults of every op's config."""
    ops: dict[str, Any] = {}
    for op_name, fields in job.config.items():
        defaults = {f.name: f.default for f in fields if not f.required}
        if defaults:
            ops[op_name] = {"config": defaults}
    return yaml.safe_dump({"ops": ops}, sort_keys=True) if ops else "{}\n"
