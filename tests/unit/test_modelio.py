"""Model files: every allowlisted estimator round-trips through skops; anything else is refused.

The round trip uses the project's own feature transformer (``build_feature_transformer``)
and estimator factory (``make_estimator``), so a type the real models serialize but
``TRUSTED_EXTRA_TYPES`` lacks fails here before it fails a DAG run.
"""

from __future__ import annotations

import io
import random
import re
import subprocess
import sys
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from include.retrain.config import ESTIMATORS, FeaturesConfig, ModelConfig
from include.retrain.errors import PipelineFailure, UntrustedModelError
from include.retrain.modelio import TRUSTED_EXTRA_TYPES, dump_model, load_model, untrusted_types
from include.retrain.stages.features import build_feature_transformer, to_model_input
from include.retrain.stages.train import make_estimator

FEATURES = FeaturesConfig(
    numeric=("amount", "tenure"),
    categorical=("plan", "region"),
    transforms={"amount": "log1p"},
    date_parts={"opened": ("month", "dayofweek", "is_weekend")},  # the DateParts step of features.date_parts
)
#: Keep the ensembles tiny so the whole module stays fast.
SMALL_PARAMS: dict[str, dict[str, Any]] = {
    "sklearn.ensemble.HistGradientBoostingClassifier": {"max_iter": 15},
    "sklearn.ensemble.HistGradientBoostingRegressor": {"max_iter": 15},
    "sklearn.ensemble.RandomForestClassifier": {"n_estimators": 5, "max_depth": 4},
    "sklearn.ensemble.RandomForestRegressor": {"n_estimators": 5, "max_depth": 4},
    "sklearn.linear_model.LogisticRegression": {"max_iter": 500},
}
#: One case per (estimator, target kind): classifiers on binary and multiclass targets.
CASES: list[tuple[str, str]] = [
    (estimator, kind)
    for estimator, task in ESTIMATORS.items()
    for kind in (("binary", "multiclass") if task == "classification" else ("regression",))
]


def synthetic_frame(rows: int = 160, seed: int = 7) -> pd.DataFrame:
    """Raw columns with missing values in every feature, as the landing data has."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 50.0, rows),
            "tenure": rng.integers(0, 60, rows).astype("float64"),
            "plan": rng.choice(["basic", "pro", "team"], rows).astype(object),
            "region": rng.choice(["eu", "us", "apac", "latam"], rows).astype(object),
            "opened": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
        }
    )
    for column in frame.columns:
        frame.loc[rng.random(rows) < 0.08, column] = pd.NaT if column == "opened" else np.nan
    return frame


def synthetic_target(frame: pd.DataFrame, kind: str) -> np.ndarray:
    amount = frame["amount"].fillna(50.0).to_numpy()
    tenure = frame["tenure"].fillna(10.0).to_numpy()
    score = np.log1p(amount) - tenure / 20 + (frame["plan"] == "pro").to_numpy() * 0.8
    score = score + (frame["opened"].dt.month.fillna(6).to_numpy(dtype="float64") > 6) * 0.5
    if kind == "regression":
        return score * 10 + np.random.default_rng(1).normal(0, 0.5, len(frame))
    if kind == "binary":
        return (score > np.median(score)).astype("int64")
    return np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype("int64")


def fit_project_pipeline(estimator: str, kind: str) -> tuple[Pipeline, pd.DataFrame]:
    """Fit transformer + estimator the way the train stage does; return it and unseen rows."""
    raw = synthetic_frame()
    target = synthetic_target(raw, kind)
    model_input = to_model_input(raw, FEATURES)
    transformer = build_feature_transformer(FEATURES)
    matrix = transformer.fit_transform(model_input)
    fitted = make_estimator(ModelConfig(estimator=estimator, params=SMALL_PARAMS.get(estimator, {})))
    fitted.fit(matrix, target)
    pipeline = Pipeline([("features", transformer), ("model", fitted)])
    unseen = to_model_input(synthetic_frame(rows=40, seed=99), FEATURES)
    unseen.loc[0, "plan"] = "never-seen-plan"  # exercises handle_unknown="ignore" after loading
    return pipeline, unseen


def _case_id(case: tuple[str, str]) -> str:
    return f"{case[0].rsplit('.', 1)[1]}-{case[1]}"


# -- the allowlist is complete --------------------------------------------------------------------


class TestAllowlistedEstimatorsRoundTrip:
    """Each allowlisted estimator, in the project's pipeline, loads back and predicts identically."""

    @pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
    def test_dump_load_predictions_identical(self, case: tuple[str, str]) -> None:
        estimator, kind = case
        model, unseen = fit_project_pipeline(estimator, kind)

        data = dump_model(model)
        assert untrusted_types(data) == []
        loaded = load_model(data, source=f"{estimator} test model")

        assert type(loaded) is Pipeline
        assert type(loaded.named_steps["model"]) is type(model.named_steps["model"])
        np.testing.assert_array_equal(loaded.predict(unseen), model.predict(unseen))
        if kind != "regression":
            np.testing.assert_array_equal(loaded.predict_proba(unseen), model.predict_proba(unseen))
            expected_classes = [0, 1] if kind == "binary" else [0, 1, 2]
            assert list(loaded.classes_) == expected_classes
        # and the loaded model re-serializes without asking for anything new
        assert untrusted_types(dump_model(loaded)) == []

    def test_every_extra_type_is_needed(self) -> None:
        """The allowlist is minimal: each extra type is asked for by at least one shipped estimator."""
        asked: set[str] = set()
        for estimator, kind in CASES:
            model, _ = fit_project_pipeline(estimator, kind)
            asked |= set(sio.get_untrusted_types(data=dump_model(model)))
        assert asked <= TRUSTED_EXTRA_TYPES, sorted(asked - TRUSTED_EXTRA_TYPES)
        assert asked >= TRUSTED_EXTRA_TYPES, sorted(TRUSTED_EXTRA_TYPES - asked)


