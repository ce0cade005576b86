"""The churn variant with a ``scoring`` section, promoted once, for the scoring tests (e2e and faults).

A champion comes from the real task bodies (``tests.step_driver``: ingest -> features -> train ->
evaluate -> promote, which also deploys it); ``score_churn`` then runs through Airflow (dag.test).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from include.retrain.layout import PREDICTIONS_ROOT
from include.retrain.registry import CHAMPION
from tests.e2e.conftest import PROJECT_ROOT
from tests.step_driver import FIRST_DAY, STRONG, StepDriver, churn_config

#: Landing days written: FIRST_DAY .. FIRST_DAY + 11 (2026-01-01 .. 2026-01-12).
LANDING_DAYS = 12
#: The champion trains on the 7 days before this window end (2026-01-02 .. 2026-01-08).
TRAIN_END_DAY = 8
#: A scoring run for this data interval end covers 2026-01-10 .. 2026-01-12 (lookback 3 days).
SCORE_END = FIRST_DAY + timedelta(days=LANDING_DAYS)
SCORED_DAYS = [SCORE_END - timedelta(days=n) for n in (3, 2, 1)]


def scoring_config(**sections: Any) -> Any:
    """churn with scoring on new data, a 3-day lookback, fast task retries and a short client retry budget."""
    defaults: dict[str, Any] = {
        "scoring": {"on_new_data": True, "lookback_days": 3, "max_partitions_per_run": 5},
        "tasks": {"retries": 1, "retry_delay_seconds": 0.1, "retry_backoff": 1.0},
        "storage": {"max_attempts": 2},
    }
    return churn_config(**{**defaults, **sections})


def use_config(config: Any, folder: Path, monkeypatch: Any) -> None:
    """Make ``config`` the only variant the DAG file reads."""
    (folder / "churn.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(folder))


@dataclass
class ScoringHarness:
    driver: StepDriver

    @property
    def config(self) -> Any:
        return self.driver.config

    @property
    def client(self) -> Any:
        return self.driver.client

    def promote_champion(self) -> str:
        self.driver.run(TRAIN_END_DAY, {"model_params": STRONG})
        champion = self.driver.registry.get_alias(CHAMPION)
        assert champion is not None
        return str(champion.version)

    def dag(self, dag_id: str | None = None) -> Any:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
        assert not bag.import_errors, bag.import_errors
        return bag.get_dag(dag_id or f"score_{self.config.name}")

    def retrain(self) -> Any:
        """``retrain_churn`` through Airflow (dag.test), every gate included, for the window ending TRAIN_END_DAY."""
        from include.retrain.local_run import run_dag

        return run_dag(self.dag(self.config.dag_id), FIRST_DAY + timedelta(days=TRAIN_END_DAY))

    def score(self, end: date = SCORE_END) -> Any:
        from include.retrain.local_run import run_dag

        return run_dag(self.dag(), end)

    def base(self) -> str:
        return f"{self.config.storage.prefix}/{self.config.name}"

    def keys(self, under: str) -> list[str]:
        prefix = f"{self.base()}/{under}"
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.config.storage.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def prediction_keys(self) -> list[str]:
        return self.keys(PREDICTIONS_ROOT + "/")

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.config.storage.bucket, Key=key)["Body"].read()

    def etag(self, key: str) -> str:
        return str(self.client.head_object(Bucket=self.config.storage.bucket, Key=key)["ETag"])

    def predictions(self, day: date) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(self.get(f"{self.base()}/predictions/ds={day.isoformat()}/part.parquet")))

    def landing(self, day: date) -> pd.DataFrame:
        dataset = self.config.dataset
        key = f"{dataset.landing_prefix}ds={day.isoformat()}/part-0.parquet"
        body = self.client.get_object(Bucket=dataset.bucket, Key=key)["Body"].read()
        return pd.read_parquet(io.BytesIO(body))

    def put_landing(self, day: date, frame: pd.DataFrame) -> None:
        dataset = self.config.dataset
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        key = f"{dataset.landing_prefix}ds={day.isoformat()}/part-0.parquet"
        self.client.put_object(Bucket=dataset.bucket, Key=key, Body=buffer.getvalue())


def scoring_harness(s3: Any, folder: Path, monkeypatch: Any, **sections: Any) -> ScoringHarness:
    """The variant on the loopback S3 with its landing days written (no champion yet)."""
    config = scoring_config(**sections)
    use_config(config, folder, monkeypatch)
    harness = ScoringHarness(StepDriver(config, s3.client()))
    harness.driver.write_landing(LANDING_DAYS)
    return harness


def tries(dag_run: Any) -> dict[str, int]:
    return {ti.task_id: ti.try_number for ti in dag_run.get_task_instances()}
