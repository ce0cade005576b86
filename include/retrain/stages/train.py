"""Train: build the configured estimator and fit it; the model is transformer + estimator."""

from __future__ import annotations

import importlib
import inspect
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

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
        # sklearn has no public way to check params without fitting; _validate_params (1.2+) is
        # what fit calls first. Pinned for every allowlisted estimator by
        # tests/unit/stages/test_train.py::test_every_allowlisted_estimator_refuses_a_bad_param_before_fit.
        estimator._validate_params()
    except (ValueError, TypeError) as exc:
        raise InvalidRunOptions(f"model.params are invalid for {model.estimator}: {exc}") from exc
    return estimator


@dataclass(frozen=True)
class FitOrder:
    """How the training matrix is laid out for fitting (see :func:`fit_order`).

    ``rows``: the stored rows in this order (None: as stored); the last ``validation`` of them are
    the rows the estimator holds out for early stopping (0: none).
    """

    rows: np.ndarray | None = None
    validation: int = 0


#: HistGradientBoosting with ``early_stopping="auto"`` stops early above this many rows.
_AUTO_EARLY_STOPPING_ROWS = 10_000


def fit_order(model: ModelConfig, target: np.ndarray, overrides: Mapping[str, Any] | None = None) -> FitOrder:
    """The early-stopping split ``fit(X, target)`` of the configured estimator would make, made before X exists.

    HistGradientBoosting with early stopping holds out ``validation_fraction`` of the rows by
    copying X's rows into a training and a validation array, while X itself stays alive: the
    float64 matrix is in memory twice for the whole fit (at 8M rows, 2 x 700 MiB). The split
    depends only on the target and the seed, so it is made here the same way (stratified for a
    classifier, with the seed fit draws from ``random_state``); a matrix read in this order is
    then fitted on two views of one array (:func:`train_model`). The model is the same (tests
    compare every fitted attribute). ``FitOrder()`` when the estimator makes no such split or
    the split cannot be reproduced exactly: then it fits as usual.
    """
    estimator = make_estimator(model, overrides)
    if not isinstance(estimator, HistGradientBoostingClassifier | HistGradientBoostingRegressor):
        return FitOrder()
    params = estimator.get_params()
    early_stopping = params["early_stopping"] is True or (
        params["early_stopping"] == "auto" and len(target) > _AUTO_EARLY_STOPPING_ROWS
    )
    reproducible = (
        isinstance(params["random_state"], numbers.Integral)  # not None or a RandomState: fit draws anew
        and params.get("class_weight") is None  # weights from all rows
        and params["categorical_features"] in ("from_dtype", None)  # categories from all rows
    )
    if not early_stopping or params["validation_fraction"] is None or not reproducible:
        return FitOrder()
    seed = check_random_state(params["random_state"]).randint(np.iinfo(np.uint32).max, dtype="u8")
    classifier = is_classifier(estimator)
    try:
        train, validation = train_test_split(
            np.arange(len(target)),
            test_size=params["validation_fraction"],
            stratify=target if classifier else None,
            random_state=seed,
        )
    except ValueError:  # e.g. a class of one row: fit raises the same error itself
        return FitOrder()
    if params["early_stopping"] == "auto" and len(train) <= _AUTO_EARLY_STOPPING_ROWS:
        return FitOrder()  # fit on the training rows alone would not stop early
    if classifier and len(pd.unique(target[train])) != len(pd.unique(target)):
        return FitOrder()  # fit would learn its classes from every row
    return FitOrder(rows=np.concatenate([train, validation]), validation=len(validation))


def train_model(
    features_matrix: pd.DataFrame,
    target: np.ndarray,
    model: ModelConfig,
    overrides: Mapping[str, Any] | None = None,
    validation_rows: int = 0,
) -> BaseEstimator:
    """Fit the estimator on the training feature matrix (deterministic for a fixed seed).

    With ``validation_rows`` (from :func:`fit_order`, the matrix laid out in its order), the
    last rows are passed as the early-stopping validation set: views, not copies.
    """
    estimator = make_estimator(model, overrides)
    if validation_rows:
        cut = len(features_matrix) - validation_rows
        estimator.fit(features_matrix.iloc[:cut], target[:cut], X_val=features_matrix.iloc[cut:], y_val=target[cut:])
    else:
        estimator.fit(features_matrix, target)
    return estimator


def assemble_model(transformer: ColumnTransformer, estimator: BaseEstimator) -> Pipeline:
    """The registered model: the fitted transformer followed by the fitted estimator."""
    return Pipeline([("features", transformer), ("model", estimator)])


def check_model_params(model: ModelConfig, overrides: Mapping[str, Any]) -> None:
    """Refuse a ``model_params`` override the estimator does not accept, before any data is read.

    The Param schema checks types only (``max_iter: -5`` is an integer); without this the run would
    read, validate and transform the window and fail at ``train``.
    """
    try:
        make_estimator(model, overrides)
    except InvalidRunOptions as exc:
        raise InvalidRunOptions(f"param model_params: {exc}") from exc
