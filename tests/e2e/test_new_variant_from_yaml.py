"""An ML engineer adds a variant by adding one YAML file: no Python, no DAG code.

The dataset is scikit-learn's bundled handwritten digits (multiclass, 64 integer features),
which no other test uses, written to the landing layout as CSV partitions. The YAML goes into
a fresh pipelines folder; the DAG factory turns it into ``retrain_digits`` and it retrains end
to end through Airflow.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_digits

from include.retrain.registry import CHAMPION
from tests.e2e.conftest import task_states

pytestmark = pytest.mark.e2e

FIRST_DAY = date(2026, 3, 1)
DAYS = 6
PIXELS = [f"pixel_{i:02d}" for i in range(64)]


def digits_config() -> dict:
    """What the ML engineer writes: schema, features, model, metric, policy, schedule."""
    columns = {"sample_id": {"type": "string"}, "digit": {"type": "int", "min": 0, "max": 9}}
    columns.update({pixel: {"type": "int", "min": 0, "max": 16} for pixel in PIXELS})
    return {
        "name": "digits",
        "description": "Recognises handwritten digits (a multiclass example added with one YAML file).",
        "owner": "vision-team",
        "tags": ["digits", "multiclass"],
        "dataset": {
            "name": "digits",
            "bucket": "retrain-landing",
            "format": "csv",
            "target": "digit",
            "id_column": "sample_id",
            "columns": columns,
        },
        "window": {"days": DAYS},
        "features": {"numeric": PIXELS},
        "model": {
            "estimator": "sklearn.linear_model.LogisticRegression",
            "params": {"max_iter": 400, "C": 0.5},
            "seed": 3,
        },
        "promotion": {"metric": "accuracy", "threshold": 0.85},
        "expectations": {
            "raw": {"min_rows": 1000, "freshness_days": 1},
            "features": {"min_train_rows": 800, "min_holdout_rows": 150, "min_class_fraction": 0.05},
        },
        "schedule": {"cron": "0 6 * * 1"},
        "storage": {"bucket": "retrain-artifacts", "prefix": "retraining"},
    }


def write_digits_landing(client) -> None:
    """The bundled digits, split over DAYS daily CSV partitions."""
    digits = load_digits()
    frame = pd.DataFrame(digits.data.astype("int64"), columns=PIXELS)
    frame.insert(0, "sample_id", [f"d{i:05d}" for i in range(len(frame))])
    frame["digit"] = digits.target
    bounds = np.linspace(0, len(frame), DAYS + 1).astype(int)
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        body = frame.iloc[bounds[offset] : bounds[offset + 1]].to_csv(index=False).encode()
        client.put_object(Bucket="retrain-landing", Key=f"digits/ds={day.isoformat()}/part-0.csv", Body=body)


def test_a_new_yaml_file_becomes_a_working_retraining_dag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, harness_for
) -> None:
    (tmp_path / "digits.yaml").write_text(yaml.safe_dump(digits_config(), sort_keys=False))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    harness = harness_for("digits")
    write_digits_landing(harness.client)

    run = harness.run(FIRST_DAY + timedelta(days=DAYS))

    assert harness.config.dag_id == "retrain_digits"
    assert set(task_states(run).values()) == {"success"}, task_states(run)
    champion = harness.registry.get_alias(CHAMPION)
    assert champion is not None
    evaluated = harness.store.read_json(
        harness.run_folder((FIRST_DAY + timedelta(days=DAYS)).isoformat()) + "/evaluate/manifest.json"
    )
    assert evaluated["metric"] == "accuracy"
    assert evaluated["value"] >= 0.85
    assert evaluated["rows"] > 300
    features = harness.store.read_json(
        harness.run_folder((FIRST_DAY + timedelta(days=DAYS)).isoformat()) + "/features/manifest.json"
    )
    assert len(features["feature_columns"]) == 64
