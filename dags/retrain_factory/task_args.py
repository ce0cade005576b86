"""Arguments shared by the bundle's DAGs: how infra tasks retry and time out, how bundle-wide DAGs run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum

from include.retrain.config import TasksConfig


def infra_task_args(limits: TasksConfig) -> dict[str, Any]:
    """Retries with exponential backoff and a timeout: for tasks that can hit network or storage faults."""
    return {
        "retries": limits.retries,
        "retry_delay": timedelta(seconds=limits.retry_delay_seconds),
        "retry_exponential_backoff": limits.retry_backoff,
        "max_retry_delay": timedelta(seconds=limits.max_retry_delay_seconds),
        "execution_timeout": timedelta(minutes=limits.execution_timeout_minutes),
    }


def bundle_dag_args() -> dict[str, Any]:
    """``@dag`` arguments of the DAGs that serve every variant (watch_landing, check_model_freshness)."""
    return {
        "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
        "catchup": False,
        "max_active_runs": 1,
        "default_args": {"owner": "ml-platform"},
    }
