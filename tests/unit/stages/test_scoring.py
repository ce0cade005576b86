"""The pure parts of batch scoring: which days a run scores, the input gate's expectations (the raw
gate's minus the label), the model outputs and the predictions' columns, the serving drift."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from include.retrain.config import DEFAULT_PIPELINES_DIR, PipelineConfig
from include.retrain.errors import DataFailure
from include.retrain.gates.expectations import raw_expectations
from include.retrain.runs import TrainingWindow
from include.retrain.stages.scoring import (
    choose_partitions,
    drift_levels,
    input_columns,
    input_expectations,
    landing_partitions,
    model_outputs,
    predictions_frame,
    serving_drift,
)

DAY = date(2026, 2, 10)


@pytest.fixture(scope="module")
def churn() -> PipelineConfig:
    raw = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    raw["scoring"] = {}
    return PipelineConfig.model_validate(raw)


def test_landing_partitions_are_the_lookback_days_before_the_end(churn: PipelineConfig) -> None:
    listing = [(f"churn/ds={DAY - timedelta(days=n)}/part-0.parquet", 10) for n in range(6)]
    listing += [("churn/ds=2026-02-10/_SUCCESS", 0), (f"churn/ds={DAY}/part-1.parquet", 5)]

    found = landing_partitions(listing, churn.dataset, DAY + timedelta(days=1), lookback_days=3)

    assert list(found) == [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]  # oldest first
    assert [f.key for f in found[DAY]] == [f"churn/ds={DAY}/part-0.parquet", f"churn/ds={DAY}/part-1.parquet"]


def test_a_run_takes_unscored_days_oldest_first_and_finishes_its_own() -> None:
    days = [DAY + timedelta(days=n) for n in range(5)]
    scored_by = {days[0]: "2026-02-12", days[2]: "2026-02-15"}

    chosen, done = choose_partitions(days, scored_by, run_key="2026-02-15", limit=3)

    assert chosen == [days[1], days[2], days[3]]  # days[0] was scored by another run: left alone
    assert done == [days[2]]  # scored by this run's earlier attempt: kept, not written again
    assert choose_partitions(days, {}, "k", limit=10) == (days, [])
    assert choose_partitions(days, dict.fromkeys(days, "other"), "k", limit=10) == ([], [])


def test_input_expectations_are_the_raw_gates_minus_the_label_per_partition(churn: PipelineConfig) -> None:
    specs = input_expectations(churn, DAY)
    raw = raw_expectations(churn, TrainingWindow(DAY, DAY + timedelta(days=1)))

    assert {spec.table for spec in specs} == {"ds=2026-02-10"}
    assert not [spec for spec in specs if spec.kwargs.get("column") == "churned"]
    (columns,) = [s.kwargs["column_set"] for s in specs if s.expectation == "ExpectTableColumnsToMatchSet"]
    assert "churned" not in columns
    assert set(columns) == {*input_columns(churn.dataset), "ds"}
    (rows,) = [s.kwargs for s in specs if s.expectation == "ExpectTableRowCountToBeBetween"]
    assert rows == {"min_value": 1, "max_value": None}  # one day, not a training window's min_rows
    kept = {(s.expectation, s.kwargs.get("column"), s.severity) for s in specs}
    expected = {
        (s.expectation, s.kwargs.get("column"), s.severity)
        for s in raw
        if s.kwargs.get("column") != "churned" and s.expectation != "ExpectTableRowCountToBeBetween"
    }
    assert expected <= kept  # ranges, sets, nulls, unique ids, the configured checks: all still there
    assert ("ExpectColumnValuesToBeUnique", "customer_id", "fail") in kept


class _Classifier:
    classes_ = np.array(["stay", "leave"])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = frame["x"].to_numpy(dtype="float64")
        return np.column_stack([1 - p, p])


def test_model_outputs_put_the_positive_class_last_and_name_probabilities_by_class() -> None:
    frame = pd.DataFrame({"x": [0.1, 0.7]})

    outputs = model_outputs(_Classifier(), frame, "classification", positive_class="stay")

    assert list(outputs) == ["score", "proba_leave", "proba_stay"]
    np.testing.assert_allclose(outputs["score"], [0.9, 0.3])  # the probability of the positive class
    with pytest.raises(DataFailure, match="positive_class"):
        model_outputs(_Classifier(), frame, "classification", positive_class="gone")


class _Regressor:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["x"].to_numpy() * 10


def test_a_regressors_output_is_its_prediction_alone() -> None:
    outputs = model_outputs(_Regressor(), pd.DataFrame({"x": [1, 2]}), "regression")

    assert list(outputs) == ["score"]
    assert outputs["score"].dtype == np.float64
    assert outputs["score"].tolist() == [10.0, 20.0]


def test_predictions_carry_id_version_run_key_and_a_challengers_shadow_columns() -> None:
    ids = pd.Series(["a", "b"], name="customer_id")
    outputs = {"score": np.array([0.2, 0.8])}

    plain = predictions_frame(ids, outputs, "v1", "2026-02-11")
    shadow = predictions_frame(ids, outputs, "v1", "2026-02-11", ("v2", {"score": np.array([0.3, 0.6])}))

    assert list(plain.columns) == ["customer_id", "score", "model_version", "run_key"]
    assert plain["model_version"].tolist() == ["v1", "v1"]
    assert list(shadow.columns)[-2:] == ["challenger_version", "challenger_score"]
    assert shadow["challenger_score"].tolist() == [0.3, 0.6]


def test_the_one_value_columns_are_written_dictionary_encoded_and_read_back_as_strings() -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = predictions_frame(pd.Series(["a", "b", "c"], name="id"), {"score": np.zeros(3)}, "v1", "k", ("v2", {}))
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    table = pq.read_table(io.BytesIO(buffer.getvalue()))
    for column in ("model_version", "run_key", "challenger_version"):
        assert pa.types.is_dictionary(table.schema.field(column).type), column
    assert table.column("model_version").to_pylist() == ["v1"] * 3
    assert table.column("challenger_version").to_pylist() == ["v2"] * 3
    assert len(predictions_frame(pd.Series([], name="id", dtype=str), {"score": np.zeros(0)}, "v1", "k")) == 0


def _profile() -> dict[str, Any]:
    return {
        "numeric": {
            "tenure_months": {"edges": [10.0, 20.0], "shares": [0.25, 0.5, 0.25], "missing": 0.0},
        },
        "categorical": {"plan": {"shares": {"basic": 0.5, "premium": 0.5}}},
    }


def test_serving_drift_is_check_drifts_psi_and_ks(churn: PipelineConfig) -> None:
    same = pd.DataFrame({"tenure_months": [5, 15, 15, 25], "plan": ["basic", "premium"] * 2})
    moved = pd.DataFrame({"tenure_months": [25, 25, 25, 25], "plan": ["basic"] * 4})

    rows, skipped = serving_drift(churn, _profile(), same)
    drifted, _ = serving_drift(churn, _profile(), moved)

    assert {row["feature"]: round(row["psi"], 6) for row in rows} == {"tenure_months": 0.0, "plan": 0.0}
    assert {row["feature"]: row["psi"] > 1 for row in drifted} == {"tenure_months": True, "plan": True}
    assert next(r["ks"] for r in drifted if r["feature"] == "tenure_months") == pytest.approx(0.75)
    assert set(skipped) == {"monthly_charges", "support_calls", "region"}  # not in this profile
    assert serving_drift(churn, None, same)[0] == []
    levels = drift_levels([*drifted, {"feature": "x", "psi": 0.15}, {"feature": "y", "psi": float("nan")}], 0.1, 0.25)
    assert levels == {"above_psi_warn": ["x"], "above_psi_fail": ["tenure_months", "plan"]}
