"""A variant added as one YAML file, with a schema unlike churn and demand, retrains end to end on
data generated from its schema: no generator, no Python (issue 16, item 1)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from dev.synthetic import SchemaGenerator, generator_for
from include.retrain.registry import CHAMPION
from tests.e2e.conftest import FIRST_DAY, task_states
from tests.e2e.telco_variant import DAYS, ROWS, write_telco_yaml

pytestmark = pytest.mark.e2e


def test_yaml_only_variant_retrains_on_data_generated_from_its_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, harness_for
) -> None:
    write_telco_yaml(tmp_path)
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    harness = harness_for("telco")
    assert isinstance(generator_for(harness.config), SchemaGenerator)
    harness.write_days(FIRST_DAY, DAYS, rows_per_day=ROWS)
    window_end = FIRST_DAY + timedelta(days=DAYS)

    run = harness.run(window_end)

    assert set(task_states(run).values()) == {"success"}, task_states(run)
    champion = harness.registry.get_alias(CHAMPION)
    assert champion is not None
    folder = harness.run_folder(window_end.isoformat())
    evaluated = harness.store.read_json(folder + "/evaluate/manifest.json")
    assert evaluated["metric"] == "accuracy"
    assert evaluated["value"] >= 0.5
    assert sorted(evaluated["classes"]) == ["bronze", "gold", "silver"]
    ingested = harness.store.read_json(folder + "/ingest/manifest.json")
    assert ingested["rows"] == DAYS * ROWS
    first_file = harness.client.list_objects_v2(Bucket="retrain-landing", Prefix="telco/")["Contents"][0]["Key"]
    header = harness.client.get_object(Bucket="retrain-landing", Key=first_file)["Body"].read().decode().split("\n")[0]
    assert "Monthly charges ($)" in header  # read through landing_name
    assert "Paperless-Billing" in header
    assert "monthly_charges" not in header


def test_the_generated_landing_data_is_what_the_schema_declares(tmp_path: Path) -> None:
    from include.retrain.config import load_pipeline

    config = load_pipeline(write_telco_yaml(tmp_path))
    frame = SchemaGenerator(config)(FIRST_DAY, 2000)

    assert list(frame.columns) == list(config.dataset.columns)
    assert set(frame["paperless_billing"].dropna()) == {"Yes", "No"}
    assert set(frame["partner"].dropna()) == {"Yes", "No"}
    assert 0 < frame["partner"].isna().mean() <= 0.05
    assert str(frame["dependents"].dtype) == "Int64"
    assert 0 < frame["dependents"].isna().mean() <= 0.1
    assert frame["dependents"].dropna().between(0, 6).all()
    assert frame["monthly_charges"].between(18, 120).all()
    assert frame["account_id"].is_unique
    assert (frame["signup_date"] >= pd.Timestamp("2015-01-01")).all()
    assert (frame["signup_date"] <= pd.Timestamp(FIRST_DAY)).all()
    assert (frame["last_contact"] <= pd.Timestamp(FIRST_DAY)).all()
    shares = frame["tier"].value_counts(normalize=True)
    assert set(shares.index) == {"bronze", "silver", "gold"}
    assert shares.min() > 0.2
    pd.testing.assert_frame_equal(frame, SchemaGenerator(config)(FIRST_DAY, 2000))
