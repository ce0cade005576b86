"""Unit tests for ``include.retrain.stages.features``: splits, model input, transformer, target."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dev.synthetic.churn import churn_day
from include.retrain.config import FeaturesConfig, PipelineConfig, SplitConfig, load_pipeline
from include.retrain.errors import DataFailure
from include.retrain.modelio import dump_model, load_model, untrusted_types
from include.retrain.stages import features as features_module
from include.retrain.stages.features import (
    build_feature_transformer,
    fit_features,
    fit_transformer,
    hash_holdout_mask,
    id_hashes,
    split_columns,
    split_holdout,
    split_rows,
    target_values,
    to_model_input,
    transform_features,
)
from include.retrain.stages.ingest import assemble_window, coerce_to_schema
from tests.fitted import assert_same_fitted

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"
FIRST_DAY = date(2026, 1, 1)


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_pipeline(CHURN_YAML)


def raw_window(config: PipelineConfig, first_day: date, days: int, rows: int = 200) -> pd.DataFrame:
    """A raw window shaped like ingest: assembled partitions coerced to the schema."""
    frames = [(first_day + timedelta(days=i), churn_day(first_day + timedelta(days=i), rows)) for i in range(days)]
    return coerce_to_schema(assemble_window(frames, config.dataset.partition_column), config.dataset.columns)


@pytest.fixture(scope="module")
def window(config: PipelineConfig) -> pd.DataFrame:
    return raw_window(config, FIRST_DAY, 5)


def split(frame: pd.DataFrame, config: PipelineConfig, split_config: SplitConfig, seed: int = 42):
    return split_holdout(
        frame,
        split_config,
        target=config.dataset.target,
        task=config.model.task,
        seed=seed,
        time_column=config.dataset.event_date_column or config.dataset.partition_column,
        id_column=config.dataset.id_column,
    )


class TestHashSplit:
    """The hash split keeps every id on the same side in every window."""

    def test_mask_is_stable_across_calls(self, window: pd.DataFrame) -> None:
        first = hash_holdout_mask(window["customer_id"], 0.2)
        second = hash_holdout_mask(window["customer_id"].copy(), 0.2)
        assert first.dtype == bool
        np.testing.assert_array_equal(first, second)

    def test_mask_does_not_depend_on_row_position_or_neighbours(self, window: pd.DataFrame) -> None:
        ids = window["customer_id"]
        mask = pd.Series(hash_holdout_mask(ids, 0.2), index=ids.to_numpy())
        reversed_ids = ids.iloc[::-1].iloc[::3].reset_index(drop=True)
        reversed_mask = pd.Series(hash_holdout_mask(reversed_ids, 0.2), index=reversed_ids.to_numpy())
        assert reversed_mask.equals(mask.loc[reversed_mask.index])

    @pytest.mark.parametrize(
        "ids",
        [
            pd.Series(["c-1", None, "c-2", "ü-3", "", "c-1", np.nan], dtype=object),
            pd.Series(["c-1", None, "c-2", "ü-3", "", "c-1"], dtype="string[pyarrow]"),
            pd.Series([7, 8, 9, 10, 11, 7, 12], dtype="Int64").mask([False, True] + [False] * 5),
            pd.Series([1.5, np.nan, 3.0, 2.0, 1.5, 4.0, 5.0]),
        ],
        ids=["object", "arrow-string", "nullable-int", "float"],
    )
    def test_hashes_are_pandas_default_hashes_of_the_ids_as_strings(
        self, ids: pd.Series, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The split that earlier releases made (pandas' categorizing hash), missing ids included,
        across chunk boundaries."""
        monkeypatch.setattr(features_module, "CHUNK_ROWS", 3)
        expected = pd.util.hash_pandas_object(ids.astype("str"), index=False).to_numpy()
        hashes = id_hashes(ids)
        np.testing.assert_array_equal(hashes, expected)
        missing = ids.isna().to_numpy()
        assert missing.any()
        assert (hashes[missing] == features_module.MISSING_ID_HASH).all()

    def test_id_side_is_the_same_in_overlapping_windows(self, config: PipelineConfig) -> None:
        earlier = raw_window(config, FIRST_DAY, 6)
        later = raw_window(config, FIRST_DAY + timedelta(days=1), 6)
        split_config = SplitConfig(strategy="hash", holdout_fraction=0.2)
        earlier_split = split(earlier, config, split_config)
        later_split = split(later, config, split_config)
        shared = set(earlier["customer_id"]) & set(later["customer_id"])
        assert len(shared) == 5 * 200  # five overlapping days
        earlier_holdout = set(earlier_split.holdout["customer_id"]) & shared
        later_holdout = set(later_split.holdout["customer_id"]) & shared
        earlier_train = set(earlier_split.train["customer_id"]) & shared
        later_train = set(later_split.train["customer_id"]) & shared
        assert earlier_holdout == later_holdout
        assert earlier_train == later_train
        assert earlier_holdout
        assert earlier_train
        assert earlier_holdout | earlier_train == shared

    def test_holdout_share_close_to_fraction(self, config: PipelineConfig) -> None:
        frame = raw_window(config, FIRST_DAY, 10, rows=500)
        for fraction in (0.1, 0.2, 0.5):
            result = split(frame, config, SplitConfig(strategy="hash", holdout_fraction=fraction))
            assert len(result.train) + len(result.holdout) == len(frame)
            assert abs(len(result.holdout) / len(frame) - fraction) < 0.02, fraction

    def test_split_keeps_all_columns_and_resets_index(self, window: pd.DataFrame, config: PipelineConfig) -> None:
        result = split(window, config, SplitConfig(strategy="hash"))
        assert list(result.train.columns) == list(window.columns)
        assert result.holdout.index.tolist() == list(range(len(result.holdout)))

    @pytest.mark.parametrize("rows", [0, 1], ids=["no-rows", "one-row"])
    def test_too_few_rows_raise(self, window: pd.DataFrame, config: PipelineConfig, rows: int) -> None:
        with pytest.raises(DataFailure, match=f"cannot split {rows} rows"):
            split(window.head(rows), config, SplitConfig(strategy="hash"))

    def test_hash_split_without_id_column_raises(self, window: pd.DataFrame, config: PipelineConfig) -> None:
        with pytest.raises(DataFailure, match="id_column"):
            split_holdout(
                window,
                SplitConfig(strategy="hash"),
                target="churned",
                task="classification",
                seed=1,
                time_column="ds",
                id_column=None,
            )


