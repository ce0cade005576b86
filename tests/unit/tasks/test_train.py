"""The ``train`` task body (``include.retrain.tasks.train``) against the loopback S3 endpoint.

``train`` reads the matrix in the order of the estimator's early-stopping split; its model must be
the one fitted on the matrix as stored.
"""

from __future__ import annotations

from typing import Any

from include.retrain.frames import local_copy, read_matrix_file
from include.retrain.manifests import StageManifest
from include.retrain.modelio import load_model
from include.retrain.stages.train import assemble_model, train_model
from include.retrain.storage import ArtifactRef
from include.retrain.tasks.features import build_features
from include.retrain.tasks.ingest import ingest
from include.retrain.tasks.train import train
from tests.fitted import assert_same_fitted
from tests.step_driver import FIRST_DAY, StepDriver, churn_config


def artifact(manifest: StageManifest, name: str) -> ArtifactRef:
    return manifest.ref(name)


def test_train_fits_the_model_the_stored_matrix_gives(s3: Any) -> None:
    driver = StepDriver(churn_config(), s3.client())
    driver.write_landing(7, rows_per_day=2000)  # about 11,200 training rows: early stopping splits
    params = {"model_params": {"max_iter": 6}}
    run = driver.context(FIRST_DAY.replace(day=8), params)
    features = build_features(run, ingest(run))
    trained = train(run, features)

    target = run.config.dataset.target
    with local_copy(run.store, artifact(features, "train")) as path:
        matrix, y = read_matrix_file(path, features.feature_columns, target)
    estimator = train_model(matrix, y, run.config.model, params["model_params"])
    assert estimator.do_early_stopping_
    transformer = load_model(run.store.get_bytes(artifact(features, "transformer")))
    model = load_model(run.store.get_bytes(artifact(trained, "model")))
    assert_same_fitted(model, assemble_model(transformer, estimator))
    assert trained.rows == len(y)