# -- untrusted and broken files -------------------------------------------------------------------

#: Set by ``Memorizer.__setstate__``: proof of whether a load ever built the object.
CONSTRUCTED: list[str] = []


class Memorizer(BaseEstimator):
    """A harmless custom estimator: skops can serialize it, but it is not on the allowlist."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> Memorizer:
        self.mean_ = np.asarray(x, dtype="float64").mean(axis=0) * self.scale
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.tile(self.mean_, (len(x), 1))

    def __setstate__(self, state: dict[str, Any]) -> None:
        CONSTRUCTED.append(type(self).__qualname__)
        super().__setstate__(state)


MEMORIZER_TYPE = f"{Memorizer.__module__}.{Memorizer.__qualname__}"


@pytest.fixture
def custom_model_bytes() -> bytes:
    CONSTRUCTED.clear()
    return sio.dumps(Memorizer(scale=2.0).fit(np.arange(12.0).reshape(4, 3)))


class TestRefusals:
    """A file asking for an untrusted type, or not a skops file at all, is refused unloaded."""

    def test_custom_estimator_refused_and_named(self, custom_model_bytes: bytes) -> None:
        assert untrusted_types(custom_model_bytes) == [MEMORIZER_TYPE]

        with pytest.raises(UntrustedModelError) as caught:
            load_model(custom_model_bytes, source="s3://retrain-artifacts/x/model.skops")
        message = str(caught.value)
        assert MEMORIZER_TYPE in message
        assert "s3://retrain-artifacts/x/model.skops" in message
        assert isinstance(caught.value, PipelineFailure)  # permanent: the run fails, no retry
        assert CONSTRUCTED == []

    def test_custom_estimator_is_a_real_skops_file(self, custom_model_bytes: bytes) -> None:
        """Control: trusted explicitly, the same bytes load, so the refusal above is the allowlist at work."""
        loaded = sio.loads(custom_model_bytes, trusted=[MEMORIZER_TYPE])
        assert CONSTRUCTED == ["Memorizer"]
        np.testing.assert_array_equal(loaded.mean_, np.array([9.0, 11.0, 13.0]))

    def test_custom_step_inside_allowlisted_pipeline_refused(self) -> None:
        """An untrusted type nested in an otherwise allowlisted Pipeline is still found and named."""
        model, unseen = fit_project_pipeline("sklearn.linear_model.Ridge", "regression")
        smuggled = Pipeline([("features", model.named_steps["features"]), ("model", Memorizer())])
        smuggled.named_steps["model"].fit(model.named_steps["features"].transform(unseen))
        CONSTRUCTED.clear()

        data = sio.dumps(smuggled)

        assert untrusted_types(data) == [MEMORIZER_TYPE]
        with pytest.raises(UntrustedModelError, match=re.escape(MEMORIZER_TYPE)):
            load_model(data)
        assert CONSTRUCTED == []

    @pytest.mark.parametrize(
        "make_bytes",
        [
            lambda good: b"",
            lambda good: random.Random(0).randbytes(4096),
            lambda good: b"\x80\x04\x95 pickle-looking bytes",
            lambda good: good[: len(good) // 2],
            lambda good: good[:-22],
            lambda good: _zip_without_schema(),
        ],
        ids=["empty", "random", "pickle-header", "truncated-half", "truncated-tail", "zip-not-skops"],
    )
    def test_not_a_skops_file_refused(self, make_bytes: Any) -> None:
        good = dump_model(fit_project_pipeline("sklearn.linear_model.Ridge", "regression")[0])
        data = make_bytes(good)
        assert data != good

        with pytest.raises(UntrustedModelError, match="not a readable skops model file") as caught:
            load_model(data, source="candidate model")
        assert "candidate model" in str(caught.value)


def test_a_trusted_model_is_audited_while_it_loads_not_listed_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """One pass over the file: skops audits it against the allowlist as it loads.

    Listing the file's types with ``get_untrusted_types`` first walked the whole file twice, a
    third of the load of a 120-tree forest; only a refusal lists them, to name them.
    """
    model, unseen = fit_project_pipeline("sklearn.ensemble.RandomForestClassifier", "classification")
    data = dump_model(model)
    listings: list[int] = []
    real = sio.get_untrusted_types

    def counting(*args: Any, **kwargs: Any) -> Any:  # a spy: counts, then lists for real
        listings.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sio, "get_untrusted_types", counting)
    loaded = load_model(data)
    np.testing.assert_array_equal(loaded.predict(unseen), model.predict(unseen))
    assert listings == []


def _zip_without_schema() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a model")
    return buffer.getvalue()


def test_skops_is_imported_only_when_a_model_is_read_or_written() -> None:
    """Tasks that never touch a model (ingest, the gates) do not pay skops' ~1.7 s import."""
    script = (
        "import sys\n"
        "import include.retrain.promotion.canary, include.retrain.promotion.rollback\n"
        "from include.retrain.tasks import drift, evaluate, features, gates, ingest, promote, train\n"
        "assert 'skops.io' not in sys.modules, 'skops imported at module level'\n"
        "from include.retrain.modelio import dump_model, load_model\n"
        "from sklearn.linear_model import Ridge\n"
        "model = Ridge().fit([[0.0], [1.0]], [0.0, 1.0])\n"
        "assert load_model(dump_model(model)).coef_.tolist() == model.coef_.tolist()\n"
        "assert 'skops.io' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
