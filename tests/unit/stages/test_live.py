"""The pure parts of live performance: which scored days are due, the join of predictions with late
labels (by id, unlabeled and unmatched rows counted), and the day's metric with its interval."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from include.retrain.config import BootstrapConfig
from include.retrain.stages.live import join_labels, live_metric, live_series, ready_days, scored_version

DAY = date(2026, 1, 10)


def test_a_day_is_due_once_its_label_delay_has_passed_before_the_run_end() -> None:
    scored = [DAY + timedelta(days=n) for n in range(5)]  # 10 .. 14
    # end 2026-01-15: the run has seen landing days up to the 14th; with a 2-day delay, D + 2 < 15 => D <= 12
    assert ready_days(scored, [], date(2026, 1, 15), 2, 10) == [DAY, DAY + timedelta(1), DAY + timedelta(2)]
    assert ready_days(scored, [DAY + timedelta(1)], date(2026, 1, 15), 2, 10) == [DAY, DAY + timedelta(2)]
    assert ready_days(scored, [], date(2026, 1, 15), 2, 1) == [DAY]
    assert ready_days(scored, [], date(2026, 1, 15), 0, 10) == scored
    assert ready_days(reversed(scored), [], date(2026, 1, 12), 0, 10) == [DAY, DAY + timedelta(1)]


def _predictions(ids: list[int], positive: list[float]) -> pd.DataFrame:
    p = np.asarray(positive)
    return pd.DataFrame(
        {"id": ids, "score": p, "proba_0": 1 - p, "proba_1": p, "model_version": "v1", "run_key": "2026-01-11"}
    )


def test_labels_join_by_id_and_unlabeled_and_unmatched_rows_are_counted() -> None:
    predictions = _predictions([1, 2, 3, 4, 5], [0.9, 0.2, 0.8, 0.1, 0.6])
    # shuffled order, id 3's label still missing, id 5 gone from the partition, id 9 never scored
    labels = pd.DataFrame({"id": [4, 9, 3, 2, 1], "churned": pd.array([0, 1, None, 1, 1], dtype="Int64")})
    day = join_labels(predictions, labels, "id", "churned")
    assert (day.unlabeled, day.unmatched) == (1, 1)
    joined = day.joined.sort_values("id")
    assert joined["id"].tolist() == [1, 2, 4]
    assert joined["churned"].tolist() == [1, 1, 0]  # each row got its own id's label, not its position's
    assert joined["score"].tolist() == [0.9, 0.2, 0.1]


def test_duplicate_ids_in_the_labels_are_refused() -> None:
    labels = pd.DataFrame({"id": [1, 1], "churned": [0, 1]})
    with pytest.raises(ValueError, match="duplicate 'id'"):
        join_labels(_predictions([1], [0.5]), labels, "id", "churned")


def test_the_live_metric_is_the_promotion_metric_of_the_joined_rows_with_an_interval_around_it() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    positive = np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1)
    joined = _predictions(list(range(300)), positive.tolist()).assign(churned=y)
    found = live_metric(joined, "churned", "roc_auc", BootstrapConfig(samples=200), seed=1)
    assert found["value"] == pytest.approx(skm.roc_auc_score(y, positive))
    assert found["ci_low"] < found["value"] < found["ci_high"]
    assert found["confidence"] == 0.95
    logloss = live_metric(joined, "churned", "log_loss", None, seed=1)
    assert logloss["value"] == pytest.approx(skm.log_loss(y, np.column_stack([1 - positive, positive])))


def test_a_regressor_is_measured_on_its_score() -> None:
    joined = pd.DataFrame({"id": [1, 2, 3, 4], "score": [1.0, 2.0, 3.0, 5.0], "y": [1.0, 2.0, 3.0, 4.0]})
    found = live_metric(joined, "y", "mae", BootstrapConfig(samples=100), seed=1)
    assert found["value"] == pytest.approx(0.25)


def test_a_day_scored_by_two_versions_is_refused() -> None:
    predictions = _predictions([1, 2], [0.1, 0.2])
    assert scored_version(predictions) == "v1"
    predictions.loc[1, "model_version"] = "v2"
    with pytest.raises(ValueError, match="2 model versions"):
        scored_version(predictions)


def test_the_series_is_sorted_by_day_then_version() -> None:
    records = [
        {"partition": "2026-01-12", "model_version": "a"},
        {"partition": "2026-01-10", "model_version": "b"},
        {"partition": "2026-01-10", "model_version": "a"},
    ]
    assert [(r["partition"], r["model_version"]) for r in live_series(records)] == [
        ("2026-01-10", "a"),
        ("2026-01-10", "b"),
        ("2026-01-12", "a"),
    ]
