"""Batch scoring (issue 19, items 1 and 3): ``score_churn`` through Airflow (dag.test) on the loopback S3.

A champion is promoted by the real task bodies; the scoring DAG then scores the landing days it
has not scored, with the deployed version, and writes predictions, serving drift and a manifest
per day. Re-running is idempotent; bad input, no deployed model and a tampered model file each
fail at once with a clear message and write no predictions.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
import pytest

from include.retrain.errors import GateFailure, IntegrityError
from include.retrain.layout import MODEL_FILE
from include.retrain.promotion.deploy import read_deployed
from include.retrain.registry import CHAMPION
from include.retrain.scoring.run import ScoringRun
from include.retrain.scoring.serving import NoDeployedModel
from include.retrain.storage import sha256_bytes
from include.retrain.tasks.score import score
from tests.e2e.conftest import task_states
from tests.e2e.scoring_variant import SCORE_END, SCORED_DAYS, ScoringHarness, scoring_harness, tries

pytestmark = pytest.mark.e2e


@pytest.fixture
def harness(s3, aws_connection, airflow_db, tmp_path, monkeypatch) -> ScoringHarness:
    return scoring_harness(s3, tmp_path, monkeypatch)


def _body_run(harness: ScoringHarness, end=SCORE_END) -> ScoringRun:
    """The task body's run, called straight (to read the exception the task fails with)."""
    return ScoringRun.create(
        harness.config, data_interval_end=end, run_id="manual__direct", triggered_by="test", client=harness.client
    )


def _asset_events(name: str) -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == name)
            .order_by(AssetEvent.id)
            .all()
        )
        return [dict(row.extra or {}) for row in rows]


def _assert_scored(harness: ScoringHarness, day, version: str, run_key: str) -> None:
    predictions = harness.predictions(day)
    landing = harness.landing(day)
    assert sorted(predictions["customer_id"]) == sorted(landing["customer_id"])
    assert "churned" not in predictions.columns  # the label is never read, never written
    assert set(predictions["model_version"]) == {version}
    assert set(predictions["run_key"]) == {run_key}
    assert predictions["score"].between(0, 1).all()
    np.testing.assert_allclose(predictions["proba_0"] + predictions["proba_1"], 1.0)
    np.testing.assert_allclose(predictions["score"], predictions["proba_1"])
    folder = f"{harness.base()}/predictions/ds={day.isoformat()}"
    drift = json.loads(harness.get(f"{folder}/drift.json"))
    assert drift["model_version"] == version
    assert drift["rows"] == len(landing)
    assert [row["feature"] for row in drift["features"]] == harness.config.features.compared
    assert all(math.isfinite(row["psi"]) and row["psi"] >= 0 for row in drift["features"])
    manifest = json.loads(harness.get(f"{folder}/manifest.json"))
    assert manifest["model_version"] == version
    assert manifest["run_key"] == run_key
    assert manifest["files"]["part.parquet"]["sha256"] == sha256_bytes(harness.get(f"{folder}/part.parquet"))
    assert manifest["files"]["drift.json"]["sha256"] == sha256_bytes(harness.get(f"{folder}/drift.json"))


def test_scores_new_days_with_the_deployed_version_idempotently(harness: ScoringHarness) -> None:
    retrained = harness.retrain()  # the real retrain DAG, gates and all: the first champion
    assert set(task_states(retrained).values()) == {"success"}
    champion = harness.driver.registry.get_alias(CHAMPION).version
    assert read_deployed(harness.driver.registry).version == champion
    events_before = len(_asset_events("predictions/churn"))

    first = harness.score()

    assert task_states(first) == {"score_partitions": "success"}
    for day in SCORED_DAYS:
        _assert_scored(harness, day, champion, SCORE_END.isoformat())
    # Only the lookback's days: 2026-01-09 and earlier are left alone.
    assert {key.split("/")[-2] for key in harness.prediction_keys()} == {f"ds={d.isoformat()}" for d in SCORED_DAYS}
    events = _asset_events("predictions/churn")[events_before:]
    assert len(events) == 1
    assert events[0]["partitions"] == [d.isoformat() for d in SCORED_DAYS]
    assert events[0]["model_version"] == champion

    etags = {key: harness.etag(key) for key in harness.prediction_keys()}
    again = harness.score()  # the same run again: recognizes its own predictions, rewrites nothing
    assert task_states(again) == {"score_partitions": "success"}
    assert {key: harness.etag(key) for key in harness.prediction_keys()} == etags

    later = SCORE_END + timedelta(days=1)
    nothing_new = harness.score(later)  # 2026-01-13 has not landed: nothing to score, no event
    assert task_states(nothing_new) == {"score_partitions": "skipped"}
    assert len(_asset_events("predictions/churn")) == events_before + 2

    harness.driver.write_landing(13)  # 2026-01-13 lands (the earlier days are rewritten identically)
    etags = {key: harness.etag(key) for key in harness.prediction_keys()}
    newer = harness.score(later)
    assert task_states(newer) == {"score_partitions": "success"}
    _assert_scored(harness, SCORE_END, champion, later.isoformat())
    assert {key: harness.etag(key) for key in etags} == etags  # days scored by another run stay as they were


