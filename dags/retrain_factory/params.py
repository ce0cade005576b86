"""Params for manual triggers, validated by JSON schema before a run is created."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from include.retrain.config import PipelineConfig
from include.retrain.runs import MAX_WINDOW_DAYS, WINDOW_END_PATTERN, WINDOW_END_RANGE

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}

#: The JSON Schema draft every Param names. Airflow checks a Param's value with ``jsonschema.validate``,
#: which first checks the schema against its draft's meta-schema, at every parse of every DAG; without
#: ``$schema`` that is the 2020-12 meta-schema, about 2.5x costlier to check than draft-07's. These
#: Params use only keywords that mean the same in both drafts (type, format, pattern, bounds, lengths,
#: properties).
DRAFT_07 = "http://json-schema.org/draft-07/schema#"


def _param(default: Any, **schema: Any) -> Param:
    """An Airflow Param whose schema names draft-07 (see ``DRAFT_07``)."""
    schema["$schema"] = DRAFT_07
    return Param(default, **schema)


def _param_schema(default: Any) -> dict[str, Any]:
    if default is None:
        return {}
    json_type = _JSON_TYPES[type(default)]
    return {"type": ["number"] if json_type == "number" else [json_type]}


def build_params(config: PipelineConfig) -> dict[str, Param]:
    """The trigger form: window, dry run, forced promotion, accepted drift, sampling, model overrides.

    Every Param is optional, so every type includes ``"null"``: Airflow's trigger form marks a
    Param whose type does not allow null as required and keeps Trigger disabled while it is empty
    (and a cleared field is sent as null). A null value means "as the config says". ``reason``
    is needed only with ``force_promote`` or ``accept_drift``, a rule across two Params that the run's first task
    checks (``RunOptions.from_params``), since JSON schema validates one Param at a time.
    """
    overridable = {name: _param_schema(value) for name, value in config.model.params.items()}
    return {
        "window_end": _param(
            None,
            type=["null", "string"],
            format="date",
            pattern=WINDOW_END_PATTERN,
            title="Window end",
            description=(
                "Train on the partitions before this date (YYYY-MM-DD, "
                f"{WINDOW_END_RANGE[0].isoformat()} to {WINDOW_END_RANGE[1].isoformat()}). "
                "Empty: the run's data interval end."
            ),
        ),
        "window_days": _param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=MAX_WINDOW_DAYS,
            title="Window length (days)",
            description=f"How many daily partitions to train on. Empty: the config's {config.window.days}.",
        ),
        "dry_run": _param(
            False,
            type=["null", "boolean"],
            title="Dry run",
            description="Train, validate and evaluate, but register nothing and never move the champion.",
        ),
        "force_promote": _param(
            False,
            type=["null", "boolean"],
            title="Force promotion",
            description="Promote the new model even if the policy would not (gates still apply). Needs a reason.",
        ),
        "accept_drift": _param(
            False,
            type=["null", "boolean"],
            title="Accept drift",
            description="Let this run go on past a drift verdict of check_drift (features or label): the drift is "
            "recorded as a warning, the report is marked accepted and the registry records a drift_accepted event. "
            "Other gates still apply. Needs a reason.",
        ),
        "reason": _param(
            None,
            type=["null", "string"],
            maxLength=500,
            title="Reason",
            description=(
                "Why this run was triggered, recorded in the registry. Optional, but required with force "
                "promotion or accepted drift: such a run without one fails at its first task."
            ),
        ),
        "sample_fraction": _param(
            1.0,
            type=["null", "number"],
            exclusiveMinimum=0,
            maximum=1,
            title="Sample fraction",
            description="Train on this share of the window's rows (deterministic sample). 1 or empty = all rows.",
        ),
        "model_params": _param(
            {},
            type=["null", "object"],
            properties=overridable,
            additionalProperties=False,
            title="Model parameter overrides",
            description=f"Override estimator parameters the config declares: {sorted(overridable) or 'none'}.",
        ),
    }


def build_rollback_params() -> dict[str, Param]:
    """The rollback form: which version, which champion it replaces, and why (required, recorded).

    Only ``reason`` is required: ``to_version`` and ``expected_champion`` are nullable with a
    None default, so the form can be submitted with a reason alone.
    """
    version_pattern = r"^(|v\d{8}-[0-9a-f]{10})$"
    return {
        "to_version": _param(
            None,
            type=["null", "string"],
            maxLength=100,
            pattern=version_pattern,
            title="Roll back to version",
            description="A registered version id (v<YYYYMMDD>-<hash>). Empty: the champion's previous version.",
        ),
        "expected_champion": _param(
            None,
            type=["null", "string"],
            maxLength=100,
            pattern=version_pattern,
            title="Champion to replace",
            description="The version this rollback replaces; refused if it is no longer champion. Empty: the "
            "champion when this run was requested (an empty to_version is then refused if the champion "
            "changed since). The run's summary names the champion it replaced.",
        ),
        "reason": _param(
            "",
            type="string",
            minLength=1,
            maxLength=500,
            title="Reason",
            description="Why you roll back (an incident, a ticket); required and recorded in the registry.",
        ),
    }
