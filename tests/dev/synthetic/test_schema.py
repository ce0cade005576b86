"""``SchemaGenerator``: landing data for any variant from its YAML schema alone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score

from dev.synthetic import GENERATORS, SchemaGenerator, generator_for, rows_per_day
from include.retrain.config import PipelineConfig, load_pipeline
from include.retrain.stages.ingest import coerce_to_schema

PIPELINES = Path(__file__).resolve().parents[3] / "include" / "pipelines"
DAY = date(2026, 2, 10)


def shipped(variant: str, dataset: str) -> PipelineConfig:
    """A shipped variant whose dataset is renamed, so no hand-written generator applies."""
    raw = yaml.safe_load((PIPELINES / f"{variant}.yaml").read_text())
    raw["dataset"]["name"] = dataset
    return PipelineConfig.model_validate(raw)


def test_generator_for_keeps_hand_written_generators_and_derives_the_rest() -> None:
    assert generator_for(load_pipeline(PIPELINES / "churn.yaml")) is GENERATORS["churn"]
    assert isinstance(generator_for(shipped("churn", "customers")), SchemaGenerator)


@pytest.mark.parametrize("name", ["churn", "demand"])
def test_values_stay_inside_the_declared_domain(name: str) -> None:
    config = shipped(name, f"{name}_copy")
    frame = SchemaGenerator(config)(DAY, 3000)

    assert list(frame.columns) == list(config.dataset.columns)
    # ingest's coercion leaves every dtype as generated
    assert dict(coerce_to_schema(frame, config.dataset.columns).dtypes) == dict(frame.dtypes)
    for column, spec in config.dataset.columns.items():
        values = frame[column].dropna()
        if isinstance(spec.min, float):
            assert (values >= spec.min).all(), column
        if isinstance(spec.max, float):
            assert (values <= spec.max).all(), column
        if spec.values is not None:
            assert set(values) <= set(spec.values), column
        assert frame[column].isna().mean() <= spec.max_null_fraction, column
    assert frame[config.dataset.id_column].is_unique


def test_the_target_is_learnable_but_no_feature_gives_it_away() -> None:
    config = shipped("churn", "customers")
    generator = SchemaGenerator(config)
    train, test = generator(DAY, 4000), generator(date(2026, 2, 11), 2000)
    features = ["tenure_months", "monthly_charges", "support_calls"]

    def matrix(frame: pd.DataFrame) -> np.ndarray:
        numeric = frame[features].astype("float64").fillna(0.0)
        dummies = pd.get_dummies(frame[["plan", "region"]].astype("object"), dtype="float64")
        return pd.concat([numeric, dummies], axis=1).reindex(columns=sorted({*numeric, *dummies}), fill_value=0.0)

    model = LogisticRegression(max_iter=2000).fit(matrix(train), train["churned"].astype(int))
    auc = roc_auc_score(
        test["churned"].astype(int),
        model.predict_proba(matrix(test).reindex(columns=matrix(train).columns, fill_value=0.0))[:, 1],
    )
    assert auc > 0.8
    for feature in features:
        single = roc_auc_score(test["churned"].astype(int), test[feature].astype("float64").fillna(0.0))
        assert max(single, 1 - single) < 0.95, feature
    assert 0.35 < train["churned"].mean() < 0.55


def test_a_regression_target_stays_well_inside_an_rmse_threshold() -> None:
    config = shipped("demand", "sales")
    generator = SchemaGenerator(config)
    train, test = generator(DAY, 4000), generator(date(2026, 2, 11), 2000)
    numeric = ["price", "temperature_c", "day_of_week"]

    def matrix(frame: pd.DataFrame) -> pd.DataFrame:
        encoded = pd.get_dummies(frame[["store_id", "product_family"]].astype("object"), dtype="float64")
        return pd.concat(
            [frame[numeric].astype("float64").fillna(0.0), frame[["promo"]].astype("float64"), encoded], axis=1
        )

    model = Ridge().fit(matrix(train), train["units_sold"])
    rmse = float(
        np.sqrt(
            np.mean(
                (
                    model.predict(matrix(test).reindex(columns=matrix(train).columns, fill_value=0.0))
                    - test["units_sold"]
                )
                ** 2
            )
        )
    )
    assert rmse < config.promotion.threshold


def test_deterministic_and_different_per_day() -> None:
    config = shipped("churn", "customers")
    pd.testing.assert_frame_equal(SchemaGenerator(config)(DAY, 200), SchemaGenerator(config)(DAY, 200))
    assert not SchemaGenerator(config)(DAY, 200)["tenure_months"].equals(
        SchemaGenerator(config)(date(2026, 2, 11), 200)["tenure_months"]
    )


def test_rows_per_day_covers_the_gates() -> None:
    config = shipped("churn", "customers")
    assert rows_per_day(config, 10) * config.window.days >= config.expectations.raw.min_rows
    assert rows_per_day(config, 600) == 600


def test_make_airflow_seeds_a_yaml_only_variant(local_s3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dev.seed_landing import seed
    from tests.e2e.telco_variant import write_telco_yaml

    write_telco_yaml(tmp_path)
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    client = local_s3.client()

    [seeded] = seed(client, last_day=DAY, days=3, rows_per_day=20)

    assert seeded.pipelines == ("telco",)
    keys = [item["Key"] for item in client.list_objects_v2(Bucket="retrain-landing", Prefix="telco/")["Contents"]]
    assert keys == [f"telco/ds=2026-02-{day:02d}/part-0.csv" for day in (8, 9, 10)]


def test_a_derived_label_is_learnable_from_the_features_and_its_date_parts(tmp_path: Path) -> None:
    from include.retrain.stages.dates import with_date_parts
    from include.retrain.stages.labels import derive_label
    from tests.e2e.flights_variant import write_flights_yaml

    config = load_pipeline(write_flights_yaml(tmp_path))
    frame = SchemaGenerator(config)(DAY, 4000)

    assert list(frame.columns) == list(config.dataset.columns)  # the label is no landing column
    late = derive_label(coerce_to_schema(frame, config.dataset.columns), config.dataset)["late"]
    known = late.notna().to_numpy()
    assert 0.0 < 1 - known.mean() <= 0.1  # arr_delay's nulls (max_null_fraction 0.1): labels not known yet
    assert 0.35 < late[known].mean() < 0.55
    assert frame["arr_delay"].dropna().between(-60, 600).all()
    parts = with_date_parts(frame, config.features)[config.features.date_part_columns].to_numpy()
    numeric = frame[["seats_sold", "distance"]].astype("float64").fillna(0).to_numpy()
    text = pd.get_dummies(frame[["carrier", "red_eye"]].astype("str")).to_numpy(dtype=float)
    y = late[known].to_numpy(dtype=bool)

    def auc(x: np.ndarray) -> float:
        x = (x[known] - x[known].mean(0)) / (x[known].std(0) + 1e-9)
        return float(roc_auc_score(y, LogisticRegression(max_iter=2000).fit(x, y).decision_function(x)))

    with_parts, without = auc(np.hstack([numeric, text, parts])), auc(np.hstack([numeric, text]))
    assert with_parts > 0.8
    assert with_parts > without + 0.03  # the date parts (month, weekday, weekend, hour) carry part of the signal


def test_a_variant_that_refuses_missing_labels_gets_no_missing_source_values(tmp_path: Path) -> None:
    from tests.e2e.flights_variant import FLIGHTS_YAML

    raw = yaml.safe_load(FLIGHTS_YAML)
    raw["dataset"]["target_nulls"] = "fail"
    frame = SchemaGenerator(PipelineConfig.model_validate(raw))(DAY, 3000)

    assert not frame["arr_delay"].isna().any()
    assert frame["seats_sold"].isna().any()  # other nullable columns keep their nulls
