"""Train: build the configured estimator and fit it; the model is transformer + estimator."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from include.retrain.config import ESTIMATORS, ModelConfig
from include.retrain.errors import InvalidRunOptions


def make_estimator(model: ModelConfig, overrides: Mapping[str, Any] | None = None) -> BaseEstimator:
    """Instantiate the allowlisted estimator with its params, overrides and the seed.

    Unknown or invalid parameters raise InvalidRunOptions naming them (a config or Param
    problem that no retry can fix).
    """
    if model.estimator not in ESTIMATORS:  # config validation already refuses it; belt and braces
        raise InvalidRunOptions(f"estimator {model.estimator!r} is not allowlisted")
    module_name, class_name = model.estimator.rsplit(".", 1)
    estimator_class = getattr(importlib.import_module(module_name), class_name)
    params = {**model.params, **(overrides or {})}
    accepted = set(inspect.signature(estimator_class).parameters)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise InvalidRunOptions(f"model.params: {unknown} are not parameters of {model.estimator}")
    if "random_state" in accepted:
        params.setdefault("random_state", model.seed)
    estimator = estimator_class(**params)
    try:
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        raise InvalidRunOptions(f"model.params are invalid for {model.estimator}: {exc}") from exc
    return estimator


def train_model(
    features_matrix: pd.DataFrame, target: np.ndarray, model: ModelConfig, overrides: Mapping[str, Any] | None = None
) -> BaseEstimator:
    """Fit the estimator on the training feature matrix (deterministic for a fixed seed)."""
    estimator = make_estimator(model, overrides)
    estimator.fit(features_matrix, target)
    return estimator


def assemble_model(transformer: ColumnTransformer, estimator: BaseEstimator) -> Pipeline:
    """The registered model: the fitted transformer followed by the fitted estimator."""
    return Pipeline([("features", transformer), ("model", estimator)])
