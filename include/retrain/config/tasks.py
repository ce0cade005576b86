"""Airflow task defaults of a variant (``tasks``): retries, timeouts, pool, threads."""

from __future__ import annotations

from pydantic import Field

from include.retrain.config.base import (
    _Strict,
)


class TasksConfig(_Strict):
    """Airflow task defaults: retries after infra faults (every task, gates included), timeouts, pool."""

    retries: int = Field(
        3, ge=0, le=20, description="Retries of every task after an infra fault (gates included); data failures never."
    )
    retry_delay_seconds: float = Field(30.0, gt=0, description="First retry delay.")
    retry_backoff: float = Field(2.0, ge=1.0, le=10.0, description="Multiplier of the delay per retry.")
    max_retry_delay_seconds: float = Field(600.0, gt=0, description="Cap on the retry delay.")
    execution_timeout_minutes: float = Field(60.0, gt=0, description="Timeout of each task but train.")
    train_timeout_minutes: float = Field(240.0, gt=0, description="Timeout of the train task.")
    pool: str = Field("training", min_length=1, description="Airflow pool of the train task.")
    threads: int | None = Field(
        1,
        ge=1,
        le=1024,
        description="Native threads (OpenMP, BLAS) each task may use; size it to the cores a task really gets. "
        "null = the libraries' default, one per core (oversubscribes a shared worker).",
    )
