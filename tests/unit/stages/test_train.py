"""Unit tests for ``include.retrain.stages.train``: estimator construction and fitting."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from dev.synthetic.churn import churn_day
from include.retrain.config import ESTIMATORS, ModelConfig, PipelineConfig, load_pipeline
from include.retrain.errors import InvalidRunOptions, PipelineFailure
from include.retrain.stages.features import build_feature_transformer, fit_features, target_values, to_model_input
from include.retrain.stages.ingest import assemble_window, coerce_to_schema
from include.retrain.stages.train import FitOrder, assemble_model, fit_order, make_estimator, train_model
from tests.fitted import assert_same_fitted

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"
FAST = {"max_iter": 20}


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_pipeline(CHURN_YAML)


@pytest.fixture(scope="module")
def window(config: PipelineConfig) -> pd.DataFrame:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(3)]
    raw = assemble_window([(day, churn_day(day, 300)) for day in days], config.dataset.partition_column)
    return coerce_to_schema(raw, config.dataset.columns)


class TestMakeEstimator:
    """make_estimator builds the allowlisted estimator with params, overrides and the seed."""

    def test_uses_config_params_and_seed(self, config: PipelineConfig) -> None:
        estimator = make_estimator(config.model)
        assert isinstance(estimator, HistGradientBoostingClassifier)
        assert estimator.random_state == config.model.seed == 42
        assert estimator.max_iter == 150
        assert estimator.learning_rate == 0.08
        assert estimator.max_leaf_nodes == 31

    def test_seed_follows_model_config(self, config: PipelineConfig) -> None:
        model = config.model.model_copy(update={"seed": 1234})
        assert make_estimator(model).random_state == 1234

    def test_overrides_apply_on_top_of_params(self, config: PipelineConfig) -> None:
        estimator = make_estimator(config.model, {"max_iter": 7, "learning_rate": 0.3})
        assert estimator.max_iter == 7
        assert estimator.learning_rate == 0.3
        assert estimator.max_leaf_nodes == 31
        assert config.model.params["max_iter"] == 150  # the config is not modified

    def test_estimator_without_random_state_gets_no_seed(self) -> None:
        estimator = make_estimator(ModelConfig(estimator="sklearn.linear_model.Ridge", params={"alpha": 2.0}))
        assert isinstance(estimator, Ridge)
        assert estimator.alpha == 2.0

    def test_other_allowlisted_estimator(self) -> None:
        model = ModelConfig(estimator="sklearn.ensemble.RandomForestRegressor", params={"n_estimators": 5}, seed=3)
        estimator = make_estimator(model)
        assert isinstance(estimator, RandomForestRegressor)
        assert (estimator.n_estimators, estimator.random_state) == (5, 3)

    def test_unknown_param_raises_naming_it(self, config: PipelineConfig) -> None:
        with pytest.raises(InvalidRunOptions, match="bogus_knob") as excinfo:
            make_estimator(config.model, {"bogus_knob": 1})
        assert "HistGradientBoostingClassifier" in str(excinfo.value)
        assert isinstance(excinfo.value, PipelineFailure)

    def test_unknown_param_in_config_raises(self) -> None:
        model = ModelConfig(estimator="sklearn.linear_model.Ridge", params={"n_estimators": 10})
        with pytest.raises(InvalidRunOptions, match="n_estimators"):
            make_estimator(model)

    @pytest.mark.parametrize(
        ("overrides", "name"),
        [
            pytest.param({"learning_rate": -1}, "learning_rate", id="negative-learning-rate"),
            pytest.param({"max_iter": 0}, "max_iter", id="zero-max-iter"),
            pytest.param({"loss": "nonsense"}, "loss", id="unknown-loss"),
            pytest.param({"max_leaf_nodes": "many"}, "max_leaf_nodes", id="wrong-type"),
        ],
    )
    def test_invalid_value_raises(self, config: PipelineConfig, overrides: dict, name: str) -> None:
        with pytest.raises(InvalidRunOptions, match=name):
            make_estimator(config.model, overrides)


#: A value each allowlisted estimator's own parameter constraints refuse (a new estimator needs one).
BAD_PARAM = {
    "sklearn.ensemble.HistGradientBoostingClassifier": {"max_iter": 0},
    "sklearn.ensemble.HistGradientBoostingRegressor": {"max_iter": 0},
    "sklearn.ensemble.RandomForestClassifier": {"n_estimators": 0},
    "sklearn.ensemble.RandomForestRegressor": {"n_estimators": 0},
    "sklearn.linear_model.LogisticRegression": {"C": -1.0},
    "sklearn.linear_model.Ridge": {"alpha": -1.0},
}


@pytest.mark.parametrize("estimator", sorted(ESTIMATORS))
def test_every_allowlisted_estimator_refuses_a_bad_param_before_fit(estimator: str) -> None:
    """make_estimator relies on sklearn's private ``_validate_params`` (there is no public check
    short of fitting): if an sklearn upgrade drops or renames it, this fails for every estimator
    instead of a bad Param surfacing in the middle of train."""
    (name,) = BAD_PARAM[estimator]
    with pytest.raises(InvalidRunOptions, match=rf"model\.params are invalid for {estimator}: .*'{name}'"):
        make_estimator(ModelConfig(estimator=estimator), BAD_PARAM[estimator])


class TestTrainModel:
    """train_model is deterministic; assemble_model scores raw model input."""

    @pytest.fixture(scope="class")
    def fitted(self, window: pd.DataFrame, config: PipelineConfig):
        model_input = to_model_input(window, config.features)
        transformer = build_feature_transformer(config.features)
        matrix = fit_features(transformer, model_input)
        y = target_values(window, config.dataset.target, config.model.task)
        return model_input, transformer, matrix, y

    def test_training_is_deterministic(self, fitted, config: PipelineConfig) -> None:
        _, _, matrix, y = fitted
        first = train_model(matrix, y, config.model, FAST)
        second = train_model(matrix, y, config.model, FAST)
        assert first.n_iter_ == second.n_iter_ == 20
        np.testing.assert_array_equal(first.predict_proba(matrix), second.predict_proba(matrix))

    def test_training_learns_signal(self, fitted, config: PipelineConfig) -> None:
        _, _, matrix, y = fitted
        estimator = train_model(matrix, y, config.model, FAST)
        assert list(estimator.classes_) == [0, 1]
        assert estimator.score(matrix, y) > max(y.mean(), 1 - y.mean())

    def test_different_seed_changes_the_model(self, fitted, config: PipelineConfig) -> None:
        _, _, matrix, y = fitted
        model = config.model.model_copy(update={"seed": 1})
        overrides = {**FAST, "early_stopping": True, "validation_fraction": 0.2}
        first = train_model(matrix, y, config.model, overrides)
        second = train_model(matrix, y, model, overrides)
        assert not np.array_equal(first.predict_proba(matrix), second.predict_proba(matrix))

    def test_assembled_model_predicts_from_raw_model_input(self, fitted, window, config: PipelineConfig) -> None:
        _, transformer, matrix, y = fitted
        estimator = train_model(matrix, y, config.model, FAST)
        model = assemble_model(transformer, estimator)
        assert isinstance(model, Pipeline)
        assert [name for name, _ in model.steps] == ["features", "model"]
        holdout_input = to_model_input(window.tail(50), config.features)
        np.testing.assert_array_equal(
            model.predict_proba(holdout_input), estimator.predict_proba(matrix.tail(50).reset_index(drop=True))
        )
        assert list(model.classes_) == [0, 1]


class TestFitOrder:
    """fit_order makes HistGradientBoosting's early-stopping split before the matrix exists; the model is the same."""

    ROWS = 12_000  # above the 10,000 rows from which early_stopping="auto" splits

    @pytest.fixture(scope="class")
    def data(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(5)
        values = rng.normal(size=(self.ROWS, 4))
        values[::37, 1] = np.nan
        labels = (values[:, 0] + rng.normal(size=self.ROWS) > 0.4).astype("int64")
        matrix = pd.DataFrame(values, columns=["a", "b", "c", "d"])
        return matrix, labels, np.nan_to_num(values[:, 0]) * 3 + rng.normal(size=self.ROWS)

    @staticmethod
    def ordered(matrix: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
        """The matrix laid out as read_matrix_file lays it out for these rows: one row-major float64 block."""
        return pd.DataFrame(np.ascontiguousarray(matrix.to_numpy()[rows]), columns=matrix.columns, copy=False)

    @pytest.mark.parametrize(
        ("estimator", "params"),
        [
            ("HistGradientBoostingClassifier", {}),
            ("HistGradientBoostingClassifier", {"validation_fraction": 1500, "scoring": "roc_auc"}),
            ("HistGradientBoostingRegressor", {}),
        ],
        ids=["classifier", "classifier-rows-and-scorer", "regressor"],
    )
    def test_same_model_as_fit_on_the_whole_matrix(self, data, estimator: str, params: dict) -> None:
        matrix, labels, values = data
        target = values if estimator.endswith("Regressor") else labels
        model = ModelConfig(estimator=f"sklearn.ensemble.{estimator}", params={"max_iter": 8, **params}, seed=3)
        order = fit_order(model, target)
        assert order.rows is not None
        assert sorted(order.rows) == list(range(self.ROWS))
        lean = train_model(
            self.ordered(matrix, order.rows), target[order.rows], model, validation_rows=order.validation
        )
        plain = train_model(matrix, target, model)
        assert plain.do_early_stopping_
        assert_same_fitted(lean, plain)
        np.testing.assert_array_equal(lean.predict(matrix), plain.predict(matrix))

    def test_explicit_early_stopping_on_few_rows(self, data) -> None:
        matrix, labels, _ = data
        model = ModelConfig(estimator="sklearn.ensemble.HistGradientBoostingClassifier", params={"max_iter": 5}, seed=3)
        overrides = {"early_stopping": True, "validation_fraction": 0.25}
        order = fit_order(model, labels[:800], overrides)
        assert order.validation == 200
        lean = train_model(
            self.ordered(matrix.iloc[:800], order.rows), labels[:800][order.rows], model, overrides, order.validation
        )
        assert_same_fitted(lean, train_model(matrix.iloc[:800], labels[:800], model, overrides))

    @pytest.mark.parametrize(
        ("estimator", "overrides", "rows"),
        [
            ("RandomForestClassifier", {"n_estimators": 2}, ROWS),
            ("HistGradientBoostingClassifier", {"early_stopping": False}, ROWS),
            ("HistGradientBoostingClassifier", {"validation_fraction": None}, ROWS),
            ("HistGradientBoostingClassifier", {}, 10_000),  # "auto" does not stop early
            ("HistGradientBoostingClassifier", {}, 10_500),  # "auto" would not on the training rows alone
            ("HistGradientBoostingClassifier", {"random_state": None}, ROWS),
            ("HistGradientBoostingClassifier", {"class_weight": "balanced"}, ROWS),
            ("HistGradientBoostingClassifier", {"categorical_features": [0]}, ROWS),
        ],
        ids=[
            "other-estimator",
            "no-early-stopping",
            "no-validation-fraction",
            "auto-on-few-rows",
            "auto-on-few-training-rows",
            "no-seed",
            "class-weights",
            "categorical-features",
        ],
    )
    def test_no_order_when_fit_splits_nothing_or_differently(self, data, estimator: str, overrides: dict, rows: int):
        _, labels, _ = data
        model = ModelConfig(estimator=f"sklearn.ensemble.{estimator}", seed=3)
        assert fit_order(model, labels[:rows], overrides) == FitOrder()

    def test_no_order_when_the_split_would_fail_or_lose_a_class(self) -> None:
        model = ModelConfig(estimator="sklearn.ensemble.HistGradientBoostingClassifier", seed=3)
        lonely = np.array([0, 1] * 300 + [2])  # a class of one row: fit raises its own error
        assert fit_order(model, lonely, {"early_stopping": True}) == FitOrder()
        rare = np.array([0, 1] * 300 + [2, 2])  # both rows of class 2 held out: fit learns classes from all rows
        assert fit_order(model, rare, {"early_stopping": True, "validation_fraction": 0.9}) == FitOrder()