class TestRandomAndTimeSplit:
    """Random splits are seeded and stratified; time splits hold out the latest rows."""

    def test_random_split_is_reproducible_for_a_seed(self, window: pd.DataFrame, config: PipelineConfig) -> None:
        split_config = SplitConfig(strategy="random", holdout_fraction=0.25)
        first = split(window, config, split_config, seed=7)
        second = split(window, config, split_config, seed=7)
        pd.testing.assert_frame_equal(first.holdout, second.holdout)
        pd.testing.assert_frame_equal(first.train, second.train)
        other = split(window, config, split_config, seed=8)
        assert set(other.holdout["customer_id"]) != set(first.holdout["customer_id"])
        assert len(first.holdout) == round(0.25 * len(window))

    def test_random_split_is_stratified(self, config: PipelineConfig) -> None:
        frame = raw_window(config, FIRST_DAY, 4, rows=250)
        split_config = SplitConfig(strategy="random", holdout_fraction=0.2, stratify=True)
        overall = frame["churned"].sum()
        for seed in range(5):
            result = split(frame, config, split_config, seed=seed)
            expected = overall * len(result.holdout) / len(frame)
            assert abs(result.holdout["churned"].sum() - expected) <= 1, seed

    def test_time_split_holds_out_latest_rows(self, window: pd.DataFrame, config: PipelineConfig) -> None:
        result = split(window, config, SplitConfig(strategy="time", holdout_fraction=0.2))
        assert len(result.holdout) == round(0.2 * len(window))
        assert len(result.train) + len(result.holdout) == len(window)
        assert result.holdout["signup_date"].min() >= result.train["signup_date"].max()

    def test_time_split_of_two_rows_keeps_one_on_each_side(self, window: pd.DataFrame, config: PipelineConfig) -> None:
        result = split(window.head(2), config, SplitConfig(strategy="time", holdout_fraction=0.05))
        assert (len(result.train), len(result.holdout)) == (1, 1)


