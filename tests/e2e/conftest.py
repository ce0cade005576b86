"""Helpers for end-to-end runs: landing data on the loopback S3, DAG runs through dag.test()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dev.synthetic import generator_for
from dev.synthetic.landing import delete_prefix, landed_bytes, partition_key
from include.retrain.config import PipelineConfig, load_pipeline, pipelines_dir
from include.retrain.registry import ModelRegistry
from include.retrain.storage import ArtifactStore

FIRST_DAY = date(2026, 1, 1)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PipelineHarness:
    """One variant wired to the loopback S3: write landing days, run its DAG, inspect results."""

    config: PipelineConfig
    client: Any

    def write_days(
        self,
        first_day: date,
        days: int,
        rows_per_day: int = 300,
        alter: Callable[[pd.DataFrame, date], pd.DataFrame] | None = None,
    ) -> None:
        generator = generator_for(self.config)
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            frame = generator(day, rows_per_day)
            if alter is not None:
                frame = alter(frame, day)
            body = landed_bytes(frame, self.config.dataset)
            self.client.put_object(
                Bucket=self.config.dataset.bucket, Key=partition_key(self.config.dataset, day), Body=body
            )

    def delete_prefix(self, bucket: str, prefix: str) -> None:
        """Delete every object under ``prefix`` (landing days, a run folder, ...)."""
        delete_prefix(self.client, bucket, prefix)

    def clear_landing(self) -> None:
        self.delete_prefix(self.config.dataset.bucket, self.config.dataset.landing_prefix)

    @property
    def store(self) -> ArtifactStore:
        return ArtifactStore(self.client, self.config.storage.bucket, self.config.storage.prefix)

    @property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.store, self.config.name)

    def dag(self) -> Any:
        """``retrain_<name>`` as the DAG folder defines it."""
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
        assert not bag.import_errors, bag.import_errors
        return bag.get_dag(self.config.dag_id)

    def task_order(self) -> list[str]:
        """The DAG's task ids in the order they run."""
        return [task.task_id for task in self.dag().topological_sort()]

    def run(self, window_end: date, conf: dict[str, Any] | None = None, dag: Any = None) -> Any:
        """Run ``retrain_<name>`` (or ``dag``) with dag.test() for the interval ending ``window_end``.

        Each run starts from its own ``conf`` only, also on a DAG object that ran before
        (``demo.run_dag``: Airflow 3.3's dag.test() leaves a run's conf in the DAG's Params).
        """
        from include.retrain.local_run import run_dag

        return run_dag(dag if dag is not None else self.dag(), window_end, conf)

    def run_folder(self, run_key: str) -> str:
        return self.store.key(self.config.name, "runs", run_key)


def task_states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state).split(".")[-1].lower() for ti in dag_run.get_task_instances()}


def assert_failed_once_at_ingest(dag_run: Any) -> None:
    """A data failure at the first task: ingest failed on its first try, nothing downstream ran."""
    states = task_states(dag_run)
    assert states["ingest"] == "failed", states
    assert {state for task, state in states.items() if task != "ingest"} == {"upstream_failed"}, states
    (ingest,) = [ti for ti in dag_run.get_task_instances() if ti.task_id == "ingest"]
    assert ingest.try_number == 1  # a data failure: not retried


@pytest.fixture
def churn(s3, aws_connection, airflow_db) -> PipelineHarness:
    return PipelineHarness(load_pipeline(pipelines_dir() / "churn.yaml"), s3.client())


@pytest.fixture
def harness_for(s3, aws_connection, airflow_db) -> Callable[[str], PipelineHarness]:
    """A harness for any variant in the current pipelines folder (RETRAIN_PIPELINES_DIR aware)."""

    def make(name: str) -> PipelineHarness:
        return PipelineHarness(load_pipeline(pipelines_dir() / f"{name}.yaml"), s3.client())

    return make
