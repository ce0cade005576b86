"""``build_features``: the train and holdout matrices, holdout input, transformer and reference profile."""

from __future__ import annotations

from include.retrain.context import RunContext
from include.retrain.frames import read_frame, write_frame, write_frames
from include.retrain.layout import HOLDOUT_INPUT, HOLDOUT_MATRIX, REFERENCE_PROFILE, TRAIN_MATRIX, TRANSFORMER
from include.retrain.manifests import FeaturesManifest, IngestManifest
from include.retrain.modelio import dump_model
from include.retrain.stages.feature_set import build_feature_set
from include.retrain.tasks.record import record


def build_features(run: RunContext, ingested: IngestManifest) -> FeaturesManifest:
    """Split train/holdout, fit the feature transformer on train, write both matrices.

    Memory stays near one copy of the window (``stages.feature_set``): only the columns used are
    read, and each matrix is transformed and written a chunk of rows at a time.
    """
    feature_set = build_feature_set(
        lambda columns: read_frame(run.store, ingested.ref("raw"), columns=columns), run.config
    )
    outputs = {
        "train": write_frames(run.store, run.key(TRAIN_MATRIX), feature_set.matrix("train")),
        "holdout": write_frames(run.store, run.key(HOLDOUT_MATRIX), feature_set.matrix("holdout")),
    }
    feature_set.drop_train_input()
    outputs["holdout_input"] = write_frame(run.store, run.key(HOLDOUT_INPUT), feature_set.holdout_input())
    outputs["transformer"] = run.store.put_bytes(run.key(TRANSFORMER), dump_model(feature_set.transformer))
    outputs["reference_profile"] = run.store.put_json(run.key(REFERENCE_PROFILE), feature_set.profile)
    manifest = FeaturesManifest(
        run=run.describe(), rows=feature_set.rows, feature_columns=feature_set.feature_columns, artifacts=outputs
    )
    return record(run, manifest)
