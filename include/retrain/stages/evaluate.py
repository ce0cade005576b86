"""Evaluate: holdout metrics for a model, so candidate and champion are compared on equal terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from include.retrain.config import METRICS
from include.retrain.errors import DataFailure

#: A metric value, or one per bootstrap resample (the bootstrap computes improvements elementwise).
MetricValue = TypeVar("MetricValue", float, np.ndarray)


@dataclass(frozen=True)
class Evaluation:
    """Holdout metrics, the per-row scores the model gate checks for sanity, and the raw outputs.

    ``outputs`` are what every metric is computed from: predictions (regression) or class
    probabilities with one column per entry of ``classes`` (classification). A binary model's
    classes are ordered negative, positive: the positive class (``dataset.positive_class``, by
    default the last label in sorted order) is ``classes[1]``, so f1, average precision and the
    per-row ``scores`` are about it.
    """

    metrics: dict[str, float]
    scores: np.ndarray
    outputs: np.ndarray
    classes: np.ndarray | None = None

    @property
    def score_std(self) -> float:
        return float(np.std(self.scores)) if len(self.scores) else 0.0


def evaluate_model(
    model: Any, holdout_input: pd.DataFrame, y_true: np.ndarray, task: str, positive_class: Any = None
) -> Evaluation:
    """Score ``model`` on the holdout rows and compute every metric of its task.

    ``positive_class`` (binary classification): the label scored as positive; None = the last
    label in sorted order.
    """
    if task == "regression":
        predictions = np.asarray(model.predict(holdout_input), dtype="float64")
        return Evaluation(metrics=regression_metrics(y_true, predictions), scores=predictions, outputs=predictions)
    probabilities = np.asarray(model.predict_proba(holdout_input), dtype="float64")
    classes = np.asarray(model.classes_)
    if positive_class is not None:
        probabilities, classes = positive_last(probabilities, classes, positive_class)
    scores = probabilities[:, 1] if len(classes) == 2 else probabilities.max(axis=1)
    return Evaluation(
        metrics=classification_metrics(y_true, probabilities, classes),
        scores=scores,
        outputs=probabilities,
        classes=classes,
    )


def positive_last(probabilities: np.ndarray, classes: np.ndarray, positive_class: Any) -> tuple[np.ndarray, np.ndarray]:
    """A binary model's outputs with ``positive_class`` as the second (positive) column.

    Raises :class:`DataFailure` when the model has more than two classes or never saw the label.
    """
    labels = classes.tolist()
    if len(labels) != 2:
        raise DataFailure(
            f"dataset.positive_class {positive_class!r} applies to binary labels, but the model learned "
            f"{len(labels)} classes {labels}; remove positive_class for a multiclass target"
        )
    matches = [i for i, label in enumerate(labels) if label == positive_class or str(label) == str(positive_class)]
    if not matches:
        raise DataFailure(
            f"dataset.positive_class {positive_class!r} is not among the observed classes {labels} of the target "
            "in this window; set positive_class to one of them (as the data spells it)"
        )
    if matches[0] == 0:
        return probabilities[:, ::-1], classes[::-1]
    return probabilities, classes


def prediction_columns(evaluation: Evaluation, prefix: str = "") -> dict[str, np.ndarray]:
    """A model's per-row outputs as columns of ``predictions.parquet``.

    ``<prefix>score`` (the gate's score) always; for classification also ``<prefix>proba_<i>``,
    the probability of ``classes[i]``, so metrics can be recomputed on any subset of rows.
    """
    columns = {f"{prefix}score": evaluation.scores}
    if evaluation.classes is not None:
        columns.update({f"{prefix}proba_{i}": evaluation.outputs[:, i] for i in range(len(evaluation.classes))})
    return columns


def outputs_from_columns(frame: pd.DataFrame, prefix: str, classes: np.ndarray | None) -> np.ndarray:
    """The outputs :func:`prediction_columns` stored under ``prefix``, ready for the metric functions."""
    if classes is None:
        return frame[f"{prefix}score"].to_numpy(dtype="float64")
    return frame[[f"{prefix}proba_{i}" for i in range(len(classes))]].to_numpy(dtype="float64")


def segment_metrics(evaluation: Evaluation, y_true: np.ndarray, segments: np.ndarray) -> dict[str, dict[str, Any]]:
    """Holdout metrics per segment value, computed like the overall ones: ``{value: {rows, metrics}}``."""
    codes, values = pd.factorize(segments, sort=True)
    result = {}
    for code, value in enumerate(values):  # one pass per segment, not per row
        rows = codes == code
        if evaluation.classes is None:
            metrics = regression_metrics(y_true[rows], evaluation.outputs[rows])
        else:
            metrics = classification_metrics(y_true[rows], evaluation.outputs[rows], evaluation.classes)
        result[str(value)] = {"rows": int(rows.sum()), "metrics": metrics}
    return result


def regression_metrics(y_true: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    return {
        "rmse": float(np.sqrt(skm.mean_squared_error(y_true, predictions))),
        "mae": float(skm.mean_absolute_error(y_true, predictions)),
        "r2": float(skm.r2_score(y_true, predictions)),
    }


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """Metrics for binary or multiclass probabilities.

    Metrics that are undefined on this holdout (one class present, or a label the model never
    saw) are NaN rather than an error.
    """
    predicted = classes[np.argmax(probabilities, axis=1)]
    present = np.unique(y_true)
    known_labels = set(present) <= set(classes)
    binary = len(classes) == 2 and known_labels
    f1 = (
        skm.f1_score(y_true, predicted, average="binary", pos_label=classes[-1])
        if binary
        else skm.f1_score(y_true, predicted, average="macro", labels=classes)
    )
    result = {"accuracy": float(skm.accuracy_score(y_true, predicted)), "f1": float(f1)}
    if len(present) < 2 or not known_labels:
        result.update(roc_auc=float("nan"), average_precision=float("nan"), log_loss=float("nan"))
        return result
    order = np.argsort(classes)  # sklearn's log_loss reads the columns in sorted label order
    result["log_loss"] = float(skm.log_loss(y_true, probabilities[:, order], labels=classes[order]))
    if binary:
        positive = y_true == classes[1]
        result["roc_auc"] = float(skm.roc_auc_score(positive, probabilities[:, 1]))
        result["average_precision"] = float(skm.average_precision_score(positive, probabilities[:, 1]))
    else:
        indicator = label_binarize(y_true, classes=classes)
        result["roc_auc"] = float(skm.roc_auc_score(indicator, probabilities, average="macro", multi_class="ovr"))
        result["average_precision"] = float(skm.average_precision_score(indicator, probabilities, average="macro"))
    return result


def is_better(candidate: float, reference: float, metric: str, min_improvement: float = 0.0) -> bool:
    """True when ``candidate`` beats ``reference`` by at least ``min_improvement`` on ``metric``."""
    if METRICS[metric][1] == "maximize":
        return candidate >= reference + min_improvement and candidate > reference
    return candidate <= reference - min_improvement and candidate < reference


def improvement(candidate: MetricValue, reference: MetricValue, metric: str) -> MetricValue:
    """How much better ``candidate`` is than ``reference`` (positive = better), in metric units."""
    delta = candidate - reference
    return delta if METRICS[metric][1] == "maximize" else -delta
