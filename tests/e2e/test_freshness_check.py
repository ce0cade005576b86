"""check_model_freshness through Airflow (dag.test): a stale variant fails its check and alerts.

The registry's ``registered`` events are the evidence of successful retrains; one is written
as if it happened two days ago, and the stale_model message reaches a real HTTP receiver.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.retrain.registry import ModelRegistry
from include.retrain.storage import ArtifactStore
from tests.e2e.conftest import PROJECT_ROOT, task_states
from tests.step_driver import churn_config
from tests.unit.monitoring.test_freshness import registered_at

pytestmark = pytest.mark.e2e


@pytest.fixture
def registry(s3: Any, aws_connection: str, airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """churn expected to retrain every 30 hours, alerting through the deploy_hook connection."""
    config = churn_config(notifications={"webhook_conn_id": "deploy_hook"}, monitoring={"max_model_age_hours": 30})
    (tmp_path / "churn.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    return ModelRegistry(ArtifactStore(s3.client(), "retrain-artifacts", "retraining"), "churn")


def run_check() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag("check_model_freshness").test()


def test_a_stale_variant_fails_its_check_and_alerts(registry: ModelRegistry, hook_receiver: Any) -> None:
    registered_at(registry, datetime.now(UTC) - timedelta(hours=48), "v20260101-aaaaaaaaaa")

    dag_run = run_check()

    assert task_states(dag_run) == {"check_churn": "failed"}
    [message] = [json.loads(request["body"]) for request in hook_receiver.requests]
    assert (message["event"], message["variant"], message["dag_id"], message["task_id"]) == (
        "stale_model",
        "churn",
        "check_model_freshness",
        "check_churn",
    )
    assert message["reason"].startswith("STALE: churn: last successful retrain 48.0 h ago")
    assert "version v20260101-aaaaaaaaaa; limit 30 h" in message["reason"]
    assert message["link"].endswith("/registry/#variant-churn")


def test_a_fresh_variant_passes_quietly(registry: ModelRegistry, hook_receiver: Any) -> None:
    registered_at(registry, datetime.now(UTC) - timedelta(hours=2), "v20260101-aaaaaaaaaa")

    dag_run = run_check()

    assert task_states(dag_run) == {"check_churn": "success"}
    assert hook_receiver.requests == []
    [ti] = dag_run.get_task_instances()
    assert ti.xcom_pull(task_ids="check_churn")["summary"].startswith("churn: last successful retrain 2.0 h ago")
