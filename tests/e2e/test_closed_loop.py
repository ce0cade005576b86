"""Close the loop (issue 19), end to end through Airflow: decay -> request -> retrain -> serve the new model.

Every step is a real DAG run (dag.test) on the loopback S3: ``retrain_churn`` with all its GX
gates, and ``score_churn`` (score_partitions -> measure_live -> request_retrain) once per simulated
day. The churn concept flips on day ``SHIFT`` (the label's dependence on every feature reverses,
the churn rate and the feature distributions stay put, so no drift gate trips); labels of day D
land ``LABEL_DELAY`` day(s) later. The champion v1, trained before the shift, decays on the live
metric; ``request_retrain`` asks for a retrain within ``SHIFT + LABEL_DELAY + FOR_DAYS`` (the first
run at which ``FOR_DAYS`` post-shift days have their labels); the retrain on the window end the
request carries promotes v2 under the normal policy, and the next scoring run serves v2.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from tests.concept_shift import (
    BAR,
    FIRST,
    FOR_DAYS,
    LABEL_DELAY,
    REQUEST_BY,
    SHIFT,
    V1_END,
    WINDOW_DAYS,
    day_frame,
    unlabeled,
)
from tests.e2e.conftest import task_states
from tests.e2e.scoring_variant import ScoringHarness, scoring_harness

pytestmark = pytest.mark.e2e


@pytest.fixture
def loop(s3, aws_connection, airflow_db, tmp_path, monkeypatch) -> ScoringHarness:
    scoring = {"on_new_data": True, "lookback_days": 3, "max_partitions_per_run": 5, "label_delay_days": LABEL_DELAY}
    harness = scoring_harness(
        s3,
        tmp_path,
        monkeypatch,
        scoring=scoring,
        monitoring={"retrain_when": {"live_metric_below": BAR, "for_days": FOR_DAYS}},
        window={"days": WINDOW_DAYS},
    )
    # Replace the harness's landing days: only the days before V1_END, labeled; later days land as the loop runs.
    landing = harness.config.dataset
    for key in harness.client.list_objects_v2(Bucket=landing.bucket, Prefix=landing.landing_prefix).get("Contents", []):
        harness.client.delete_object(Bucket=landing.bucket, Key=key["Key"])
    for offset in range((V1_END - FIRST).days):
        day = FIRST + timedelta(days=offset)
        harness.put_landing(day, day_frame(day))
    return harness


def _retrain(harness: ScoringHarness, window_end: date, conf: dict[str, Any] | None = None) -> Any:
    from include.retrain.local_run import run_dag

    return run_dag(harness.dag(harness.config.dag_id), window_end, conf)


def _xcom(dag_run: Any, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
        ).one()
        return XComModel.deserialize_value(row)


def _asset_event_extras(name: str) -> list[dict[str, Any]]:
    """The extras of the Asset events Airflow recorded for the Asset ``name``, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(AssetModel.name == name)
        ).all()
        return [dict(row.extra or {}) for row in sorted(rows, key=lambda row: row.timestamp)]


def _champion(harness: ScoringHarness) -> str:
    from include.retrain.registry import CHAMPION

    champion = harness.driver.registry.get_alias(CHAMPION)
    assert champion is not None
    return str(champion.version)


