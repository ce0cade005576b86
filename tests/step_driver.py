"""Run a variant's task bodies directly, without Airflow or the GX gates: fast promotion scenarios.

Everything real but the scheduler: landing data on the loopback S3, the stage functions, sklearn
models, skops files and the registry. Each "run" is ingest -> build_features -> train -> evaluate
-> promote, exactly the task bodies the DAG calls, for one window end and one set of Params. Their
manifests pass between the bodies as they pass through XCom (``to_xcom`` / ``from_xcom``), so a
test sees what the DAG's tasks return.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import yaml

from dev.synthetic import GENERATORS
from dev.synthetic.landing import write_days
from include.retrain import manifests
from include.retrain.config import DEFAULT_PIPELINES_DIR, PipelineConfig
from include.retrain.context import RunContext
from include.retrain.registry import ModelRegistry
from include.retrain.tasks.evaluate import evaluate
from include.retrain.tasks.features import build_features
from include.retrain.tasks.ingest import ingest
from include.retrain.tasks.promote import promote
from include.retrain.tasks.train import train
from include.retrain.threads import cpu_budget

FIRST_DAY = date(2026, 1, 1)
#: Model params that give clearly ranked models on the churn data (checked by the tests that use them).
STUMP = {"max_iter": 1, "max_leaf_nodes": 2}
MEDIUM = {"max_iter": 4, "max_leaf_nodes": 4}
STRONG = {"max_iter": 60, "max_leaf_nodes": 15}


def churn_config(**sections: Any) -> PipelineConfig:
    """The shipped churn variant with a short window, no threshold, and ``sections`` merged in."""
    raw = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    raw["window"] = {"days": 7}
    raw["promotion"] = {"metric": "roc_auc", "threshold": None, "min_improvement": 0.0}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return PipelineConfig.model_validate(raw)


@dataclass
class StepDriver:
    """A variant on the loopback S3, run task body by task body."""

    config: PipelineConfig
    client: Any
    get_connection: Callable[[str], Any] | None = None

    def write_landing(self, days: int, rows_per_day: int = 400) -> None:
        generator = GENERATORS[self.config.dataset.name]
        write_days(
            self.client, self.config.dataset, generator, first_day=FIRST_DAY, days=days, rows_per_day=rows_per_day
        )

    @property
    def registry(self) -> ModelRegistry:
        return self.context(FIRST_DAY).registry

    def context(self, window_end: date, params: dict[str, Any] | None = None) -> RunContext:
        params = params or {}
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:6]
        return RunContext.create(
            self.config,
            params=params,
            data_interval_end=window_end,
            run_id=f"test__{window_end.isoformat()}_{digest}",
            triggered_by="test",
            client=self.client,
            get_connection=self.get_connection,
        )

    def evaluate(self, day: int, params: dict[str, Any] | None = None) -> tuple[RunContext, dict[str, dict]]:
        """Run everything up to evaluate for the window ending ``day`` days after FIRST_DAY."""
        run = self.context(FIRST_DAY + timedelta(days=day), params)
        with cpu_budget(self.config.tasks.threads):  # as the DAG's tasks run (run_step)
            ingested = ingest(run)
            features = build_features(run, ingested)
            trained = train(run, features)
            evaluated = evaluate(run, features, trained)
        typed = {"ingested": ingested, "features": features, "trained": trained, "evaluated": evaluated}
        return run, {name: manifest.to_xcom() for name, manifest in typed.items()}

    @staticmethod
    def promote(run: RunContext, xcoms: dict[str, dict]) -> dict[str, Any]:
        return promote(
            run,
            manifests.IngestManifest.from_xcom(xcoms["ingested"]),
            manifests.FeaturesManifest.from_xcom(xcoms["features"]),
            manifests.TrainManifest.from_xcom(xcoms["trained"]),
            manifests.EvaluateManifest.from_xcom(xcoms["evaluated"]),
            [],
        ).to_xcom()

    def run(self, day: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """One whole run (gates skipped); returns the promote manifest with the evaluate manifest."""
        run, xcoms = self.evaluate(day, params)
        return {**self.promote(run, xcoms), "evaluated": xcoms["evaluated"]}
