"""``check_drift`` compares the label's distribution with the champion's too (issue 16.9).

Before, only features were compared: a share of churners going from 12% to 34% between two
windows passed ``check_drift`` silently. The reference profile now describes the label of the
training rows (class shares, or the target's quantile bins for regression), and the gate judges
its PSI against ``expectations.drift.label`` (warn and fail bars, its own ``on_drift``). Pure
functions first, then the real task bodies and GX against the loopback S3 endpoint.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from dev.synthetic.churn import churn_day
from dev.synthetic.landing import write_days
from include.retrain.config import DEFAULT_PIPELINES_DIR, PipelineConfig
from include.retrain.errors import GateFailure
from include.retrain.gates.drift import label_drift_table, population_stability_index
from include.retrain.gates.expectations import drift_expectations
from include.retrain.gates.profile import reference_profile
from include.retrain.tasks.drift import check_drift
from include.retrain.tasks.ingest import ingest
from tests.step_driver import FIRST_DAY, StepDriver, churn_config

CHURN_YAML = DEFAULT_PIPELINES_DIR / "churn.yaml"


def _labels(positive_share: float, rows: int = 1000, name: str = "churned") -> pd.Series:
    positives = round(rows * positive_share)
    return pd.Series(np.r_[np.ones(positives, "int64"), np.zeros(rows - positives, "int64")], name=name)


class TestLabelProfile:
    def test_classification_profile_keeps_class_shares(self) -> None:
        profile = reference_profile(
            pd.DataFrame({"x": [1.0] * 1000}), ["x"], [], target=_labels(0.12), task="classification"
        )

        assert profile["target"] == {"column": "churned", "kind": "classes", "shares": {"0": 0.88, "1": 0.12}}

    def test_a_label_share_from_12_to_34_percent_is_large_drift(self) -> None:
        profile = reference_profile(pd.DataFrame({"x": [1.0] * 1000}), ["x"], [], target=_labels(0.12))

        table, why = label_drift_table(profile, _labels(0.34))

        assert why == ""
        (row,) = table.to_dict("records")
        assert (row["column"], row["kind"]) == ("churned", "classes")
        assert row["psi"] == pytest.approx(population_stability_index([0.88, 0.12], [0.66, 0.34]))
        assert row["psi"] > 0.25
        assert row["largest_share_change"] == pytest.approx(0.22)

    def test_the_same_shares_are_no_drift(self) -> None:
        profile = reference_profile(pd.DataFrame({"x": [1.0] * 1000}), ["x"], [], target=_labels(0.12))

        table, _ = label_drift_table(profile, _labels(0.12, rows=500))

        assert table["psi"].iloc[0] == pytest.approx(0.0)

    def test_regression_target_is_binned_like_a_numeric_feature(self) -> None:
        rng = np.random.default_rng(0)
        target = pd.Series(rng.normal(100, 10, 5000), name="units")
        profile = reference_profile(pd.DataFrame({"x": target}), ["x"], [], target=target, task="regression")

        assert profile["target"]["kind"] == "numeric"
        assert profile["target"]["edges"] == profile["numeric"]["x"]["edges"]
        same, _ = label_drift_table(profile, pd.Series(rng.normal(100, 10, 5000), name="units"))
        shifted, _ = label_drift_table(profile, pd.Series(rng.normal(115, 10, 5000), name="units"))
        assert same["psi"].iloc[0] < 0.05
        assert shifted["psi"].iloc[0] > 0.25
        assert np.isnan(shifted["largest_share_change"].iloc[0])

    def test_a_profile_without_a_label_is_not_compared_and_says_why(self) -> None:
        profile = reference_profile(pd.DataFrame({"x": [1.0] * 10}), ["x"], [])

        table, why = label_drift_table(profile, _labels(0.3, rows=10))

        assert table is None
        assert "no label distribution" in why


class TestExpectations:
    def test_label_bars_have_their_own_settings(self) -> None:
        config = churn_config(
            expectations={"drift": {"label": {"psi_warn": 0.05, "psi_fail": 0.4, "on_drift": "fail"}}}
        )

        label = [s for s in drift_expectations(config, label=True) if s.table == "label"]

        assert [(s.kwargs["max_value"], s.severity) for s in label] == [(0.05, "warn"), (0.4, "fail")]
        assert [s for s in drift_expectations(config) if s.table == "label"] == []

    def test_label_null_switches_it_off(self) -> None:
        config = churn_config(expectations={"drift": {"label": None}})

        assert [s for s in drift_expectations(config, label=True) if s.table == "label"] == []


def _more_churners(day: date, rows: int) -> pd.DataFrame:
    frame = churn_day(day, rows)
    rng = np.random.default_rng(day.toordinal())
    frame.loc[rng.random(rows) < 0.5, "churned"] = 1  # the label shifts, the features do not
    return frame


def _driver(s3: Any, label: dict[str, Any] | None) -> StepDriver:
    rules = yaml.safe_load(CHURN_YAML.read_text(encoding="utf-8"))["expectations"]
    drift = {**rules["drift"], "label": label}
    return StepDriver(churn_config(expectations={**rules, "drift": drift}), s3.client())


def _champion_then_label_shift(driver: StepDriver) -> tuple[PipelineConfig, Any]:
    driver.write_landing(7, rows_per_day=300)
    driver.run(7)  # the champion, trained on 2026-01-01..07
    later = FIRST_DAY + timedelta(days=7)
    write_days(driver.client, driver.config.dataset, _more_churners, first_day=later, days=7, rows_per_day=300)
    return driver.config, driver.context(later + timedelta(days=7))


def test_label_drift_fails_check_drift_when_its_on_drift_is_fail(s3: Any) -> None:
    driver = _driver(s3, {"psi_warn": 0.1, "psi_fail": 0.25, "on_drift": "fail"})
    _, run = _champion_then_label_shift(driver)
    ingested = ingest(run)

    with pytest.raises(GateFailure) as info:
        check_drift(run, ingested)

    message = str(info.value)
    assert "expect_column_values_to_be_between(column='psi', max_value=0.25) on label" in message
    assert "'column': 'churned'" in message
    report = run.store.read_json(run.stage_key("gates", "check_drift.json"))
    assert any(note.startswith("label churned: class shares") for note in report["notes"])
    (failed,) = [e for e in report["expectations"] if not e["success"] and e["severity"] == "fail"]
    assert failed["table"] == "label"


def test_label_drift_is_a_warning_by_default(s3: Any) -> None:
    driver = _driver(s3, {})
    _, run = _champion_then_label_shift(driver)

    summary = check_drift(run, ingest(run))

    assert summary.success is True
    assert any("on label" in warning for warning in summary.warnings)


def test_the_report_lists_the_psi_of_every_compared_feature_and_the_label(s3: Any) -> None:
    """The registry page's drift chart reads these values; a report without them charts nothing."""
    driver = _driver(s3, {})
    config, run = _champion_then_label_shift(driver)

    check_drift(run, ingest(run))

    values = run.store.read_json(run.stage_key("gates", "check_drift.json"))["values"]
    assert {row["feature"] for row in values["drift"]} == set(config.features.compared)
    assert all(row["psi"] >= 0 for row in values["drift"])
    (label,) = values["label"]
    assert label["column"] == "churned"
    assert label["psi"] > 0.1
