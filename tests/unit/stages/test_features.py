"""Unit tests for ``include.retrain.stages.features``: model input, transformer, target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer

from include.retrain.config import FeaturesConfig, PipelineConfig, load_pipeline
from include.retrain.errors import DataFailure
from include.retrain.modelio import dump_model, load_model, untrusted_types
from include.retrain.stages.features import (
    build_feature_transformer,
    check_category_counts,
    fit_features,
    fit_transformer,
    target_values,
    to_model_input,
    transform_features,
)
from tests.fitted import assert_same_fitted
from tests.unit.stages.churn_window import CHURN_YAML, FIRST_DAY, raw_window


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_pipeline(CHURN_YAML)


@pytest.fixture(scope="module")
def window(config: PipelineConfig) -> pd.DataFrame:
    return raw_window(config, FIRST_DAY, 5)


class TestModelInput:
    """to_model_input produces float64 numerics and object strings, NaN for missing."""

    @pytest.fixture
    def nullable_frame(self) -> pd.DataFrame:
        index = pd.Index([10, 11, 12])
        return pd.DataFrame(
            {
                "count": pd.Series([1, None, 3], dtype="Int64", index=index),
                "flag": pd.Series([True, None, False], dtype="boolean", index=index),
                "plan": pd.Series(pd.Categorical(["basic", None, "premium"]), index=index),
                "name": pd.Series(["a", None, "c"], dtype="str", index=index),
                "unused": pd.Series(["x", "y", "z"], index=index),
            }
        )

    FEATURES = FeaturesConfig(numeric=("count",), passthrough=("flag",), categorical=("plan", "name"))

    def test_numeric_and_boolean_become_float64_with_nan(self, nullable_frame: pd.DataFrame) -> None:
        model_input = to_model_input(nullable_frame, self.FEATURES)
        assert list(model_input.columns) == ["count", "flag", "plan", "name"]
        assert model_input.index.tolist() == [10, 11, 12]
        assert str(model_input["count"].dtype) == "float64"
        assert str(model_input["flag"].dtype) == "float64"
        np.testing.assert_array_equal(model_input["count"].to_numpy(), [1.0, np.nan, 3.0])
        np.testing.assert_array_equal(model_input["flag"].to_numpy(), [1.0, np.nan, 0.0])

    def test_categoricals_become_strings_with_nan(self, nullable_frame: pd.DataFrame) -> None:
        model_input = to_model_input(nullable_frame, self.FEATURES)
        for column, expected in (("plan", ["basic", "premium"]), ("name", ["a", "c"])):
            values = model_input[column].to_numpy(dtype=object)
            assert [values[0], values[2]] == expected
            assert all(isinstance(v, str) for v in (values[0], values[2]))
            assert isinstance(values[1], float)
            assert np.isnan(values[1])

    def test_categoricals_have_object_dtype(self, nullable_frame: pd.DataFrame) -> None:
        """The documented contract: categorical features as object strings (missing = NaN)."""
        model_input = to_model_input(nullable_frame, self.FEATURES)
        assert model_input["plan"].dtype == object
        assert model_input["name"].dtype == object

    def test_rows_give_the_input_of_those_rows(
        self, nullable_frame: pd.DataFrame, window: pd.DataFrame, config
    ) -> None:
        rows = np.array([2, 0, 2, 1])  # any order, repeats allowed
        for frame, features in ((nullable_frame, self.FEATURES), (window, config.features)):
            expected = to_model_input(frame.take(rows).reset_index(drop=True), features)
            pd.testing.assert_frame_equal(to_model_input(frame, features, rows), expected)
        everything = np.arange(len(window))
        pd.testing.assert_frame_equal(
            to_model_input(window, config.features, everything),
            to_model_input(window, config.features).reset_index(drop=True),
        )

    def test_input_does_not_share_memory_with_the_frame(self) -> None:
        frame = pd.DataFrame({"count": [1.0, np.nan, 3.0], "flag": [0.0, 1.0, 0.0]})
        model_input = to_model_input(frame, FeaturesConfig(numeric=("count",), passthrough=("flag",)))
        for column in ("count", "flag"):
            assert not np.shares_memory(model_input[column].to_numpy(), frame[column].to_numpy())


class TestFeatureTransformer:
    """The fitted transformer yields a finite numeric matrix and tolerates unseen categories."""

    def test_fit_produces_numeric_matrix_without_nan(self, window: pd.DataFrame, config: PipelineConfig) -> None:
        model_input = to_model_input(window, config.features)
        assert model_input["monthly_charges"].isna().any()
        assert model_input["region"].isna().any()
        transformer = build_feature_transformer(config.features)
        matrix = fit_features(transformer, model_input)
        assert len(matrix) == len(window)
        assert all(np.issubdtype(dtype, np.number) for dtype in matrix.dtypes)
        assert not matrix.isna().any().any()
        assert np.isfinite(matrix.to_numpy(dtype="float64")).all()
        for column in ("tenure_months", "monthly_charges", "support_calls", "plan_basic", "region_north"):
            assert column in matrix.columns
        # The missing region is its own indicator column.
        assert "region___missing__" in matrix.columns
        # log1p is applied to monthly_charges (and the NaN imputed with the median first).
        observed = window["monthly_charges"].notna().to_numpy()
        np.testing.assert_allclose(
            matrix["monthly_charges"].to_numpy()[observed], np.log1p(window["monthly_charges"].to_numpy()[observed])
        )

    def test_unknown_categories_at_transform_time_do_not_fail(
        self, window: pd.DataFrame, config: PipelineConfig
    ) -> None:
        transformer = build_feature_transformer(config.features)
        fit_features(transformer, to_model_input(window, config.features))
        unseen = window.head(3).copy()
        unseen["plan"] = unseen["plan"].cat.add_categories(["platinum"])
        unseen.loc[:, "plan"] = "platinum"
        matrix = transform_features(transformer, to_model_input(unseen, config.features))
        plan_columns = [c for c in matrix.columns if c.startswith("plan_")]
        assert plan_columns
        assert (matrix[plan_columns].to_numpy() == 0).all()
        assert not matrix.isna().any().any()

    def test_transform_keeps_feature_names(self, window: pd.DataFrame, config: PipelineConfig) -> None:
        transformer = build_feature_transformer(config.features)
        fitted = fit_features(transformer, to_model_input(window, config.features))
        again = transform_features(transformer, to_model_input(window.head(10), config.features))
        assert list(again.columns) == list(fitted.columns)
        pd.testing.assert_frame_equal(again, fitted.head(10))

    def test_passthrough_and_standardize(self) -> None:
        features = FeaturesConfig(numeric=("a",), passthrough=("b",), transforms={"a": "standardize"})
        frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan], "b": [5.0, 6.0, 7.0, 8.0]})
        matrix = fit_features(build_feature_transformer(features), frame)
        assert list(matrix.columns) == ["a", "b"]
        np.testing.assert_allclose(matrix["b"], [5.0, 6.0, 7.0, 8.0])
        assert matrix["a"].mean() == pytest.approx(0.0, abs=1e-12)


#: Feature configs fit_transformer is checked on: transforms, passthrough, one kind of feature only.
FEATURE_SETS: dict[str, FeaturesConfig] = {
    "churn-like": FeaturesConfig(
        numeric=("amount", "count"), categorical=("plan", "region"), transforms={"amount": "log1p"}
    ),
    "standardize-sqrt-passthrough": FeaturesConfig(
        numeric=("amount", "count"), passthrough=("score",), transforms={"amount": "sqrt", "count": "standardize"}
    ),
    "categorical-only": FeaturesConfig(categorical=("region", "plan")),
    "numeric-only": FeaturesConfig(numeric=("count",)),
}


class TestFitTransformer:
    """fit_transformer fits branch by branch and gives the transformer ColumnTransformer.fit gives."""

    @pytest.fixture(scope="class")
    def frame(self) -> pd.DataFrame:
        """Numerics with NaN, a categorical with NaN, and a rare category."""
        rng = np.random.default_rng(3)
        rows = 600
        plan = rng.choice(["basic", "standard", "premium"], rows).astype(object)
        region = rng.choice(["north", "south", "east"], rows).astype(object)
        region[rng.random(rows) < 0.1] = np.nan
        # A rare category in two identical rows: one distinct row, so a frequency threshold in
        # the encoder would tell a fit on the distinct rows from a fit on all rows.
        plan[[5, 6]], region[[5, 6]] = "platinum", "north"
        amount = rng.gamma(2.0, 30.0, rows)
        amount[rng.random(rows) < 0.05] = np.nan
        return pd.DataFrame(
            {
                "amount": amount,
                "count": rng.integers(0, 9, rows).astype("float64"),
                "score": rng.normal(size=rows),
                "plan": pd.Series(plan, dtype=object),
                "region": pd.Series(region, dtype=object),
            }
        )

    @pytest.mark.parametrize("name", FEATURE_SETS)
    def test_same_fitted_transformer_as_column_transformer_fit(self, frame: pd.DataFrame, name: str) -> None:
        features = FEATURE_SETS[name]
        lean = fit_transformer(build_feature_transformer(features), frame)
        plain = build_feature_transformer(features).fit(frame)
        assert_same_fitted(lean, plain)
        assert list(lean.get_feature_names_out()) == list(plain.get_feature_names_out())
        pd.testing.assert_frame_equal(lean.transform(frame), plain.transform(frame))

    @pytest.mark.parametrize("name", FEATURE_SETS)
    def test_same_matrix_for_unseen_values_and_after_a_skops_round_trip(self, frame: pd.DataFrame, name: str) -> None:
        features = FEATURE_SETS[name]
        lean = fit_transformer(build_feature_transformer(features), frame.iloc[:400])
        plain = build_feature_transformer(features).fit(frame.iloc[:400])
        unseen = frame.iloc[400:].copy()
        unseen.loc[unseen.index[:5], "plan"] = "enterprise"
        unseen.loc[unseen.index[5:8], "amount"] = np.nan
        data = dump_model(lean)
        assert untrusted_types(data) == untrusted_types(dump_model(plain)) == []
        loaded = load_model(data)
        assert_same_fitted(loaded, load_model(dump_model(plain)))
        pd.testing.assert_frame_equal(loaded.transform(unseen), plain.transform(unseen))
        pd.testing.assert_frame_equal(lean.transform(unseen), plain.transform(unseen))


class TestTargetValues:
    """target_values returns floats for regression, class labels otherwise, and refuses gaps."""

    def test_regression_target_is_float(self) -> None:
        frame = pd.DataFrame({"y": pd.array([1, 2, 3], dtype="Int64")})
        values = target_values(frame, "y", "regression")
        assert values.dtype == np.float64
        np.testing.assert_array_equal(values, [1.0, 2.0, 3.0])

    def test_boolean_target_becomes_int(self) -> None:
        frame = pd.DataFrame({"y": pd.array([True, False, True], dtype="boolean")})
        values = target_values(frame, "y", "classification")
        assert values.dtype == np.int64
        np.testing.assert_array_equal(values, [1, 0, 1])

    def test_int_classification_target_keeps_labels(self, window: pd.DataFrame) -> None:
        values = target_values(window, "churned", "classification")
        assert set(np.unique(values)) == {0, 1}
        assert len(values) == len(window)

    @pytest.mark.parametrize("task", ["classification", "regression"])
    def test_missing_target_raises(self, task: str) -> None:
        frame = pd.DataFrame({"churned": pd.array([1, None, 0, None], dtype="Int64")})
        with pytest.raises(DataFailure, match="'churned' has 2 missing values"):
            target_values(frame, "churned", task)


class TestCategoryCounts:
    """A categorical feature with a value per row is refused before its one-hot matrix exists."""

    @staticmethod
    def fitted(ids: int) -> ColumnTransformer:
        frame = pd.DataFrame(
            {
                "amount": np.arange(ids, dtype="float64"),
                "plan": pd.Series(["basic", "premium", None] * (ids // 3 + 1), dtype=object)[:ids],
                "order_id": pd.Series([f"order-{n}" for n in range(ids)], dtype=object),
            }
        )
        features = FeaturesConfig(numeric=("amount",), categorical=("plan", "order_id"))
        return fit_transformer(build_feature_transformer(features), frame)

    def test_an_id_as_a_feature_fails_naming_the_column_and_the_knob(self) -> None:
        with pytest.raises(DataFailure) as info:
            check_category_counts(self.fitted(3000), limit=1000)
        message = str(info.value)
        assert "'order_id' has 3,000 distinct values in the training rows" in message
        assert "features.max_categories (1,000)" in message
        assert "'plan'" not in message  # three values (missing counts as one) are fine

    def test_columns_within_the_limit_pass(self) -> None:
        check_category_counts(self.fitted(1000), limit=1000)  # raises nothing

    def test_no_categorical_branch_passes(self) -> None:
        frame = pd.DataFrame({"amount": [1.0, 2.0, 3.0]})
        transformer = fit_transformer(build_feature_transformer(FeaturesConfig(numeric=("amount",))), frame)
        check_category_counts(transformer, limit=2)
