"""A YAML-only variant with a label derived in config and date parts as features retrains end to end
(issue 16, item 9): its landing data comes from its schema, its label from ``arr_delay > 15``, and
the registered model derives month, weekday, weekend and hour from the dates serving passes it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from dev.synthetic import SchemaGenerator, generator_for
from include.retrain.modelio import load_model
from include.retrain.registry import CHAMPION
from include.retrain.stages.features import to_model_input
from tests.e2e.conftest import FIRST_DAY, task_states
from tests.e2e.flights_variant import DAYS, ROWS, write_flights_yaml

pytestmark = pytest.mark.e2e

DATE_PARTS = ["flight_date_month", "flight_date_dayofweek", "flight_date_is_weekend", "scheduled_departure_hour"]


def test_derived_label_and_date_parts_train_register_and_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, harness_for
) -> None:
    write_flights_yaml(tmp_path)
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    harness = harness_for("flights")
    assert isinstance(generator_for(harness.config), SchemaGenerator)
    harness.write_days(FIRST_DAY, DAYS + 1, rows_per_day=ROWS)
    window_end = FIRST_DAY + timedelta(days=DAYS)

    run = harness.run(window_end)

    assert set(task_states(run).values()) == {"success"}, task_states(run)
    folder = harness.run_folder(window_end.isoformat())
    ingested = harness.store.read_json(folder + "/ingest/manifest.json")
    # flights whose arr_delay is not known yet have no label: dropped at ingest and counted
    assert ingested["target_nulls_dropped"] > 0
    assert ingested["rows"] + ingested["target_nulls_dropped"] == DAYS * ROWS
    raw_report = harness.store.read_json(folder + "/gates/validate_raw.json")
    assert any(e["kwargs"].get("column") == "late" and e["success"] for e in raw_report["expectations"])
    features = harness.store.read_json(folder + "/features/manifest.json")
    assert set(DATE_PARTS) <= set(features["feature_columns"])
    assert "arr_delay" not in features["feature_columns"]
    assert "flight_date" not in features["feature_columns"]
    gate = harness.store.read_json(folder + "/gates/validate_features.json")
    # one feature_stats row (std, leakage score, missing/inf counts) per matrix column, date parts included
    assert gate["statistics"]["rows"]["feature_stats"] == len(features["feature_columns"])
    assert gate["statistics"]["warnings"] == 0  # no constant part (the hour reaches the CSV landing files)
    assert gate["notes"] == []  # every feature got a leakage score
    evaluated = harness.store.read_json(folder + "/evaluate/manifest.json")
    assert evaluated["metric"] == "roc_auc"
    assert evaluated["value"] >= 0.6
    assert evaluated["classes"] == [0, 1]  # false, true: the derived label's positive class is true

    champion = harness.registry.get_alias(CHAMPION)
    assert champion is not None
    card = json.loads(harness.registry.read_file(champion.version, "model_card.json"))
    assert card["label"]["derived"]["definition"] == "late = arr_delay > 15"
    assert card["input_schema"]["date_parts"] == {
        "flight_date": ["month", "dayofweek", "is_weekend"],
        "scheduled_departure": ["hour"],
    }
    profile = json.loads(harness.registry.read_file(champion.version, "reference_profile.json"))
    assert set(DATE_PARTS) <= set(profile["numeric"])
    assert profile["target"]["column"] == "late"
    assert set(profile["target"]["shares"]) == {"False", "True"}

    # serving: the registered model file loads through the allowlist and takes the dates, as text too
    model = load_model(harness.registry.read_file(champion.version, "model.skops"), source="champion")
    landing = generator_for(harness.config)(FIRST_DAY + timedelta(days=DAYS + 1), 50)
    as_text = landing.assign(
        flight_date=landing["flight_date"].dt.strftime("%Y-%m-%d"),
        scheduled_departure=landing["scheduled_departure"].dt.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    scored = model.predict_proba(to_model_input(landing, harness.config.features))
    np.testing.assert_allclose(model.predict_proba(to_model_input(as_text, harness.config.features)), scored)

    # the next window is compared with the champion's profile: the date parts are in the drift table
    later = window_end + timedelta(days=1)
    second = harness.run(later)

    assert set(task_states(second).values()) == {"success"}, task_states(second)
    drift = harness.store.read_json(harness.run_folder(later.isoformat()) + "/gates/check_drift.json")
    compared = {e["kwargs"].get("column") for e in drift["expectations"]}
    assert {"psi"} <= compared
    rows = drift["statistics"]["rows"]
    assert rows["drift"] == len(harness.config.features.compared)
    assert rows["label"] == 1
