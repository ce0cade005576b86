"""Unit tests for ``include.retrain.stages.evaluate``: holdout metrics and comparisons."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.dummy import DummyClassifier, DummyRegressor

from include.retrain.stages.evaluate import (
    Evaluation,
    classification_metrics,
    evaluate_model,
    improvement,
    is_better,
    outputs_from_columns,
    prediction_columns,
    regression_metrics,
    segment_metrics,
)


class TestClassificationMetrics:
    """Binary and multiclass metrics agree with sklearn; undefined ones are NaN."""

    Y = np.array([0, 0, 1, 1])
    P1 = np.array([0.1, 0.4, 0.35, 0.8])
    PROBS = np.column_stack([1 - P1, P1])
    CLASSES = np.array([0, 1])

    def test_binary_hand_checked(self) -> None:
        result = classification_metrics(self.Y, self.PROBS, self.CLASSES)
        # Predictions [0, 0, 0, 1]: 3 of 4 right; precision 1, recall 1/2.
        assert result["accuracy"] == pytest.approx(0.75)
        assert result["f1"] == pytest.approx(2 / 3)
        # Positive/negative pairs ranked right: (0.35 > 0.1), (0.8 > 0.1), (0.8 > 0.4); (0.35 < 0.4) wrong.
        assert result["roc_auc"] == pytest.approx(0.75)
        assert result["log_loss"] == pytest.approx(
            -np.mean(np.log([0.9, 0.6, 0.35, 0.8])),
        )

    def test_binary_matches_sklearn(self) -> None:
        result = classification_metrics(self.Y, self.PROBS, self.CLASSES)
        assert set(result) == {"accuracy", "f1", "roc_auc", "average_precision", "log_loss"}
        assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(self.Y, self.P1))
        assert result["average_precision"] == pytest.approx(skm.average_precision_score(self.Y, self.P1))
        assert result["log_loss"] == pytest.approx(skm.log_loss(self.Y, self.PROBS))
        assert result["f1"] == pytest.approx(skm.f1_score(self.Y, (self.P1 > 0.5).astype(int)))
        assert all(isinstance(v, float) for v in result.values())

    def test_binary_string_labels_use_second_class_as_positive(self) -> None:
        labels = np.array(["no", "yes"])
        result = classification_metrics(labels[self.Y], self.PROBS, labels)
        assert result["roc_auc"] == pytest.approx(0.75)
        assert result["f1"] == pytest.approx(2 / 3)

    def test_multiclass(self) -> None:
        y = np.array([0, 1, 2, 0, 1, 2, 2])
        probs = np.array(
            [
                [0.7, 0.2, 0.1],
                [0.2, 0.6, 0.2],
                [0.1, 0.2, 0.7],
                [0.3, 0.5, 0.2],
                [0.3, 0.4, 0.3],
                [0.2, 0.5, 0.3],
                [0.1, 0.1, 0.8],
            ]
        )
        classes = np.array([0, 1, 2])
        result = classification_metrics(y, probs, classes)
        predicted = probs.argmax(axis=1)
        assert result["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
        assert result["f1"] == pytest.approx(skm.f1_score(y, predicted, average="macro"))
        assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr", average="macro"))
        assert result["log_loss"] == pytest.approx(skm.log_loss(y, probs))
        assert all(math.isfinite(v) for v in result.values())

    def test_single_class_gives_nan_for_undefined_metrics(self) -> None:
        y = np.array([1, 1, 1])
        probs = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
        result = classification_metrics(y, probs, self.CLASSES)
        assert result["accuracy"] == pytest.approx(2 / 3)
        for name in ("roc_auc", "log_loss", "average_precision"):
            assert math.isnan(result[name]), name

    def test_multiclass_label_outside_model_classes_gives_nan(self) -> None:
        y = np.array([0, 1, 2, 3])
        probs = np.array([[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7], [0.1, 0.2, 0.7]])
        result = classification_metrics(y, probs, np.array([0, 1, 2]))
        assert result["accuracy"] == pytest.approx(0.75)
        for name in ("roc_auc", "log_loss", "average_precision"):
            assert math.isnan(result[name]), name

    def test_binary_label_outside_model_classes_gives_nan(self) -> None:
        """A holdout label the binary model never saw makes the ranking metrics undefined, not an error."""
        y = np.array([0, 1, 2])
        probs = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
        result = classification_metrics(y, probs, self.CLASSES)
        assert result["accuracy"] == pytest.approx(0.0)
        for name in ("roc_auc", "log_loss", "average_precision"):
            assert math.isnan(result[name]), name


class TestRegressionMetrics:
    """rmse, mae and r2 on a tiny example."""

    def test_tiny_example(self) -> None:
        result = regression_metrics(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 8.0]))
        assert result["rmse"] == pytest.approx(2.0)  # sqrt(16 / 4)
        assert result["mae"] == pytest.approx(1.0)  # 4 / 4
        assert result["r2"] == pytest.approx(1 - 16 / 5)  # 1 - SSE / SST
        assert all(isinstance(v, float) for v in result.values())

    def test_perfect_predictions(self) -> None:
        y = np.array([3.0, -1.0, 2.5])
        assert regression_metrics(y, y) == {"rmse": 0.0, "mae": 0.0, "r2": 1.0}


class TestEvaluateModel:
    """evaluate_model scores a fitted model with the metrics of its task."""

    def test_classifier_scores_are_positive_class_probabilities(self) -> None:
        x = np.zeros((8, 1))
        y = np.array([0, 1, 1, 1, 0, 1, 1, 1])
        model = DummyClassifier(strategy="prior").fit(x, y)
        evaluation = evaluate_model(model, x, y, "classification")
        np.testing.assert_allclose(evaluation.scores, np.full(8, 0.75))
        assert evaluation.score_std == 0.0
        assert evaluation.metrics["accuracy"] == pytest.approx(0.75)
        assert evaluation.metrics["roc_auc"] == pytest.approx(0.5)

    def test_outputs_survive_the_predictions_columns(self) -> None:
        """What predictions.parquet stores is enough to recompute every metric: probabilities per class."""
        x = np.arange(12.0).reshape(-1, 1)
        y = np.array(["a", "b", "c"] * 4)
        model = DummyClassifier(strategy="stratified", random_state=0).fit(x, y)
        evaluation = evaluate_model(model, x, y, "classification")

        columns = prediction_columns(evaluation, "champion_")

        assert sorted(columns) == ["champion_proba_0", "champion_proba_1", "champion_proba_2", "champion_score"]
        frame = pd.DataFrame(columns)
        np.testing.assert_array_equal(outputs_from_columns(frame, "champion_", evaluation.classes), evaluation.outputs)

    def test_regressor_outputs_are_the_score_column(self) -> None:
        x = np.zeros((4, 1))
        evaluation = evaluate_model(DummyRegressor().fit(x, [1.0, 2, 3, 6]), x, np.array([1.0, 2, 3, 6]), "regression")
        frame = pd.DataFrame(prediction_columns(evaluation))
        assert list(frame.columns) == ["score"]
        np.testing.assert_array_equal(outputs_from_columns(frame, "", None), evaluation.outputs)

    def test_regressor_scores_are_predictions(self) -> None:
        x = np.zeros((4, 1))
        y = np.array([1.0, 2.0, 3.0, 6.0])
        model = DummyRegressor(strategy="mean").fit(x, y)
        evaluation = evaluate_model(model, x, y, "regression")
        np.testing.assert_allclose(evaluation.scores, np.full(4, 3.0))
        assert evaluation.metrics["mae"] == pytest.approx(1.5)


class TestSegmentMetrics:
    """Per-segment metrics are the overall metrics computed on each segment's rows."""

    Y = np.array([0, 1, 0, 1, 0, 1, 1])
    P1 = np.array([0.2, 0.9, 0.6, 0.4, 0.1, 0.7, 0.8])
    SEGMENTS = np.array(["a", "a", "a", "a", "b", "b", "b"], dtype=object)

    def test_binary_classification(self) -> None:
        evaluation = Evaluation(
            metrics={}, scores=self.P1, outputs=np.column_stack([1 - self.P1, self.P1]), classes=np.array([0, 1])
        )
        result = segment_metrics(evaluation, self.Y, self.SEGMENTS)
        assert list(result) == ["a", "b"]
        assert result["a"]["rows"] == 4
        # a: positives 0.9, 0.4 against negatives 0.2, 0.6 -> 3 of 4 pairs ranked right
        assert result["a"]["metrics"]["roc_auc"] == pytest.approx(0.75)
        assert result["b"]["metrics"]["roc_auc"] == pytest.approx(1.0)
        expected = classification_metrics(self.Y[4:], evaluation.outputs[4:], np.array([0, 1]))
        assert result["b"]["metrics"] == pytest.approx(expected)

    def test_regression(self) -> None:
        predictions = np.array([1.0, 2.0, 3.0, 5.0])
        evaluation = Evaluation(metrics={}, scores=predictions, outputs=predictions)
        result = segment_metrics(evaluation, np.array([1.0, 2.0, 4.0, 5.0]), np.array(["x", "x", "y", "y"]))
        assert result["x"]["metrics"]["rmse"] == 0.0
        assert result["y"]["metrics"]["mae"] == pytest.approx(0.5)

    def test_single_class_segment_has_undefined_auc(self) -> None:
        evaluation = Evaluation(
            metrics={}, scores=self.P1, outputs=np.column_stack([1 - self.P1, self.P1]), classes=np.array([0, 1])
        )
        result = segment_metrics(evaluation, self.Y, np.array(["a", "b", "a", "b", "a", "b", "b"]))
        assert math.isnan(result["a"]["metrics"]["roc_auc"])  # a holds only negatives


