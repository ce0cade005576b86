"""Who hears about what (``notifications``) and when a model counts as stale (``monitoring``).

Both sections are about alerting only: they never change what a run produces (see
``PipelineConfig.config_hash``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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


class MonitoringConfig(_Strict):
    """What ops expect of a variant: how old its newest model may get before someone is told."""

    max_model_age_hours: float | None = Field(
        None,
        gt=0,
        description="check_model_freshness fails and alerts when the last successful retrain (the newest registered "
        "version) is older than this; null = not checked.",
    )
