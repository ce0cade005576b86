"""Unit tests for ``include.retrain.stages.ingest``: file selection, coercion, assembly."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dev.synthetic.churn import churn_day
from dev.synthetic.landing import encode_frame
from include.retrain.config import ColumnSpec, DatasetConfig, PipelineConfig, load_pipeline
from include.retrain.errors import DataFailure
from include.retrain.runs import TrainingWindow
from include.retrain.stages.ingest import (
    PANDAS_DTYPES,
    LandingFile,
    assemble_window,
    coerce_to_schema,
    empty_window_failure,
    malformed_folders,
    sample_rows,
    select_window_files,
)
from include.retrain.stages.landing_file import read_landing_file

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"
WINDOW = TrainingWindow(start=date(2026, 1, 4), end=date(2026, 2, 1))
SOURCE = "s3://retrain-landing/churn/ds=2026-01-05/part-0"


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_pipeline(CHURN_YAML)


@pytest.fixture(scope="module")
def dataset(config: PipelineConfig) -> DatasetConfig:
    return config.dataset


def _key(day: str, filename: str = "part-0.parquet", dataset: str = "churn") -> str:
    return f"{dataset}/ds={day}/{filename}"


class TestSelectWindowFiles:
    """select_window_files keeps only the window's data files of the configured format."""

    def test_select_keeps_only_partitions_inside_window(self, dataset: DatasetConfig) -> None:
        listing = [
            (_key("2026-01-03"), 10),  # the day before start: out
            (_key("2026-01-04"), 10),  # start: in (inclusive)
            (_key("2026-01-20"), 10),
            (_key("2026-01-31"), 10),  # last day: in
            (_key("2026-02-01"), 10),  # end: out (exclusive)
            (_key("2026-03-01"), 10),
        ]
        selected = select_window_files(listing, dataset, WINDOW)
        assert [f.partition for f in selected] == [date(2026, 1, 4), date(2026, 1, 20), date(2026, 1, 31)]
        assert selected[0] == LandingFile(key=_key("2026-01-04"), partition=date(2026, 1, 4), size=10)

    def test_select_ignores_markers_hidden_other_format_other_dataset_and_bad_partitions(
        self, dataset: DatasetConfig
    ) -> None:
        good = [_key("2026-01-10"), _key("2026-01-10", "part-1.pq")]
        noise = [
            _key("2026-01-10", "_SUCCESS"),
            _key("2026-01-10", ".part-2.parquet"),
            _key("2026-01-10", "_tmp.parquet"),
            _key("2026-01-10", "part-3.csv"),
            _key("2026-01-10", "part-4.parquet.crc"),
            _key("2026-01-10", ""),  # a "folder" marker
            _key("2026-01-10", "nested/part-5.parquet"),
            _key("2026-01-10", dataset="churn_v2"),
            _key("2026-01-10", dataset="other"),
            "churn/ds=2026-1-10/part-0.parquet",
            "churn/ds=2026-02-30/part-0.parquet",
            "churn/date=2026-01-10/part-0.parquet",
            "churn/ds=2026-01-10x/part-0.parquet",
            "churn/part-0.parquet",
            "prefix/churn/ds=2026-01-10/part-0.parquet",
        ]
        selected = select_window_files([(k, 1) for k in noise + good], dataset, WINDOW)
        assert [f.key for f in selected] == sorted(good)

    def test_select_respects_csv_format(self, dataset: DatasetConfig) -> None:
        csv_dataset = dataset.model_copy(update={"format": "csv"})
        listing = [(_key("2026-01-10", "part-0.csv"), 1), (_key("2026-01-10"), 1)]
        assert [f.key for f in select_window_files(listing, csv_dataset, WINDOW)] == [_key("2026-01-10", "part-0.csv")]

    def test_select_respects_dataset_prefix(self, dataset: DatasetConfig) -> None:
        prefixed = dataset.model_copy(update={"prefix": "landing/v1"})
        listing = [(_key("2026-01-10"), 1), ("landing/v1/" + _key("2026-01-11"), 1)]
        assert [f.key for f in select_window_files(listing, prefixed, WINDOW)] == ["landing/v1/" + _key("2026-01-11")]

    def test_select_is_sorted_by_partition_then_key(self, dataset: DatasetConfig) -> None:
        keys = [
            _key("2026-01-12", "b.parquet"),
            _key("2026-01-05"),
            _key("2026-01-12", "a.parquet"),
            _key("2026-01-08"),
        ]
        selected = select_window_files([(k, 1) for k in keys], dataset, WINDOW)
        assert [f.key for f in selected] == [
            _key("2026-01-05"),
            _key("2026-01-08"),
            _key("2026-01-12", "a.parquet"),
            _key("2026-01-12", "b.parquet"),
        ]

    def test_select_refuses_file_over_size_limit(self, dataset: DatasetConfig) -> None:
        small = dataset.model_copy(update={"max_file_mb": 1.0})
        limit = 1024 * 1024
        ok = [(_key("2026-01-05"), limit)]  # exactly at the limit is allowed
        assert len(select_window_files(ok, small, WINDOW)) == 1
        with pytest.raises(DataFailure) as excinfo:
            select_window_files([*ok, (_key("2026-01-06"), limit + 1)], small, WINDOW)
        message = str(excinfo.value)
        assert "s3://retrain-landing/churn/ds=2026-01-06/part-0.parquet" in message
        assert "max_file_mb" in message
        assert "1 MiB" in message

    def test_select_ignores_size_of_files_outside_window(self, dataset: DatasetConfig) -> None:
        small = dataset.model_copy(update={"max_file_mb": 1.0})
        listing = [(_key("2025-06-01"), 50 * 1024 * 1024), (_key("2026-01-05", "_SUCCESS"), 50 * 1024 * 1024)]
        assert select_window_files(listing, small, WINDOW) == []


