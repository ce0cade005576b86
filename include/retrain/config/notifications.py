"""Who hears about what (``notifications``) and when a model counts as stale (``monitoring``).

Both sections are about alerting only: they never change what a run produces (see
``PipelineConfig.config_hash``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from include.retrain.config.base import (
    CONN_ID_RE,
    _Strict,
)

NotificationEvent = Literal["failure", "promotion", "stale_model"]


class NotificationsConfig(_Strict):
    """Who hears about failed runs, new champions and stale models: one JSON message per event.

    The list of events is ``events``, not ``on``: YAML 1.1 (PyYAML) reads a bare ``on`` key as
    the boolean true.
    """

    webhook_conn_id: str | None = Field(
        None,
        pattern=CONN_ID_RE,
        description="Airflow HTTP connection that receives each message as JSON by POST (Slack-compatible `text` "
        "field included); null = no notifications.",
    )
    events: tuple[NotificationEvent, ...] = Field(
        ("failure", "promotion", "stale_model"),
        description="Which events send a message: failure (a run failed: task, reason, report link), promotion "
        "(a new champion), stale_model (no successful retrain within monitoring.max_model_age_hours).",
    )
    timeout_seconds: float = Field(10.0, gt=0, le=300, description="Timeout of each POST.")


class RetrainWhenConfig(_Strict):
    """When score_<name> asks for a retrain: the serving model decayed on late labels, or its inputs drifted."""

    live_metric_below: float | None = Field(
        None,
        description="Request a retrain when the deployed version's live promotion metric (registry/live/) is worse "
        "than this (below it; above it for a minimized metric) on each of the for_days newest measured days. "
        "Needs scoring.label_delay_days; null = not checked.",
    )
    serving_psi_above: float | None = Field(
        None,
        gt=0,
        description="Request a retrain when the largest per-feature PSI of the days the deployed version scored is "
        "above this on each of the for_days newest scored days; null = not checked.",
    )
    for_days: int = Field(3, ge=1, le=366, description="How many newest days in a row must meet a condition.")

    @model_validator(mode="after")
    def _some_condition(self) -> RetrainWhenConfig:
        if self.live_metric_below is None and self.serving_psi_above is None:
            raise ValueError("retrain_when needs live_metric_below and/or serving_psi_above")
        return self


class MonitoringConfig(_Strict):
    """What ops expect of a variant: how old its newest model may get before someone is told."""

    max_model_age_hours: float | None = Field(
        None,
        gt=0,
        description="check_model_freshness fails and alerts when the last successful retrain (the newest registered "
        "version) is older than this; null = not checked.",
    )
    retrain_when: RetrainWhenConfig | None = Field(
        None,
        description="score_<name> requests a retrain (the Asset retrain-request/<name>, which retrain_<name> is then "
        "also scheduled on) when a condition holds; the retrain follows the normal gates. Needs scoring; null = never.",
    )
