"""dataset.positive_class: binary metrics about the class the team means, not the last in sorted order.

With labels ``churned``/``retained`` the default positive class is ``retained`` (last in sorted
order), so f1 and average precision measured how well the model finds customers who stay.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from include.retrain.config import PipelineConfig, load_pipeline
from include.retrain.config import pipeline as config_module
from include.retrain.errors import ConfigError, DataFailure
from include.retrain.stages.evaluate import evaluate_model
from include.retrain.stats.weighted import WeightedMetrics

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"


@pytest.fixture(scope="module")
def fitted() -> tuple[LogisticRegression, pd.DataFrame, np.ndarray]:
    """A model of a rare 'churned' class (about 20%) and its holdout."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2000, 2))
    churned = (x[:, 0] + 0.7 * rng.normal(size=2000)) > 1.1
    y = np.where(churned, "churned", "retained")
    frame = pd.DataFrame(x, columns=["a", "b"])
    model = LogisticRegression().fit(frame.iloc[:1500], y[:1500])
    return model, frame.iloc[1500:], y[1500:]


def test_churned_is_scored_as_positive(fitted) -> None:
    model, holdout, y = fitted
    churn_probability = model.predict_proba(holdout)[:, list(model.classes_).index("churned")]

    evaluation = evaluate_model(model, holdout, y, "classification", positive_class="churned")

    assert evaluation.classes.tolist() == ["retained", "churned"]
    assert evaluation.metrics["f1"] == pytest.approx(skm.f1_score(y, model.predict(holdout), pos_label="churned"))
    assert evaluation.metrics["average_precision"] == pytest.approx(
        skm.average_precision_score(y == "churned", churn_probability)
    )
    assert evaluation.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "churned", churn_probability))
    np.testing.assert_allclose(evaluation.scores, churn_probability)
    # the default is retained (last in sorted order): a different, much higher f1
    default = evaluate_model(model, holdout, y, "classification")
    assert default.metrics["f1"] > evaluation.metrics["f1"] + 0.1


def test_the_bootstrap_scores_the_same_positive_class(fitted) -> None:
    model, holdout, y = fitted
    evaluation = evaluate_model(model, holdout, y, "classification", positive_class="churned")

    weighted = WeightedMetrics(y, evaluation.outputs, evaluation.classes).compute(np.ones((1, len(y))))

    for name in ("f1", "average_precision", "roc_auc", "accuracy", "log_loss"):
        assert weighted[name][0] == pytest.approx(evaluation.metrics[name]), name


def test_a_positive_class_the_data_does_not_have_is_a_clear_data_failure(fitted) -> None:
    model, holdout, y = fitted

    with pytest.raises(DataFailure, match=r"positive_class 'churn' is not among the observed classes \['churned', "):
        evaluate_model(model, holdout, y, "classification", positive_class="churn")


def test_positive_class_with_a_multiclass_model_is_refused() -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 0.1, 1.1, 2.1]})
    model = LogisticRegression().fit(frame, ["x", "y", "z", "x", "y", "z"])

    with pytest.raises(DataFailure, match="applies to binary labels, but the model learned 3 classes"):
        evaluate_model(model, frame, np.array(["x", "y", "z"] * 2), "classification", positive_class="x")


def load_with(tmp_path: Path, change) -> None:
    raw = yaml.safe_load(CHURN_YAML.read_text())
    change(raw)
    path = tmp_path / "churn.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_pipeline(path)


class TestConfig:
    def test_default_is_none_and_keeps_the_hash(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Unset, the key stays out of the hashed content: unchanged variants keep their version ids."""
        shipped = load_pipeline(CHURN_YAML)
        assert shipped.dataset.positive_class is None
        hashed: list[dict] = []
        real_dumps = json.dumps
        monkeypatch.setattr(config_module.json, "dumps", lambda obj, **kw: hashed.append(obj) or real_dumps(obj, **kw))
        digest = shipped.config_hash()
        assert "positive_class" not in hashed[-1]["dataset"]
        explicit_null = load_with(tmp_path, lambda raw: raw["dataset"].update(positive_class=None))
        assert explicit_null.config_hash() == digest
        set_config = load_with(tmp_path, lambda raw: raw["dataset"].update(positive_class=1))
        assert set_config.config_hash() != digest

    def test_a_label_of_the_target(self, tmp_path: Path) -> None:
        config = load_with(tmp_path, lambda raw: raw["dataset"].update(positive_class=0))
        assert config.dataset.positive_class == 0

    def test_outside_the_target_range(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match=r"dataset: positive_class 2 is outside the target's min/max"):
            load_with(tmp_path, lambda raw: raw["dataset"].update(positive_class=2))

    def test_text_for_an_int_target(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match=r"positive_class 'churned' is not a label of the int target 'churned'"):
            load_with(tmp_path, lambda raw: raw["dataset"].update(positive_class="churned"))

    def test_not_one_of_the_values(self, tmp_path: Path) -> None:
        def change(raw) -> None:
            raw["dataset"]["columns"]["churned"] = {"type": "category", "values": ["churned", "retained"]}
            raw["dataset"]["positive_class"] = "churn"

        with pytest.raises(ConfigError, match=r"positive_class 'churn' is not one of the target's values"):
            load_with(tmp_path, change)

    def test_refused_for_regression(self) -> None:
        demand = CHURN_YAML.with_name("demand.yaml")
        raw = yaml.safe_load(demand.read_text())
        raw["dataset"]["positive_class"] = 1
        with pytest.raises(ValidationError, match="positive_class applies to classification"):
            PipelineConfig.model_validate(raw)
