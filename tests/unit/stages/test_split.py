"""Unit tests for ``include.retrain.stages.split``: hash (by id or by row), random and time splits."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from include.retrain.config import PipelineConfig, SplitConfig, load_pipeline
from include.retrain.errors import DataFailure
from include.retrain.stages import split as split_module
from include.retrain.stages.split import (
    hash_holdout_mask,
    id_hashes,
    split_columns,
    split_holdout,
    split_rows,
)
from tests.unit.stages.churn_window import CHURN_YAML, FIRST_DAY, raw_window


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_pipeline(CHURN_YAML)


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
        monkeypatch.setattr(split_module, "CHUNK_ROWS", 3)
        expected = pd.util.hash_pandas_object(ids.astype("str"), index=False).to_numpy()
        hashes = id_hashes(ids)
        np.testing.assert_array_equal(hashes, expected)
        missing = ids.isna().to_numpy()
        assert missing.any()
        assert (hashes[missing] == split_module.MISSING_ID_HASH).all()

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

    def test_hash_split_without_id_or_row_columns_raises(self, window: pd.DataFrame) -> None:
        with pytest.raises(DataFailure, match="id_column or columns that identify a row"):
            split_holdout(
                window,
                SplitConfig(strategy="hash"),
                target="churned",
                task="classification",
                seed=1,
                time_column="ds",
                id_column=None,
            )


class TestRowHashSplit:
    """Without an id column the hash split hashes each row's declared values: the same row, the same side."""

    @staticmethod
    def sides(frame: pd.DataFrame, row_columns: list[str]) -> tuple[set[str], set[str]]:
        """The customer ids (here only a way to name rows) of the training and holdout rows."""
        rows = split_rows(
            frame,
            SplitConfig(strategy="hash", holdout_fraction=0.2),
            target="churned",
            task="classification",
            seed=1,
            time_column="ds",
            id_column=None,
            row_columns=row_columns,
        )
        ids = frame["customer_id"].to_numpy()
        return set(ids[rows.train]), set(ids[rows.holdout])

    def test_row_side_is_the_same_in_overlapping_windows(self, config: PipelineConfig) -> None:
        row_columns = config.dataset.row_identity_columns
        earlier = raw_window(config, FIRST_DAY, 6)
        later = raw_window(config, FIRST_DAY + timedelta(days=1), 6)
        earlier_train, earlier_holdout = self.sides(earlier, row_columns)
        later_train, later_holdout = self.sides(later, row_columns)
        shared = set(earlier["customer_id"]) & set(later["customer_id"])
        assert len(shared) == 5 * 200
        assert later_holdout & shared == earlier_holdout & shared  # the champion never trained on them
        assert later_train & shared == earlier_train & shared
        assert abs(len(later_holdout) / len(later) - 0.2) < 0.04

    def test_row_side_ignores_column_order_row_order_and_the_target(self, config: PipelineConfig) -> None:
        row_columns = config.dataset.row_identity_columns
        assert "churned" not in row_columns
        frame = raw_window(config, FIRST_DAY, 3)
        reordered = frame[frame.columns[::-1]].iloc[::-1].reset_index(drop=True)
        relabelled = frame.assign(churned=1 - frame["churned"])
        expected = self.sides(frame, row_columns)
        assert self.sides(reordered, row_columns[::-1]) == expected
        assert self.sides(relabelled, row_columns) == expected

    def test_too_few_distinct_rows_are_named_with_the_way_out(self) -> None:
        frame = pd.DataFrame({"plan": ["basic"] * 40 + ["premium"] * 40, "churned": [0, 1] * 40})
        with pytest.raises(DataFailure, match=r"80 rows by their values \(\d distinct\) left one side empty"):
            split_rows(
                frame,
                SplitConfig(strategy="hash", holdout_fraction=0.05),
                target="churned",
                task="classification",
                seed=1,
                time_column="ds",
                id_column=None,
                row_columns=["plan"],
            )

    def test_missing_values_and_every_column_type_hash(self) -> None:
        frame = pd.DataFrame(
            {
                "count": pd.array([1, None, 3, 4], dtype="Int64"),
                "amount": [1.5, np.nan, 2.5, 3.5],
                "plan": pd.Categorical(["a", None, "b", "a"]),
                "note": pd.array(["x", None, "z", "w"], dtype="str"),
                "flag": pd.array([True, None, False, True], dtype="boolean"),
                "day": pd.to_datetime(["2026-01-01", None, "2026-01-02", "2026-01-03"]),
            }
        )
        hashes = split_module.row_hashes(frame, list(frame.columns))
        assert hashes.dtype == np.uint64
        assert len(set(hashes.tolist())) == 4  # distinct rows, distinct hashes
        np.testing.assert_array_equal(hashes, split_module.row_hashes(frame.copy(), list(frame.columns)))


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
        rows = ["a", "b"]
        assert split_columns(SplitConfig(strategy="hash"), time_column="ds", id_column=None, row_columns=rows) == rows
        assert split_columns(SplitConfig(strategy="hash"), time_column="ds", id_column="id", row_columns=rows) == ["id"]

    @staticmethod
    def kwargs(seed: int = 42) -> dict:
        return {
            "target": "churned",
            "task": "classification",
            "seed": seed,
            "time_column": "signup_date",
            "id_column": "customer_id",
        }