def test_decay_requests_a_retrain_whose_model_then_serves(loop: ScoringHarness) -> None:
    from dags.retrain_factory.runner import window_end_from_assets

    registry = loop.driver.registry

    # (2) the champion v1, trained through Airflow (every gate) on pre-shift days
    first = _retrain(loop, V1_END)
    assert set(task_states(first).values()) == {"success"}, task_states(first)
    v1 = _champion(loop)

    # (3) one scoring run a day: day E - 1 lands without labels, day E - 1 - LABEL_DELAY's labels land
    frames = {FIRST + timedelta(days=n): day_frame(FIRST + timedelta(days=n)) for n in range(14)}
    requested_at = None
    end = V1_END + timedelta(days=1)
    while requested_at is None:
        assert end <= REQUEST_BY, f"no retrain requested by the run ending {REQUEST_BY}"
        newest = end - timedelta(days=1)
        loop.put_landing(newest, unlabeled(frames[newest]))
        labeled = newest - timedelta(days=LABEL_DELAY)
        loop.put_landing(labeled, frames[labeled])
        run = loop.score(end)
        states = task_states(run)
        assert states["score_partitions"] == "success", states
        assert states["measure_live"] == "success", states
        assert loop.predictions(newest)["model_version"].unique().tolist() == [v1]
        if states["request_retrain"] == "success":
            requested_at = end
        else:
            assert states["request_retrain"] == "skipped", states
            assert registry.recent_events(10, "retrain_requested") == []
        end += timedelta(days=1)

    # the earliest it can fire: before REQUEST_BY, fewer than FOR_DAYS post-shift days have labels
    assert requested_at == REQUEST_BY
    live = {
        record["partition"]: record
        for key in loop.keys(f"registry/live/{v1}/")
        if (record := registry.store.read_json(key)) is not None
    }
    assert sorted(live)[-1] == (REQUEST_BY - timedelta(days=LABEL_DELAY + 1)).isoformat()
    for day, record in live.items():  # v1 is good before the shift and falls below the bar after it
        assert record["model_version"] == v1
        if date.fromisoformat(day) < SHIFT:
            assert record["value"] > 0.7, (day, record)
        else:
            assert record["value"] < BAR, (day, record)

    (request,) = registry.recent_events(10, "retrain_requested")
    assert request["version"] == v1
    assert f"live roc_auc of {v1} below {BAR} for {FOR_DAYS} day(s)" in request["reason"]
    for offset in range(FOR_DAYS):
        assert f"{(SHIFT + timedelta(days=offset)).isoformat()}: 0." in request["reason"]
    assert request["details"]["through"] == (REQUEST_BY - timedelta(days=1)).isoformat()

    # the request's Asset event, as Airflow recorded it, carries the window end for the retrain
    (extra,) = _asset_event_extras(f"retrain-request/{loop.config.name}")
    assert extra["version"] == v1
    assert extra["reason"] == request["reason"]
    assert extra == _xcom(run, "request_retrain")["event"]

    # (4) dag.test() delivers no Asset events to a run (no scheduler, no triggering_asset_events), so the
    # retrain the event would start is run with the window end the scheduler would derive from it
    # (runner.window_end_from_assets: the day after the newest announced partition) as its conf. The newest
    # announced day is the newest labeled one: a window through the unlabeled day after it would fail
    # validate_raw with the default dataset.target_nulls (fail).
    window_end = window_end_from_assets({"triggering_asset_events": {"request": [SimpleNamespace(extra=extra)]}})
    assert window_end == REQUEST_BY - timedelta(days=LABEL_DELAY)
    # The run's own data interval (ending SHIFT) would train on pre-shift days: the conf alone moves the window.
    second = _retrain(loop, SHIFT, {"window_end": window_end.isoformat()})
    assert set(task_states(second).values()) == {"success"}, task_states(second)
    v2 = _champion(loop)
    assert v2 != v1
    evaluated = _xcom(second, "evaluate")
    assert evaluated["window"] == {"start": SHIFT.isoformat(), "end": window_end.isoformat()}  # post-shift, labeled
    assert evaluated["champion"]["version"] == v1
    # clearly better on the new holdout: the challenger's whole interval is above the champion's value
    assert evaluated["metrics_ci"]["roc_auc"]["ci_low"] > evaluated["champion"]["value"] + 0.2, evaluated
    promoted = _xcom(second, "promote")
    assert promoted["promoted"] is True, promoted
    assert promoted["version"] == v2
    assert promoted["compared_with"] == v1
    assert promoted["overridden"] is None  # the normal policy, no force_promote
    assert promoted["dry_run"] is False
    assert promoted["deployed"]["version"] == v2, promoted

    # (5) the next scoring run serves v2
    end = requested_at + timedelta(days=1)
    newest = end - timedelta(days=1)
    loop.put_landing(newest, unlabeled(frames[newest]))
    loop.put_landing(newest - timedelta(days=LABEL_DELAY), frames[newest - timedelta(days=LABEL_DELAY)])
    after = loop.score(end)
    states = task_states(after)
    assert states["score_partitions"] == "success", states
    assert states["request_retrain"] == "skipped", states  # v2 starts with a clean slate
    assert loop.predictions(newest)["model_version"].unique().tolist() == [v2]
    manifest = registry.store.read_json(f"{loop.base()}/predictions/ds={newest.isoformat()}/manifest.json")
    assert manifest is not None
    assert manifest["model_version"] == v2

    # (6) the registry's story, oldest first
    story = [
        (event["event"], event["version"])
        for event in reversed(registry.recent_events(1000))
        if event["event"] in ("promoted", "retrain_requested")
    ]
    assert story == [("promoted", v1), ("retrain_requested", v1), ("promoted", v2)]
