"""``watch_landing``: emit an Asset event per dataset when a new ``ds`` partition lands.

Only datasets of variants with ``schedule.on_new_data: true`` (retrain on new data) or
``scoring.on_new_data: true`` (score new data) are watched. Each check lists
one S3 prefix; a check that finds nothing new is skipped, so no event (and no retrain) follows.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Asset, dag, task

from dags.retrain_factory.task_args import bundle_dag_args
from include.retrain.config import DatasetConfig, PipelineConfig

#: How often the landing zone is listed; override with RETRAIN_LANDING_WATCH_SCHEDULE (cron).
WATCH_SCHEDULE = os.environ.get("RETRAIN_LANDING_WATCH_SCHEDULE", "*/15 * * * *")


def landing_asset(dataset: DatasetConfig) -> Asset:
    """The Asset standing for a dataset's landing data, ``landing/<bucket>/<prefix>/<name>``.

    Deliberately scheme-less: an ``s3://`` URI makes Airflow load the Amazon provider's URI
    normalizer (and boto3) on every parse. The S3 location is kept in the Asset's extra.
    """
    identity = f"landing/{dataset.bucket}/{dataset.landing_prefix.rstrip('/')}"
    return Asset(name=identity, uri=identity, extra={"s3_uri": dataset.landing_uri})


def _watch_task(config: PipelineConfig) -> None:
    dataset = config.dataset
    asset = landing_asset(dataset)
    task_id = "watch_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{dataset.bucket}_{dataset.landing_prefix}").strip("_")

    @task(
        multiple_outputs=False,
        task_id=task_id,
        inlets=[asset],
        outlets=[asset],
        retries=config.tasks.retries,
        retry_delay=timedelta(seconds=config.tasks.retry_delay_seconds),
        retry_exponential_backoff=config.tasks.retry_backoff,
        execution_timeout=timedelta(minutes=5),
        doc_md=f"Lists `{dataset.landing_uri}` and emits an event on Asset `{asset.name}` when a `ds=` partition "
        "newer than the last announced one has landed; skipped otherwise.",
    )
    def watch(**context: Any) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from dags.retrain_factory.runner import s3_client
        from include.retrain.landing_watch import check_for_new_partition, last_announced

        latest = context["inlet_events"][asset].ascending(False).limit(1)
        last_seen = last_announced(latest[0].extra) if len(latest) else None
        client = s3_client(config.storage)
        update = check_for_new_partition(client, dataset, last_seen)
        if update is None:
            raise AirflowSkipException(f"no partition newer than {last_seen} in {dataset.landing_uri}")
        context["outlet_events"][asset].extra = update.event_extra()
        summary = f"new partition {update.newest_partition} in {dataset.landing_uri} (before: {last_seen})"
        return {"summary": summary, **update.event_extra()}

    watch()


def build_landing_watch_dag(configs: list[PipelineConfig]) -> DAG | None:
    """One watcher task per distinct landing location of the data-aware variants (None if none)."""
    watched: dict[str, PipelineConfig] = {}
    for config in configs:
        if config.schedule.on_new_data or (config.scoring is not None and config.scoring.on_new_data):
            watched.setdefault(config.dataset.landing_uri, config)
    if not watched:
        return None

    @dag(
        dag_id="watch_landing",
        description="Emit Asset events when new landing partitions arrive",
        doc_md="# Watch landing data\n\nEvery check lists one landing prefix and emits an Asset event when a "
        "newer `ds=YYYY-MM-DD` partition has landed; variants with `schedule.on_new_data: true` retrain on it and "
        "those with `scoring.on_new_data: true` score it. "
        f"Schedule: `{WATCH_SCHEDULE}` (env `RETRAIN_LANDING_WATCH_SCHEDULE`).\n\nWatched: "
        + ", ".join(f"`{uri}`" for uri in watched),
        tags=["retraining", "landing-watch"],
        schedule=WATCH_SCHEDULE,
        **bundle_dag_args(),
    )
    def watch_landing() -> None:
        for config in watched.values():
            _watch_task(config)

    return watch_landing()
