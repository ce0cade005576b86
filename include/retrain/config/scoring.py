"""Batch scoring with the deployed model (``scoring``): the DAG ``score_<name>`` and its limits.

A variant with this section gets a DAG that scores new landing partitions with the model
``registry/deployed.json`` names and writes ``predictions/ds=<date>/`` under the variant's
storage prefix (``docs/concepts/scoring.md``). Light like the rest of the package: pydantic only.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from include.retrain.config.base import _Strict
from include.retrain.config.schedule import CRON_PRESETS


class ScoringConfig(_Strict):
    """When ``score_<name>`` runs and how much it scores per run."""

    cron: str | None = Field(
        None,
        description="Cron expression or preset of score_<name> (in schedule.timezone); null = no time schedule.",
    )
    on_new_data: bool = Field(
        True,
        description="Run when watch_landing announces a new ds partition of the dataset (the landing Asset event).",
    )
    lookback_days: int = Field(
        7,
        ge=1,
        le=366,
        description="Partitions considered by a run: the ds days in the lookback_days before the run's data "
        "interval end (for a landing event, the day after the newest partition). Older unscored days are left alone.",
    )
    max_partitions_per_run: int = Field(
        7,
        ge=1,
        le=366,
        description="At most this many unscored partitions per run, oldest first; the next run takes the rest.",
    )
    shadow: bool = Field(
        True,
        description="With deployment.strategy canary: also score the challenger, into challenger_* columns of the "
        "same predictions file (never served).",
    )
    label_delay_days: int | None = Field(
        None,
        ge=0,
        le=366,
        description="Labels of landing day D land by D + label_delay_days in the same landing table; then "
        "measure_live joins that day's predictions with them (by id) and records the live promotion metric. "
        "null = no live monitoring.",
    )

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None or value in CRON_PRESETS:
            return value
        from croniter import croniter  # light; Airflow itself depends on it

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid cron expression")
        return value

    @model_validator(mode="after")
    def _scheduled(self) -> ScoringConfig:
        if self.cron is None and not self.on_new_data:
            raise ValueError("scoring needs cron or on_new_data: true, or score_<name> would never run")
        return self