class TestSplitRows:
    """split_rows picks the rows the split used to copy out of the frame, in the same order."""

    @pytest.fixture(scope="class")
    def frame(self, config: PipelineConfig) -> pd.DataFrame:
        frame = raw_window(config, FIRST_DAY, 4, rows=150)
        frame.loc[[3, 40, 41], "signup_date"] = pd.NaT  # missing times sort last
        return frame

    def test_hash_rows_are_the_masked_rows(self, frame: pd.DataFrame) -> None:
        rows = split_rows(frame, SplitConfig(strategy="hash"), **self.kwargs())
        mask = hash_holdout_mask(frame["customer_id"], 0.2)
        pd.testing.assert_frame_equal(frame.take(rows.train), frame[~mask])
        pd.testing.assert_frame_equal(frame.take(rows.holdout), frame[mask])

    def test_time_rows_are_the_sorted_frame_cut(self, frame: pd.DataFrame) -> None:
        rows = split_rows(frame, SplitConfig(strategy="time", holdout_fraction=0.25), **self.kwargs())
        ordered = frame.sort_values("signup_date", kind="stable")
        cut = round(len(frame) * 0.75)
        assert frame["signup_date"].duplicated().any()  # ties keep their order
        pd.testing.assert_frame_equal(frame.take(rows.train), ordered.iloc[:cut])
        pd.testing.assert_frame_equal(frame.take(rows.holdout), ordered.iloc[cut:])
        assert frame.take(rows.holdout)["signup_date"].tail(3).isna().all()

    @pytest.mark.parametrize("stratify", [True, False], ids=["stratified", "plain"])
    def test_random_rows_are_the_rows_train_test_split_takes(self, frame: pd.DataFrame, stratify: bool) -> None:
        from sklearn.model_selection import train_test_split

        split_config = SplitConfig(strategy="random", holdout_fraction=0.3, stratify=stratify)
        rows = split_rows(frame, split_config, **self.kwargs(seed=11))
        train, holdout = train_test_split(
            frame, test_size=0.3, random_state=11, stratify=frame["churned"] if stratify else None
        )
        pd.testing.assert_frame_equal(frame.take(rows.train), train)
        pd.testing.assert_frame_equal(frame.take(rows.holdout), holdout)

    @pytest.mark.parametrize("strategy", ["hash", "random", "time"])
    def test_split_holdout_copies_the_chosen_rows(self, frame: pd.DataFrame, strategy: str) -> None:
        split_config = SplitConfig(strategy=strategy)
        rows = split_rows(frame, split_config, **self.kwargs())
        result = split_holdout(frame, split_config, **self.kwargs())
        pd.testing.assert_frame_equal(result.train, frame.take(rows.train).reset_index(drop=True))
        pd.testing.assert_frame_equal(result.holdout, frame.take(rows.holdout).reset_index(drop=True))

    def test_split_columns_are_what_each_strategy_reads(self) -> None:
        assert split_columns(SplitConfig(strategy="hash"), time_column="ds", id_column="id") == ["id"]
        assert split_columns(SplitConfig(strategy="time"), time_column="ds", id_column="id") == ["ds"]
        assert split_columns(SplitConfig(strategy="random"), time_column="ds", id_column="id") == []

    @staticmethod
    def kwargs(seed: int = 42) -> dict:
        return {
            "target": "churned",
            "task": "classification",
            "seed": seed,
            "time_column": "signup_date",
            "id_column": "customer_id",
        }


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
