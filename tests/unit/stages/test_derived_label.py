"""A label derived in config (``dataset.label``): ingest adds it, and every later step reads it as the target.

``derive_label`` is pure; the task-body tests run ``ingest``, ``validate_raw`` (real GX) and
``build_features`` against the loopback S3 on data generated from the flights variant's schema.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from dev.synthetic import SchemaGenerator
from dev.synthetic.landing import write_days
from include.retrain.config import PipelineConfig
from include.retrain.errors import DataFailure, GateFailure
from include.retrain.frames import read_frame
from include.retrain.stages.ingest import coerce_to_schema
from include.retrain.stages.labels import derive_label
from include.retrain.tasks.features import build_features
from include.retrain.tasks.gates import validate_raw
from include.retrain.tasks.ingest import ingest
from tests.e2e.flights_variant import FLIGHTS_YAML
from tests.step_driver import FIRST_DAY, StepDriver

DAYS, ROWS = 4, 150


def flights(**dataset: Any) -> PipelineConfig:
    raw = yaml.safe_load(FLIGHTS_YAML)
    raw["dataset"].update(dataset)
    return PipelineConfig.model_validate(raw)


def derived(config: PipelineConfig, frame: pd.DataFrame) -> pd.Series:
    return derive_label(coerce_to_schema(frame, config.dataset.columns), config.dataset)["late"]


class TestDeriveLabel:
    def test_greater_than_with_missing_source_values(self) -> None:
        frame = pd.DataFrame({"arr_delay": ["-3", "15", "15.5", None, "240"]})

        late = derived(flights(), frame)

        assert str(late.dtype) == "boolean"
        assert late.tolist() == [False, False, True, pd.NA, True]

    @pytest.mark.parametrize(
        ("label", "column", "values", "expected"),
        [
            ({"less_than": 0}, "arr_delay", ["-1", "0", None], [True, False, pd.NA]),
            ({"equals": 2}, "seats_sold", ["2", "3", None], [True, False, pd.NA]),
            ({"equals": "Yes"}, "red_eye", ["Yes", "No", None], [True, False, pd.NA]),
            ({"in_set": ["AA", "UA"]}, "carrier", ["AA", "DL", "UA"], [True, False, True]),
        ],
        ids=["less_than-float", "equals-int", "equals-text", "in_set-category"],
    )
    def test_each_rule(self, label: dict[str, Any], column: str, values: list[Any], expected: list[Any]) -> None:
        raw = yaml.safe_load(FLIGHTS_YAML)
        raw["dataset"]["label"] = {"column": column, **label}
        raw["features"]["numeric"] = [c for c in raw["features"]["numeric"] if c != column]
        raw["features"]["categorical"] = [c for c in raw["features"]["categorical"] if c != column]
        config = PipelineConfig.model_validate(raw)

        assert derived(config, pd.DataFrame({column: values})).tolist() == expected

    def test_a_source_of_the_wrong_type_gives_no_label_for_the_raw_gate_to_name(self) -> None:
        frame = coerce_to_schema(pd.DataFrame({"arr_delay": ["late", "12"]}), flights().dataset.columns)

        assert "late" not in derive_label(frame, flights().dataset).columns

    def test_a_landing_column_named_like_the_label_is_refused(self) -> None:
        frame = pd.DataFrame({"arr_delay": [3.0], "late": [True]})

        with pytest.raises(DataFailure, match="the landing data has a column 'late', the name of the label"):
            derive_label(frame, flights().dataset)

    def test_no_label_config_leaves_the_frame_alone(self) -> None:
        raw = yaml.safe_load(FLIGHTS_YAML)
        raw["dataset"]["columns"]["late"] = {"type": "bool"}
        del raw["dataset"]["label"]
        config = PipelineConfig.model_validate(raw)
        frame = pd.DataFrame({"arr_delay": [30.0], "late": [False]})

        assert derive_label(frame, config.dataset) is frame


def _driver(s3: Any, config: PipelineConfig, tmp_path: Path) -> StepDriver:
    driver = StepDriver(config, s3.client())
    s3.create_buckets({config.dataset.bucket, config.storage.bucket})
    write_days(
        driver.client, config.dataset, SchemaGenerator(config), first_day=FIRST_DAY, days=DAYS, rows_per_day=ROWS
    )
    return driver


def test_a_missing_source_value_is_a_missing_label_at_validate_raw(s3: Any, tmp_path: Path) -> None:
    # target_nulls: fail (the default) and nulls allowed in arr_delay: a flight without a delay has no label
    config = flights(target_nulls="fail")
    driver = _driver(s3, config, tmp_path)
    generated = SchemaGenerator(config)(FIRST_DAY, ROWS)
    assert not generated["arr_delay"].isna().any()  # the generator keeps labels known for a `fail` variant
    blank = generated.assign(arr_delay=generated["arr_delay"].where(generated.index % 10 != 0))
    write_days(driver.client, config.dataset, lambda day, rows: blank, first_day=FIRST_DAY, days=1, rows_per_day=ROWS)
    run = driver.context(FIRST_DAY + timedelta(days=DAYS))
    ingested = ingest(run)

    with pytest.raises(GateFailure) as info:
        validate_raw(run, ingested)

    assert "expect_column_values_to_not_be_null(column='late')" in str(info.value)
    report = run.store.read_json(run.stage_key("gates", "validate_raw.json"))
    (failed,) = [e for e in report["expectations"] if not e["success"]]
    assert failed["kwargs"]["column"] == "late"
    assert failed["unexpected_count"] == ROWS // 10


def test_the_derived_label_is_the_target_of_the_raw_window_the_split_and_the_matrices(s3: Any, tmp_path: Path) -> None:
    config = flights()  # target_nulls: drop
    driver = _driver(s3, config, tmp_path)
    run = driver.context(FIRST_DAY + timedelta(days=DAYS))

    ingested = ingest(run)
    gate = validate_raw(run, ingested)
    features = build_features(run, ingested)

    raw = read_frame(run.store, ingested.ref("raw"))
    assert str(raw["late"].dtype) == "boolean"
    assert (raw["late"] == (raw["arr_delay"] > 15)).all()
    assert ingested.target_nulls_dropped == DAYS * ROWS - len(raw)
    assert gate.success is True
    assert any("rows without a label ('late' missing) were dropped" in note for note in gate.notes)
    assert "arr_delay" not in features.feature_columns
    train = read_frame(run.store, features.ref("train"))
    assert set(train["late"].unique()) == {0, 1}
    profile = run.store.read_json(run.stage_key("features", "reference_profile.json"))
    assert profile["target"]["column"] == "late"
    assert 0.3 < profile["target"]["shares"]["True"] < 0.6  # the generator's learnable label, about 45% late
