"""Live performance on late labels (issue 19, item 4): ``score_churn``'s ``measure_live`` through Airflow.

Days are scored while their labels are still missing; once the labels land (``label_delay_days``
later), a run records the champion's live metric per day in ``registry/live/<version>/``, equal to
the metric computed here from the predictions and the landed labels. A re-run writes nothing new.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
from sklearn import metrics as skm

from tests.e2e.conftest import task_states
from tests.e2e.scoring_variant import SCORE_END, SCORED_DAYS, ScoringHarness, scoring_harness

pytestmark = pytest.mark.e2e

LIVE_SCORING = {"on_new_data": True, "lookback_days": 3, "max_partitions_per_run": 5, "label_delay_days": 1}


@pytest.fixture
def harness(s3, aws_connection, airflow_db, tmp_path, monkeypatch) -> ScoringHarness:
    return scoring_harness(s3, tmp_path, monkeypatch, scoring=LIVE_SCORING)


def _live(harness: ScoringHarness) -> dict[str, dict]:
    keys = harness.keys("registry/live/")
    return {key.removeprefix(f"{harness.base()}/registry/live/"): json.loads(harness.get(key)) for key in keys}


def test_live_metric_recorded_once_labels_land(harness: ScoringHarness) -> None:
    champion = harness.promote_champion()
    labelled = {day: harness.landing(day) for day in SCORED_DAYS}
    for day, frame in labelled.items():  # the days land without their labels
        harness.put_landing(day, frame.assign(churned=pd.array([None] * len(frame), dtype="Int64")))

    first = harness.score()  # scores 01-10 .. 01-12; 01-10 and 01-11 are due (D + 1 < 01-13) but unlabeled
    assert task_states(first) == {"score_partitions": "success", "measure_live": "success"}
    assert _live(harness) == {}

    # the labels land; five rows of 01-11 are still missing theirs
    late = labelled[SCORED_DAYS[1]].copy()
    late["churned"] = late["churned"].astype("Int64")
    late.loc[late.index[:5], "churned"] = pd.NA
    for day, frame in labelled.items():
        harness.put_landing(day, late if day == SCORED_DAYS[1] else frame)

    later = SCORE_END + timedelta(days=1)
    second = harness.score(later)  # nothing new to score (01-13 has not landed), but all three days are due
    assert task_states(second) == {"score_partitions": "skipped", "measure_live": "success"}
    live = _live(harness)
    assert sorted(live) == [f"{champion}/ds={day.isoformat()}.json" for day in SCORED_DAYS]
    for day in SCORED_DAYS:
        record = live[f"{champion}/ds={day.isoformat()}.json"]
        landed = labelled[day] if day != SCORED_DAYS[1] else late
        joined = harness.predictions(day).merge(landed[["customer_id", "churned"]], on="customer_id")
        joined = joined[joined["churned"].notna()]
        assert record["model_version"] == champion
        assert record["metric"] == "roc_auc"
        assert record["value"] == pytest.approx(skm.roc_auc_score(joined["churned"].astype(int), joined["proba_1"]))
        assert record["ci_low"] <= record["value"] <= record["ci_high"]
        assert record["rows_joined"] == len(joined)
        assert record["rows_unlabeled"] == (5 if day == SCORED_DAYS[1] else 0)
        assert record["rows_unmatched"] == 0

    etags = {key: harness.etag(key) for key in harness.keys("registry/live/")}
    again = harness.score(later)  # the same run again: every record exists, nothing is written
    assert task_states(again)["measure_live"] == "success"
    assert {key: harness.etag(key) for key in harness.keys("registry/live/")} == etags


@pytest.fixture
def asking(s3, aws_connection, airflow_db, tmp_path, monkeypatch) -> ScoringHarness:
    when = {"retrain_when": {"live_metric_below": 0.7, "for_days": 2}}
    return scoring_harness(s3, tmp_path, monkeypatch, scoring=LIVE_SCORING, monitoring=when)


def test_a_decayed_live_metric_requests_one_retrain_with_its_reason(asking: ScoringHarness) -> None:
    from include.retrain.scoring.run import ScoringRun
    from include.retrain.tasks.retrain_request import request_retrain

    champion = asking.promote_champion()
    registry = asking.driver.registry
    for day, value in zip(SCORED_DAYS, (0.9, 0.6, 0.5), strict=True):  # live records as measure_live writes them
        stamp = day.isoformat()
        registry.store.put_json(
            registry.key("live", champion, f"ds={stamp}.json"),
            {"partition": stamp, "model_version": champion, "metric": "roc_auc", "value": value},
        )
        manifest = {"partition": stamp, "model_version": champion, "max_psi": 0.01}
        registry.store.put_json(f"{asking.base()}/predictions/ds={stamp}/manifest.json", manifest)

    def run(run_id: str) -> ScoringRun:
        return ScoringRun.create(
            asking.config, data_interval_end=SCORE_END, run_id=run_id, triggered_by="test", client=asking.client
        )

    first = request_retrain(run("scheduled__1"))
    assert first["requested"] is True
    assert "below 0.7 for 2 day(s)" in first["summary"]
    # the retrain's window ends after the newest labeled day (label_delay_days 1), not the newest scored one
    assert first["event"]["newest_partition"] == SCORED_DAYS[-2].isoformat()
    events = registry.recent_events(10, "retrain_requested")
    assert len(events) == 1
    assert events[0]["version"] == champion
    assert "2026-01-11: 0.6000" in events[0]["reason"]
    assert events[0]["details"]["through"] == SCORED_DAYS[-1].isoformat()

    retry = request_retrain(run("scheduled__1"))  # the same run again: the request stands, no second event
    assert retry["requested"] is True
    assert len(registry.recent_events(10, "retrain_requested")) == 1
    later = request_retrain(run("scheduled__2"))  # another run on the same evidence: already asked
    assert later["requested"] is False
    assert len(registry.recent_events(10, "retrain_requested")) == 1
