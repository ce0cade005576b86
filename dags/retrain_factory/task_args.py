"""Task arguments shared by the DAGs of a variant: how infra tasks retry and time out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