class TestComparisons:
    """is_better and improvement respect the metric's direction and min_improvement."""

    @pytest.mark.parametrize(
        ("candidate", "reference", "metric", "min_improvement", "expected"),
        [
            pytest.param(0.8, 0.7, "roc_auc", 0.0, True, id="maximize-better"),
            pytest.param(0.7, 0.7, "roc_auc", 0.0, False, id="maximize-equal"),
            pytest.param(0.6, 0.7, "roc_auc", 0.0, False, id="maximize-worse"),
            pytest.param(0.74, 0.5, "r2", 0.25, False, id="maximize-short-of-min-improvement"),
            pytest.param(0.75, 0.5, "r2", 0.25, True, id="maximize-exactly-min-improvement"),
            pytest.param(1.0, 2.0, "rmse", 0.0, True, id="minimize-better"),
            pytest.param(2.0, 2.0, "rmse", 0.0, False, id="minimize-equal"),
            pytest.param(3.0, 2.0, "rmse", 0.0, False, id="minimize-worse"),
            pytest.param(1.75, 2.0, "mae", 0.5, False, id="minimize-short-of-min-improvement"),
            pytest.param(1.5, 2.0, "mae", 0.5, True, id="minimize-exactly-min-improvement"),
            pytest.param(0.3, 0.5, "log_loss", 0.0, True, id="log-loss-is-minimized"),
        ],
    )
    def test_is_better(
        self, candidate: float, reference: float, metric: str, min_improvement: float, expected: bool
    ) -> None:
        assert is_better(candidate, reference, metric, min_improvement) is expected

    def test_nan_is_never_better(self) -> None:
        assert not is_better(float("nan"), 0.5, "roc_auc")
        assert not is_better(float("nan"), 0.5, "rmse")

    @pytest.mark.parametrize(
        ("candidate", "reference", "metric", "expected"),
        [
            pytest.param(0.75, 0.5, "roc_auc", 0.25, id="maximize-gain"),
            pytest.param(0.5, 0.75, "roc_auc", -0.25, id="maximize-loss"),
            pytest.param(1.5, 2.0, "rmse", 0.5, id="minimize-gain"),
            pytest.param(2.5, 2.0, "rmse", -0.5, id="minimize-loss"),
        ],
    )
    def test_improvement_sign_follows_direction(
        self, candidate: float, reference: float, metric: str, expected: float
    ) -> None:
        assert improvement(candidate, reference, metric) == pytest.approx(expected)