class TestMalformedFolders:
    """Folders that are no ds=YYYY-MM-DD day are skipped by ingest and listed, never silently."""

    def test_lists_folders_that_are_no_day(self, dataset: DatasetConfig) -> None:
        listing = [
            (_key("2026-01-05"), 10),
            (_key("2026-13-40"), 10),  # the shape of a date, no such day
            (_key("2026-02-30", "part-1.parquet"), 10),
            ("churn/ds=yesterday/part-0.parquet", 10),
            ("churn/2026-01-06/part-0.parquet", 10),  # no ds=
            ("churn/ds=2026-1-7/part-0.parquet", 10),
            ("churn/ds=2026-13-40/part-1.parquet", 10),  # listed once
        ]

        assert malformed_folders(listing, dataset) == [
            "2026-01-06/",
            "ds=2026-02-30/",
            "ds=2026-1-7/",
            "ds=2026-13-40/",
            "ds=yesterday/",
        ]
        assert [f.key for f in select_window_files(listing, dataset, WINDOW)] == [_key("2026-01-05")]

    def test_ignores_hidden_folders_loose_files_and_other_datasets(self, dataset: DatasetConfig) -> None:
        listing = [
            ("churn/_temporary/0/part-0.parquet", 10),
            ("churn/.staging/part-0.parquet", 10),
            ("churn/README.txt", 10),
            ("churners/ds=yesterday/part-0.parquet", 10),
            (_key("2026-01-05"), 10),
        ]

        assert malformed_folders(listing, dataset) == []


class TestEmptyWindowFailure:
    """One message: the window, the landing prefix, and the oldest and newest partitions there are."""

    def test_names_window_prefix_and_the_partitions_that_exist(self, dataset: DatasetConfig) -> None:
        listing = [(_key("2025-11-30"), 10), (_key("2025-12-01"), 10), (_key("2026-03-02"), 10)]

        failure = empty_window_failure(listing, dataset, WINDOW)

        assert isinstance(failure, DataFailure)
        assert str(failure) == (
            "no landing data in the training window 2026-01-04..2026-01-31 (28 days) under "
            "s3://retrain-landing/churn/: its partitions run from ds=2025-11-30 (oldest) to ds=2026-03-02 (newest), "
            "3 days with parquet files. Land the window's partitions, or trigger with the Param window_end "
            "(the window ends the day before it)."
        )

    def test_says_when_no_partition_exists(self, dataset: DatasetConfig) -> None:
        listing = [("churn/ds=yesterday/part-0.parquet", 10), (_key("2026-01-05", "part-0.csv"), 10)]

        message = str(empty_window_failure(listing, dataset, WINDOW))

        assert "s3://retrain-landing/churn/: no ds=YYYY-MM-DD partition with parquet files exists there." in message


