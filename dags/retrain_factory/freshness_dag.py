"""``check_model_freshness``: alert when a variant has had no successful retrain for too long.

One task per variant with ``monitoring.max_model_age_hours``. It reads the variant's registry:
the newest ``registered`` event is its last successful retrain. Older than the limit (or none at
all), the task fails without retrying, which shows the stale variant in red in the grid and sends
a ``stale_model`` notification. An Airflow DeadlineAlert does not fit this check: it belongs to
one DAG run, so it never fires when no run is created (a paused DAG, data that stopped landing),
and a failed run's deadline still fires after a later run succeeded.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, dag, task

from dags.retrain_factory.notifications import notifier_callbacks
from dags.retrain_factory.runner import run_freshness_check
from dags.retrain_factory.task_args import bundle_dag_args, infra_task_args
from include.retrain.config import PipelineConfig

#: How often the registries are checked; override with RETRAIN_FRESHNESS_SCHEDULE (cron).
FRESHNESS_SCHEDULE = os.environ.get("RETRAIN_FRESHNESS_SCHEDULE", "15 * * * *")


def _check_task(config: PipelineConfig) -> None:
    limit = config.monitoring.max_model_age_hours
    args = {**infra_task_args(config.tasks), "execution_timeout": timedelta(minutes=5)}

    @task(
        multiple_outputs=False,
        task_id=f"check_{config.name}",
        on_failure_callback=notifier_callbacks(config, "stale_model"),
        doc_md=f"Fails (and alerts) when `{config.name}` has registered no new version for more than {limit:g} "
        f"hours. Reads `s3://{config.storage.bucket}/{config.storage.prefix}/{config.name}/registry/events/`.",
        **args,
    )
    def check(**context: Any) -> dict:
        return run_freshness_check(config, context)

    check()


def build_freshness_dag(configs: list[PipelineConfig]) -> DAG | None:
    """The freshness check of every variant with ``monitoring.max_model_age_hours`` (None if none has one)."""
    watched = [config for config in configs if config.monitoring.max_model_age_hours is not None]
    if not watched:
        return None

    @dag(
        dag_id="check_model_freshness",
        description="Alert when a variant has had no successful retrain within its expected interval",
        doc_md="# Model freshness\n\nEach task reads one variant's registry and fails, without retrying, when its "
        "newest registered version is older than `monitoring.max_model_age_hours` (or there is none); the "
        "variant's notifications then send a `stale_model` message. "
        f"Schedule: `{FRESHNESS_SCHEDULE}` (env `RETRAIN_FRESHNESS_SCHEDULE`).\n\nChecked: "
        + ", ".join(f"`{c.name}` ({c.monitoring.max_model_age_hours:g} h)" for c in watched),
        tags=["retraining", "monitoring"],
        schedule=FRESHNESS_SCHEDULE,
        **bundle_dag_args(),
    )
    def check_model_freshness() -> None:
        for config in watched:
            _check_task(config)

    return check_model_freshness()
