"""Params for manual triggers, validated by JSON schema before a run is created."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from include.retrain.config import PipelineConfig
from include.retrain.runs import MAX_WINDOW_DAYS

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def _param_schema(default: Any) -> dict[str, Any]:
    if default is None:
        return {}
    json_type = _JSON_TYPES[type(default)]
    return {"type": ["number"] if json_type == "number" else [json_type]}


def build_params(config: PipelineConfig) -> dict[str, Param]:
    """The trigger form: window, dry run, forced promotion, sampling, model overrides."""
    overridable = {name: _param_schema(value) for name, value in config.model.params.items()}
    return {
        "window_end": Param(
            None,
            type=["null", "string"],
            format="date",
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            title="Window end",
            description="Train on the partitions before this date (YYYY-MM-DD). Empty: the run's data interval end.",
        ),
        "window_days": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=MAX_WINDOW_DAYS,
            title="Window length (days)",
            description=f"How many daily partitions to train on. Empty: the config's {config.window.days}.",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Train, validate and evaluate, but register nothing and never move the champion.",
        ),
        "force_promote": Param(
            False,
            type="boolean",
            title="Force promotion",
            description="Promote the new model even if the policy would not (gates still apply). Needs a reason.",
        ),
        "reason": Param(
            "",
            type="string",
            maxLength=500,
            title="Reason",
            description="Why this run was triggered; required with force promotion and recorded in the registry.",
        ),
        "sample_fraction": Param(
            1.0,
            type="number",
            exclusiveMinimum=0,
            maximum=1,
            title="Sample fraction",
            description="Train on this share of the window's rows (deterministic sample). 1 = all rows.",
        ),
        "model_params": Param(
            {},
            type="object",
            properties=overridable,
            additionalProperties=False,
            title="Model parameter overrides",
            description=f"Override estimator parameters the config declares: {sorted(overridable) or 'none'}.",
        ),
    }


def build_rollback_params() -> dict[str, Param]:
    """The rollback form: which version, and why (required, recorded in the registry)."""
    return {
        "to_version": Param(
            "",
            type="string",
            maxLength=100,
            pattern=r"^(|v\d{8}-[0-9a-f]{10})$",
            title="Roll back to version",
            description="A registered version id (v<YYYYMMDD>-<hash>). Empty: the champion's previous version.",
        ),
        "reason": Param(
            "",
            type="string",
            minLength=1,
            maxLength=500,
            title="Reason",
            description="Why you roll back (an incident, a ticket); required and recorded in the registry.",
        ),
    }