class TestCoerceToSchema:
    """coerce_to_schema converts what it can and leaves the rest for the raw gate to report."""

    def test_coerce_csv_frame_to_declared_dtypes(self, tmp_path: Path, config: PipelineConfig) -> None:
        day = date(2026, 1, 5)
        frame = churn_day(day, 300)
        path = tmp_path / "part-0.csv"
        path.write_bytes(encode_frame(frame, "csv"))
        raw = assemble_window([(day, read_landing_file(path, "csv", SOURCE))], "ds")
        coerced = coerce_to_schema(raw, config.dataset.columns)
        for name, spec in config.dataset.columns.items():
            assert str(coerced[name].dtype) == PANDAS_DTYPES[spec.type], name
        assert coerced["tenure_months"].tolist() == frame["tenure_months"].tolist()
        np.testing.assert_allclose(coerced["monthly_charges"], frame["monthly_charges"])
        assert coerced["signup_date"].tolist() == frame["signup_date"].tolist()
        # Missing categoricals stay missing (never the string "nan").
        assert coerced["region"].isna().sum() == frame["region"].isna().sum()
        assert set(coerced["region"].cat.categories) <= {"north", "south", "east", "west"}
        assert set(coerced["plan"].cat.categories) <= {"basic", "standard", "premium"}

    def test_coerce_parquet_frame_is_unchanged(self, config: PipelineConfig) -> None:
        frame = churn_day(date(2026, 1, 5), 100)
        coerced = coerce_to_schema(frame, config.dataset.columns)
        pd.testing.assert_frame_equal(coerced, frame)

    def test_coerce_leaves_non_numeric_int_column_uncoerced(self) -> None:
        frame = pd.DataFrame({"n": ["1", "2", "x"], "ok": ["1", None, "3"]}, dtype="str")
        out = coerce_to_schema(frame, {"n": ColumnSpec(type="int"), "ok": ColumnSpec(type="int")})
        assert str(out["n"].dtype) == "str"
        assert out["n"].tolist() == ["1", "2", "x"]
        assert str(out["ok"].dtype) == "Int64"
        assert out["ok"].isna().tolist() == [False, True, False]

    def test_coerce_leaves_fractional_int_column_uncoerced(self) -> None:
        frame = pd.DataFrame({"n": ["1", "1.5", None], "f": ["1.0", "2", None]}, dtype="str")
        out = coerce_to_schema(frame, {"n": ColumnSpec(type="int"), "f": ColumnSpec(type="int")})
        assert str(out["n"].dtype) == "str"
        assert str(out["f"].dtype) == "Int64"
        assert out["f"].tolist()[:2] == [1, 2]

    def test_coerce_leaves_float_int_column_with_fraction_uncoerced(self) -> None:
        frame = pd.DataFrame({"n": [1.0, 2.5, np.nan]})
        out = coerce_to_schema(frame, {"n": ColumnSpec(type="int")})
        assert str(out["n"].dtype) == "float64"

    def test_coerce_leaves_missing_and_undeclared_columns_alone(self, config: PipelineConfig) -> None:
        frame = churn_day(date(2026, 1, 5), 10).drop(columns=["plan"]).assign(extra=["e"] * 10)
        out = coerce_to_schema(frame, config.dataset.columns)
        assert "plan" not in out.columns
        assert out["extra"].tolist() == ["e"] * 10
        assert list(out.columns) == list(frame.columns)

    def test_coerce_maps_bool_strings(self) -> None:
        frame = pd.DataFrame({"b": ["true", "False", " 1 ", "0", None, "TRUE"]}, dtype="str")
        out = coerce_to_schema(frame, {"b": ColumnSpec(type="bool")})
        assert str(out["b"].dtype) == "boolean"
        assert out["b"].tolist() == [True, False, True, False, pd.NA, True]

    def test_coerce_maps_the_yes_no_spellings_of_published_tables(self) -> None:
        frame = pd.DataFrame({"b": ["Yes", "No", "y", "N", "T", "f", "1.0", "0.0"]}, dtype="str")
        out = coerce_to_schema(frame, {"b": ColumnSpec(type="bool")})
        assert out["b"].tolist() == [True, False, True, False, True, False, True, False]

    def test_coerce_leaves_unknown_bool_strings_uncoerced(self) -> None:
        frame = pd.DataFrame({"b": ["true", "maybe"]}, dtype="str")
        out = coerce_to_schema(frame, {"b": ColumnSpec(type="bool")})
        assert str(out["b"].dtype) == "str"

    def test_coerce_parquet_bool_column_with_nulls(self, tmp_path: Path) -> None:
        """A Parquet bool column with nulls from a non-pandas writer reads as object True/None/False."""
        path = tmp_path / "part-0.parquet"
        pq.write_table(pa.table({"b": pa.array([True, None, False])}), path)
        read = read_landing_file(path, "parquet", SOURCE)
        out = coerce_to_schema(read, {"b": ColumnSpec(type="bool")})
        assert str(out["b"].dtype) == "boolean"
        assert out["b"].tolist() == [True, pd.NA, False]

    def test_coerce_iso_strings_to_dates_and_datetimes(self) -> None:
        frame = pd.DataFrame({"d": ["2026-01-05", None], "t": ["2026-01-05T10:00:00+02:00", "2026-01-05T08:00:00Z"]})
        out = coerce_to_schema(frame, {"d": ColumnSpec(type="date"), "t": ColumnSpec(type="datetime")})
        assert str(out["d"].dtype) == "datetime64[us]"
        assert out["d"].iloc[0] == pd.Timestamp("2026-01-05")
        assert pd.isna(out["d"].iloc[1])
        assert str(out["t"].dtype) == "datetime64[us]"
        assert out["t"].tolist() == [pd.Timestamp("2026-01-05 08:00:00")] * 2


