"""``train``: the estimator fitted on the training matrix, written with the transformer as one model."""

from __future__ import annotations

import time

from include.retrain.context import RunContext
from include.retrain.frames import local_copy, read_column, read_matrix_file, release_unused_memory
from include.retrain.layout import MODEL
from include.retrain.manifests import FeaturesManifest, TrainManifest
from include.retrain.modelio import dump_model, load_model
from include.retrain.stages.train import assemble_model, fit_order, train_model
from include.retrain.tasks.record import record


def train(run: RunContext, features: FeaturesManifest) -> TrainManifest:
    """Fit the estimator on the training matrix; write transformer + estimator as one model."""
    config = run.config
    target = config.dataset.target
    overrides = run.options.model_params
    with local_copy(run.store, features.ref("train")) as path:
        # Laid out as the estimator splits it for early stopping, so fit never copies the matrix.
        order = fit_order(config.model, read_column(path, target), overrides)
        release_unused_memory()  # the split's temporaries, before the matrix is allocated
        matrix, y = read_matrix_file(path, features.feature_columns, target, rows=order.rows)
        validation_rows = order.validation
        del order  # the row order (8 bytes a row) is not needed during the fit
    started = time.perf_counter()
    estimator = train_model(matrix, y, config.model, overrides, validation_rows=validation_rows)
    seconds = time.perf_counter() - started
    # Loaded after the fit: skops and the transformer would otherwise sit beside the fit's peak.
    transformer = load_model(run.store.get_bytes(features.ref("transformer")), source="feature transformer")
    model = assemble_model(transformer, estimator)
    ref = run.store.put_bytes(run.key(MODEL), dump_model(model))
    params = {k: v for k, v in estimator.get_params().items() if k in {*config.model.params, "random_state"}}
    manifest = TrainManifest(
        run=run.describe(),
        estimator=config.model.estimator,
        params=params,
        seed=config.model.seed,
        rows=len(matrix),
        train_seconds=round(seconds, 3),
        artifacts={"model": ref},
    )
    return record(run, manifest)
