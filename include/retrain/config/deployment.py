"""How a promoted model reaches serving (``deployment``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from include.retrain.config.base import (
    CONN_ID_RE,
    _Strict,
)


class DeploymentConfig(_Strict):
    """How a promoted model reaches serving: the pointer serving systems poll, and how it moves."""

    strategy: Literal["direct", "blue_green", "canary"] = Field(
        "direct",
        description="direct (the champion is deployed at once), blue_green (two slots, the idle one receives "
        "the model, then the pointer switches) or canary (the candidate shadows the champion first).",
    )
    canary_runs: int = Field(
        3, ge=1, le=100, description="canary: later runs in a row the challenger must win before it becomes champion."
    )
    notify_conn_id: str | None = Field(
        None,
        pattern=CONN_ID_RE,
        description="Airflow HTTP connection that receives deployed.json by POST when it changes; null = no hook.",
    )
    notify_timeout_seconds: float = Field(10.0, gt=0, le=300, description="Timeout of the HTTP hook call.")