@pytest.fixture(scope="module")
def window_frame(config: PipelineConfig) -> pd.DataFrame:
    days = [date(2026, 1, 4) + timedelta(days=i) for i in range(5)]
    raw = assemble_window([(day, churn_day(day, 400)) for day in days], config.dataset.partition_column)
    return coerce_to_schema(raw, config.dataset.columns)


class TestAssembleAndSample:
    """assemble_window adds the partition date; sample_rows is deterministic."""

    def test_assemble_window_adds_partition_column(self) -> None:
        days = [date(2026, 1, 5), date(2026, 1, 6)]
        frames = [(day, churn_day(day, 30)) for day in days]
        combined = assemble_window(frames, "ds")
        assert str(combined["ds"].dtype) == "datetime64[us]"
        assert len(combined) == 60
        assert combined["ds"].iloc[:30].eq(pd.Timestamp("2026-01-05")).all()
        assert combined["ds"].iloc[30:].eq(pd.Timestamp("2026-01-06")).all()
        assert combined.index.tolist() == list(range(60))
        assert frames == []  # consumed: each file's columns were released into the window

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            # the same columns: assembled a column at a time
            ({"n": [1, 2]}, {"n": [3, None]}),  # int64 then float64 (a null)
            ({"n": pd.array([1, 2], dtype="Int64")}, {"n": [0.5, 1.5]}),
            ({"c": pd.Categorical(["a", "b"])}, {"c": pd.Categorical(["c", None])}),  # different categories
            ({"c": pd.Categorical(["a", "b"])}, {"c": pd.Categorical(["b", "a"])}),
            ({"s": ["a", None]}, {"s": [1, 2]}),  # text in one file, numbers in the other
            ({"b": [True, False]}, {"b": pd.array([True, None], dtype="boolean")}),
            ({"d": pd.to_datetime(["2026-01-01", None])}, {"d": pd.to_datetime(["2026-01-02", "2026-01-03"])}),
            ({"x": [1.0, 2.0], "y": ["a", "b"]}, {"x": [3.0, 4.0], "y": [None, None]}),
            # different columns: pandas aligns them
            ({"x": [1, 2], "y": ["a", "b"]}, {"y": ["c", "d"], "x": [3, 4]}),
            ({"x": [1, 2]}, {"x": [3, 4], "z": ["e", "f"]}),
        ],
    )
    def test_assemble_window_is_what_concatenating_the_files_gives(self, first: dict, second: dict) -> None:
        """A column at a time or not, the window is ``pd.concat`` of the files' frames with the partition added."""
        days = [date(2026, 1, 5), date(2026, 1, 6)]
        parts = [pd.DataFrame(first), pd.DataFrame(second)]
        expected = pd.concat(
            [part.assign(ds=pd.Timestamp(day)) for day, part in zip(days, parts, strict=True)], ignore_index=True
        ).astype({"ds": "datetime64[us]"})

        combined = assemble_window([(day, part.copy()) for day, part in zip(days, parts, strict=True)], "ds")

        pd.testing.assert_frame_equal(combined, expected)

    def test_assemble_empty_window_has_partition_column(self) -> None:
        empty = assemble_window([], "ds")
        assert list(empty.columns) == ["ds"]
        assert len(empty) == 0
        assert str(empty["ds"].dtype) == "datetime64[us]"

    def test_sample_rows_is_deterministic(self, window_frame: pd.DataFrame) -> None:
        first = sample_rows(window_frame, 0.3, seed=42)
        second = sample_rows(window_frame, 0.3, seed=42)
        pd.testing.assert_frame_equal(first, second)
        other = sample_rows(window_frame, 0.3, seed=43)
        assert set(other["customer_id"]) != set(first["customer_id"])

    def test_sample_rows_returns_requested_share_in_original_order(self, window_frame: pd.DataFrame) -> None:
        sample = sample_rows(window_frame, 0.25, seed=42)
        assert abs(len(sample) - 0.25 * len(window_frame)) <= 1
        assert sample.index.tolist() == list(range(len(sample)))
        positions = window_frame.reset_index().set_index("customer_id").loc[sample["customer_id"], "index"]
        assert positions.is_monotonic_increasing
        assert set(sample["customer_id"]) <= set(window_frame["customer_id"])

    def test_sample_rows_full_fraction_returns_all_rows(self, window_frame: pd.DataFrame) -> None:
        assert sample_rows(window_frame, 1.0, seed=42) is window_frame