def test_bad_input_fails_at_once_naming_partition_column_and_expectation(harness: ScoringHarness) -> None:
    harness.promote_champion()
    bad_day = SCORED_DAYS[1]
    frame = harness.landing(bad_day)
    frame.loc[:4, "tenure_months"] = -3  # the schema says min 0
    harness.put_landing(bad_day, frame)

    run = harness.score()

    assert task_states(run) == {"score_partitions": "failed"}
    assert tries(run) == {"score_partitions": 1}  # a data failure: not retried
    assert harness.prediction_keys() == []  # not even the good days: nothing is written unless all can be
    with pytest.raises(GateFailure) as raised:
        score(_body_run(harness))
    message = str(raised.value)
    assert f"on ds={bad_day.isoformat()}" in message
    assert "column='tenure_months'" in message
    assert "expect_column_values_to_be_between" in message
    assert "No predictions were written" in message
    report = json.loads(
        harness.get(f"{harness.base()}/scoring/{SCORE_END.isoformat()}/gates/validate_scoring_input.json")
    )
    assert report["success"] is False
    failed = [e for e in report["expectations"] if not e["success"]]
    assert {(e["table"], e["kwargs"]["column"]) for e in failed} == {(f"ds={bad_day.isoformat()}", "tenure_months")}
    # the label is not among what the gate checked
    assert not [e for e in report["expectations"] if e["kwargs"].get("column") == "churned"]
    assert harness.prediction_keys() == []


def test_a_wrong_type_is_bad_input_too(harness: ScoringHarness) -> None:
    harness.promote_champion()
    frame = harness.landing(SCORED_DAYS[0])
    frame["support_calls"] = frame["support_calls"].astype(str) + " calls"
    harness.put_landing(SCORED_DAYS[0], frame)

    with pytest.raises(GateFailure, match=r"column='support_calls'.*on ds=2026-01-10"):
        score(_body_run(harness))
    assert harness.prediction_keys() == []


def test_no_deployed_model_fails_clearly_and_writes_nothing(harness: ScoringHarness) -> None:
    run = harness.score()

    assert task_states(run) == {"score_partitions": "failed"}
    assert tries(run) == {"score_partitions": 1}
    with pytest.raises(NoDeployedModel, match=r"no deployed model for churn: .*deployed.json does not exist"):
        score(_body_run(harness))
    assert harness.prediction_keys() == []


def test_a_tampered_model_file_is_refused(harness: ScoringHarness) -> None:
    champion = harness.promote_champion()
    key = f"{harness.base()}/registry/versions/{champion}/{MODEL_FILE}"
    harness.client.put_object(Bucket=harness.config.storage.bucket, Key=key, Body=harness.get(key) + b"\x00")

    run = harness.score()

    assert task_states(run) == {"score_partitions": "failed"}
    assert tries(run) == {"score_partitions": 1}
    with pytest.raises(IntegrityError, match=r"model.skops is corrupt or was replaced"):
        score(_body_run(harness))
    assert harness.prediction_keys() == []


@pytest.mark.parametrize("shadow", [True, False])
def test_a_canarys_challenger_is_shadow_scored_into_its_own_columns(
    shadow: bool, s3, aws_connection, airflow_db, tmp_path, monkeypatch
) -> None:
    from include.retrain.promotion.canary import CHALLENGER
    from tests.step_driver import STRONG, STUMP

    canary = scoring_harness(
        s3,
        tmp_path,
        monkeypatch,
        deployment={"strategy": "canary", "canary_runs": 3},
        scoring={"on_new_data": True, "lookback_days": 1, "shadow": shadow},
    )
    canary.driver.run(7, {"model_params": STUMP})  # the first champion
    canary.driver.run(8, {"model_params": STRONG})  # beats it: the challenger, in shadow
    registry = canary.driver.registry
    deployed = read_deployed(registry).version
    challenger = registry.get_alias(CHALLENGER).version
    assert challenger not in (None, deployed)

    run = canary.score()

    assert task_states(run) == {"score_partitions": "success"}
    predictions = canary.predictions(SCORED_DAYS[-1])
    assert set(predictions["model_version"]) == {deployed}  # what serves is what deployed.json names
    if not shadow:
        assert not [c for c in predictions.columns if c.startswith("challenger_")]
        return
    assert set(predictions["challenger_version"]) == {challenger}
    np.testing.assert_allclose(predictions["challenger_proba_0"] + predictions["challenger_proba_1"], 1.0)
    assert not np.allclose(predictions["challenger_score"], predictions["score"])  # really another model
    manifest = json.loads(canary.get(f"{canary.base()}/predictions/ds={SCORED_DAYS[-1].isoformat()}/manifest.json"))
    assert manifest["challenger_version"] == challenger


def test_a_run_started_by_a_landing_event_scores_up_to_the_announced_day(harness: ScoringHarness) -> None:
    """The landing Asset event's newest partition, not the data interval, sets the run's end (as for retrain)."""
    from types import SimpleNamespace

    from dags.retrain_factory.runner import run_scoring

    champion = harness.promote_champion()
    announced = SCORED_DAYS[0]  # 2026-01-10: the days after it have landed but were not announced yet
    context = {
        "dag_run": SimpleNamespace(run_id="asset_triggered__1", run_type="asset_triggered", run_after=None),
        "data_interval_end": SCORE_END + timedelta(days=30),
        "triggering_asset_events": {"landing": [SimpleNamespace(extra={"newest_partition": announced.isoformat()})]},
    }

    result = run_scoring(harness.config, context)

    assert next(iter(result)) == "summary"  # the grid view's line, first as in every task's XCom
    assert result["summary"].startswith(f"scored 3 partition(s) with {champion}")
    assert result["run"]["run_key"] == (announced + timedelta(days=1)).isoformat()
    assert result["partitions"] == [(announced - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert result["model_version"] == champion
    assert result["event"]["partitions"] == result["partitions"]
    assert {key.split("/")[-2] for key in harness.prediction_keys()} == {f"ds={d}" for d in result["partitions"]}
