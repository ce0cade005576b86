"""Schedules: cron, the landing Asset, or both; and the window end of an asset-triggered run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from dags.retrain_factory.landing_watch import build_landing_watch_dag, landing_asset
from dags.retrain_factory.retrain_dag import dag_schedule
from dags.retrain_factory.runner import window_end_from_assets
from include.retrain.config import DEFAULT_PIPELINES_DIR, load_pipeline


@pytest.fixture(scope="module")
def churn():
    return load_pipeline(DEFAULT_PIPELINES_DIR / "churn.yaml")


def test_cron_only_variant_uses_its_cron(churn) -> None:
    assert dag_schedule(churn) == "0 3 * * *"


def test_data_aware_variant_waits_for_its_landing_asset(churn) -> None:
    from airflow.sdk import Asset, AssetOrTimeSchedule

    asset_only = churn.model_copy(
        update={"schedule": churn.schedule.model_copy(update={"cron": None, "on_new_data": True})}
    )
    both = churn.model_copy(update={"schedule": churn.schedule.model_copy(update={"on_new_data": True})})

    assert dag_schedule(asset_only) == landing_asset(churn.dataset)
    assert isinstance(dag_schedule(asset_only), Asset)
    combined = dag_schedule(both)
    assert isinstance(combined, AssetOrTimeSchedule)
    assert combined.timetable.expression == "0 3 * * *"


def test_landing_asset_names_the_landing_location_without_an_s3_scheme(churn) -> None:
    asset = landing_asset(churn.dataset)
    assert asset.name == "landing/retrain-landing/churn"
    assert asset.extra == {"s3_uri": "s3://retrain-landing/churn/"}


def test_watch_dag_watches_each_data_aware_location_once(churn) -> None:
    data_aware = churn.model_copy(update={"schedule": churn.schedule.model_copy(update={"on_new_data": True})})
    twin = data_aware.model_copy(update={"name": "churn_twin"})

    assert build_landing_watch_dag([churn]) is None
    dag = build_landing_watch_dag([data_aware, twin])
    assert [task.task_id for task in dag.tasks] == ["watch_retrain_landing_churn"]
    assert dag.get_task("watch_retrain_landing_churn").retries >= 2


@dataclass
class Event:
    """Stands in for Airflow's triggering-event record: only ``extra`` is read."""

    extra: dict[str, Any]


def test_asset_triggered_run_trains_up_to_the_newest_announced_partition() -> None:
    context = {
        "triggering_asset_events": {
            "landing/a": [Event({"newest_partition": "2026-02-01"}), Event({"newest_partition": "2026-02-03"})],
            "other": [Event({"unrelated": 1})],
        }
    }
    assert window_end_from_assets(context) == date(2026, 2, 4)
    assert window_end_from_assets({}) is None
    assert window_end_from_assets({"triggering_asset_events": {"x": [Event({})]}}) is None


def test_retrain_when_adds_the_retrain_request_asset_to_the_schedule(churn) -> None:
    from airflow.sdk import AssetOrTimeSchedule

    from dags.retrain_factory.score_dag import retrain_request_asset
    from include.retrain.config import PipelineConfig

    raw = churn.model_dump(mode="json")
    raw["scoring"] = {"label_delay_days": 1}
    raw["monitoring"] = {"retrain_when": {"live_metric_below": 0.7, "for_days": 2}}
    asking = PipelineConfig.model_validate(raw)
    request = retrain_request_asset(asking)
    assert request.name == "retrain-request/churn"
    cron_and_requests = dag_schedule(asking)  # churn: a cron, no landing Asset
    assert isinstance(cron_and_requests, AssetOrTimeSchedule)
    assert cron_and_requests.timetable.expression == "0 3 * * *"
    assert "retrain-request/churn" in repr(cron_and_requests.asset_condition)
    raw["schedule"] = {**raw["schedule"], "cron": None, "on_new_data": True}
    both_assets = repr(dag_schedule(PipelineConfig.model_validate(raw)))
    assert "retrain-request/churn" in both_assets
    assert "landing/retrain-landing/churn" in both_assets
    assert dag_schedule(churn) == "0 3 * * *"  # without retrain_when nothing changes
