"""Missing labels are a gate verdict at ``validate_raw``, or dropped and counted (issue 16.5).

Before, ``max_null_fraction`` was accepted on the target column, ``validate_raw`` passed, and
``build_features`` (no gate: no report, no link) failed with ``target column 'churned' has N
missing values``. Now the target's not-null expectation is an invariant of the raw gate, the
target takes no ``max_null_fraction`` (a config error that points at ``dataset.target_nulls``),
and ``target_nulls: drop`` drops unlabelled rows at ingest, counted in its manifest and summary
and noted in the raw gate's report. Real GX, real task bodies against the loopback S3 endpoint.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from dev.synthetic.churn import churn_day
from dev.synthetic.landing import write_days
from include.retrain.config import DEFAULT_PIPELINES_DIR, load_pipeline
from include.retrain.errors import ConfigError, GateFailure
from include.retrain.frames import read_frame
from include.retrain.gates.expectations import CheckRule, apply_checks, raw_expectations
from include.retrain.runs import TrainingWindow
from include.retrain.tasks.features import build_features
from include.retrain.tasks.gates import validate_raw
from include.retrain.tasks.ingest import ingest
from tests.step_driver import FIRST_DAY, StepDriver, churn_config

CHURN_YAML = DEFAULT_PIPELINES_DIR / "churn.yaml"
DAYS = 4
ROWS = 150
UNLABELLED_PER_DAY = 9


def _write_yaml(tmp_path: Path, edit: Any) -> Path:
    raw = yaml.safe_load(CHURN_YAML.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "churn.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


class TestConfig:
    def test_max_null_fraction_on_the_target_is_refused_pointing_at_target_nulls(self, tmp_path: Path) -> None:
        def edit(raw: dict) -> None:
            raw["dataset"]["columns"]["churned"]["max_null_fraction"] = 0.3

        with pytest.raises(ConfigError) as info:
            load_pipeline(_write_yaml(tmp_path, edit))

        message = str(info.value)
        assert "churn.yaml" in message
        assert "columns.churned.max_null_fraction" in message
        assert "dataset.target_nulls" in message

    def test_a_raw_check_relaxing_target_nulls_is_refused(self, tmp_path: Path) -> None:
        def edit(raw: dict) -> None:
            raw["expectations"]["raw"]["checks"] = [{"column": "churned", "max_null_fraction": 0.5}]

        with pytest.raises(ConfigError, match=r"expectations\.raw\.checks\[0\]: max_null_fraction on the target"):
            load_pipeline(_write_yaml(tmp_path, edit))

    def test_target_nulls_defaults_to_fail_and_keeps_the_config_hash(self, tmp_path: Path) -> None:
        plain = load_pipeline(CHURN_YAML)

        def edit(raw: dict) -> None:
            raw["dataset"]["target_nulls"] = "fail"

        explicit = load_pipeline(_write_yaml(tmp_path, edit))
        assert plain.dataset.target_nulls == "fail"
        assert explicit.config_hash() == plain.config_hash()

    def test_the_target_not_null_expectation_is_an_invariant(self) -> None:
        config = load_pipeline(CHURN_YAML)
        window = TrainingWindow.ending(date(2026, 2, 1), 28)
        specs = raw_expectations(config, window)

        (target,) = [
            s for s in specs if s.expectation == "ExpectColumnValuesToNotBeNull" and s.kwargs["column"] == "churned"
        ]
        assert target.kwargs == {"column": "churned"}
        assert target.rule is None  # no check replaces it
        relaxed = apply_checks(specs, [CheckRule(column="churned", max_null_fraction=0.5)], lambda check: ["data"])
        assert target in relaxed


def _unlabelled(day: date, rows: int) -> pd.DataFrame:
    frame = churn_day(day, rows)
    frame["churned"] = frame["churned"].astype("Int64")
    frame.loc[frame.index[:UNLABELLED_PER_DAY], "churned"] = pd.NA
    return frame


def _driver(s3: Any, **dataset: Any) -> StepDriver:
    base = yaml.safe_load(CHURN_YAML.read_text(encoding="utf-8"))
    rules = base["expectations"]
    small = {**rules, "raw": {**rules["raw"], "min_rows": 100}}  # a few small days
    driver = StepDriver(churn_config(dataset={**base["dataset"], **dataset}, expectations=small), s3.client())
    write_days(driver.client, driver.config.dataset, _unlabelled, first_day=FIRST_DAY, days=DAYS, rows_per_day=ROWS)
    return driver


def test_missing_labels_fail_validate_raw_with_a_report(s3: Any) -> None:
    driver = _driver(s3)
    run = driver.context(FIRST_DAY.replace(day=1 + DAYS))
    ingested = ingest(run)
    assert "target_nulls_dropped" not in ingested.to_xcom()

    with pytest.raises(GateFailure) as info:
        validate_raw(run, ingested)

    message = str(info.value)
    assert "expect_column_values_to_not_be_null(column='churned')" in message
    assert f"{DAYS * UNLABELLED_PER_DAY} unexpected values" in message
    report = run.store.read_json(run.stage_key("gates", "validate_raw.json"))
    (failed,) = [e for e in report["expectations"] if not e["success"]]
    assert failed["kwargs"]["column"] == "churned"
    assert failed["unexpected_count"] == DAYS * UNLABELLED_PER_DAY
    assert info.value.summary["report_uri"].endswith("/gates/validate_raw.json")


def test_target_nulls_drop_drops_and_counts_unlabelled_rows(s3: Any) -> None:
    driver = _driver(s3, target_nulls="drop")
    run = driver.context(FIRST_DAY.replace(day=1 + DAYS))

    ingested = ingest(run)

    dropped = DAYS * UNLABELLED_PER_DAY
    assert ingested.target_nulls_dropped == dropped
    assert ingested.rows == DAYS * ROWS - dropped
    assert f"({dropped} rows without a label dropped)" in ingested.to_xcom()["summary"]
    raw = read_frame(run.store, ingested.ref("raw"))
    assert len(raw) == DAYS * ROWS - dropped
    assert not raw["churned"].isna().any()
    manifest = run.store.read_json(run.stage_key("ingest", "manifest.json"))
    assert manifest["target_nulls_dropped"] == dropped

    gate = validate_raw(run, ingested)
    assert gate.success is True
    assert any(f"{dropped} rows without a label" in note for note in gate.notes)
    features = build_features(run, ingested)
    assert sum(features.rows.values()) == DAYS * ROWS - dropped
