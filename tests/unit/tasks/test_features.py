"""The ``build_features`` task body (``include.retrain.tasks.features``) against the loopback S3 endpoint.

``build_features`` reads only the columns it uses, builds each side's model input from the split's
row positions and fits the transformer branch by branch, to stay near one copy of the window in
memory. What it writes must be what the plain path computes from the whole raw frame: split the
frame, profile and convert each side, ``ColumnTransformer.fit``, transform.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from include.retrain.errors import DataFailure
from include.retrain.frames import read_frame, write_frame
from include.retrain.gates.profile import reference_profile
from include.retrain.manifests import StageManifest
from include.retrain.modelio import load_model
from include.retrain.promotion.scores import SEGMENT_COLUMN
from include.retrain.stages.feature_set import segment_labels
from include.retrain.stages.features import build_feature_transformer, target_values, to_model_input
from include.retrain.stages.split import split_holdout, split_rows
from include.retrain.storage import ArtifactRef
from include.retrain.tasks.features import build_features
from include.retrain.tasks.ingest import ingest
from tests.fitted import assert_same_fitted
from tests.step_driver import FIRST_DAY, StepDriver, churn_config


def artifact(manifest: StageManifest, name: str) -> ArtifactRef:
    return manifest.ref(name)


@pytest.mark.parametrize("strategy", ["hash", "random", "time"])
def test_build_features_writes_what_the_plain_path_computes(s3: Any, strategy: str) -> None:
    driver = StepDriver(churn_config(split={"strategy": strategy, "holdout_fraction": 0.25}), s3.client())
    driver.write_landing(7, rows_per_day=300)
    run = driver.context(FIRST_DAY.replace(day=8))
    ingested = ingest(run)
    features = build_features(run, ingested)

    config = run.config
    target = config.dataset.target
    raw = read_frame(run.store, artifact(ingested, "raw"))
    assert raw["monthly_charges"].isna().any()  # missing values reach both paths
    assert raw["region"].isna().any()
    split = split_holdout(
        raw,
        config.split,
        target=target,
        task=config.model.task,
        seed=config.model.seed,
        time_column=config.dataset.event_date_column or config.dataset.partition_column,
        id_column=config.dataset.id_column,
    )
    train_input = to_model_input(split.train, config.features)
    holdout_input = to_model_input(split.holdout, config.features)
    transformer = build_feature_transformer(config.features).fit(train_input)
    y_train = target_values(split.train, target, config.model.task)
    y_holdout = target_values(split.holdout, target, config.model.task)

    assert features.rows == {"train": len(split.train), "holdout": len(split.holdout)}
    assert features.feature_columns == list(transformer.get_feature_names_out())
    expected = {
        "train": transformer.transform(train_input).assign(**{target: y_train}),
        "holdout": transformer.transform(holdout_input).assign(**{target: y_holdout}),
    }
    for name, matrix in expected.items():
        pd.testing.assert_frame_equal(read_frame(run.store, artifact(features, name)), matrix)
    segments = segment_labels(split.holdout[config.expectations.model.segments.column])
    plain_input = holdout_input.assign(**{SEGMENT_COLUMN: segments, target: y_holdout})
    plain_ref = write_frame(run.store, run.store.key("plain", "holdout_input.parquet"), plain_input)
    assert artifact(features, "holdout_input").sha256 == plain_ref.sha256  # the same bytes
    assert_same_fitted(load_model(run.store.get_bytes(artifact(features, "transformer"))), transformer)
    profile = reference_profile(
        split.train,
        numeric=[*config.features.numeric, *config.features.passthrough],
        categorical=config.features.categorical,
        bins=config.expectations.drift.bins,
        target=split.train[target],
        task=config.model.task,
    )
    assert run.store.get_json(artifact(features, "reference_profile")) == json.loads(json.dumps(profile))


def test_build_features_without_an_id_column_splits_by_row_values(s3: Any) -> None:
    """A variant without ``id_column`` gets the hash split over each row's declared values."""
    raw_config = churn_config(split={"strategy": "hash", "holdout_fraction": 0.25}).model_dump(mode="json")
    raw_config["dataset"]["id_column"] = None
    config = type(churn_config()).model_validate(raw_config)
    driver = StepDriver(config, s3.client())
    driver.write_landing(7, rows_per_day=300)
    run = driver.context(FIRST_DAY.replace(day=8))
    ingested = ingest(run)
    features = build_features(run, ingested)

    raw = read_frame(run.store, artifact(ingested, "raw"))
    rows = split_rows(
        raw,
        config.split,
        target=config.dataset.target,
        task=config.model.task,
        seed=config.model.seed,
        time_column=config.dataset.partition_column,
        id_column=None,
        row_columns=config.dataset.row_identity_columns,
    )
    assert features.rows == {"train": len(rows.train), "holdout": len(rows.holdout)}
    holdout = read_frame(run.store, artifact(features, "holdout"))
    expected = raw[config.dataset.target].take(rows.holdout).reset_index(drop=True)
    assert holdout[config.dataset.target].tolist() == expected.tolist()


def test_a_categorical_with_too_many_values_fails_before_any_matrix_is_written(s3: Any) -> None:
    driver = StepDriver(churn_config(features={"max_categories": 3}), s3.client())
    driver.write_landing(3, rows_per_day=200)
    run = driver.context(FIRST_DAY.replace(day=4))
    ingested = ingest(run)

    with pytest.raises(DataFailure, match=r"'region' has 5 distinct values .* above features.max_categories \(3\)"):
        build_features(run, ingested)

    written = [key for key in run.store.list_keys("") if "/features/" in key]  # layout: runs/<key>/features/
    assert written == []
