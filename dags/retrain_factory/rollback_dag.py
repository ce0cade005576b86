"""``rollback_<name>``: make an earlier model version champion again and deploy it (manual only)."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, dag, task

from dags.retrain_factory.docs import ROLLBACK_TASK_DOC, rollback_doc
from dags.retrain_factory.model_asset import announce_champion_change, model_alias
from dags.retrain_factory.params import build_rollback_params
from dags.retrain_factory.runner import run_rollback
from dags.retrain_factory.task_args import infra_task_args
from include.retrain.config import PipelineConfig


def build_rollback_dag(config: PipelineConfig) -> DAG:
    """Create the rollback DAG for ``config``: one task, triggered by a person with a reason."""
    start = config.schedule.start_date

    @dag(
        dag_id=f"rollback_{config.name}",
        description=f"Roll back the {config.name} champion to an earlier version (manual only)",
        doc_md=rollback_doc(config),
        schedule=None,
        start_date=pendulum.datetime(start.year, start.month, start.day, tz=config.schedule.timezone),
        catchup=False,
        max_active_runs=1,
        tags=sorted({"retraining", "rollback", config.name, *config.tags}),
        default_args={"owner": config.owner},
        params=build_rollback_params(),
    )
    def rollback() -> None:
        @task(
            multiple_outputs=False,
            doc_md=ROLLBACK_TASK_DOC,
            outlets=[model_alias(config)],
            **infra_task_args(config.tasks),
        )
        def rollback_champion(**context: Any) -> dict:
            manifest = run_rollback(config, context)
            announce_champion_change(
                config,
                context,
                before=manifest.get("replaces_champion"),
                after=manifest.get("champion"),
                change="rolled back",
            )
            return manifest

        rollback_champion()

    return rollback()
