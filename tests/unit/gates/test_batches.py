"""Unit tests for ``include.retrain.gates.batches``: the batches a gate hands Great Expectations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from include.retrain.gates import batches as gate_batches
from include.retrain.gates.batches import batches
from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.parquet_table import ParquetTable

SPECS = [
    ExpectationSpec("ExpectTableColumnsToMatchSet", {"column_set": ["a", "b", "c"]}),
    ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": 1}),
    ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "a"}),
    ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": "b", "min_value": 0}),
    ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "b"}),
]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1.0, 2.0, None, 4.0], "b": [5, 6, 7, 8], "c": ["w", "x", "y", "z"]})


@pytest.fixture
def table(frame: pd.DataFrame, tmp_path: Path) -> ParquetTable:
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    return ParquetTable.open(tmp_path / "t.parquet")


def test_a_small_table_is_one_batch_of_the_columns_its_specs_read(frame: pd.DataFrame) -> None:
    only_b = [spec for spec in SPECS if spec.kwargs.get("column") == "b"]
    ((batch, specs),) = batches(frame, only_b)
    assert list(batch.columns) == ["b"]
    assert specs == only_b


def test_a_large_frame_is_split_into_the_table_and_one_batch_per_column(
    frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate_batches, "COLUMN_BATCH_ROWS", 0)
    (whole, whole_specs), (a, a_specs), (b, b_specs) = batches(frame, SPECS)
    assert whole is frame
    assert [s.expectation for s in whole_specs] == ["ExpectTableColumnsToMatchSet", "ExpectTableRowCountToBeBetween"]
    pd.testing.assert_frame_equal(a, frame[["a"]])
    pd.testing.assert_frame_equal(b, frame[["b"]])
    assert (a_specs, b_specs) == (SPECS[2:3], SPECS[3:])


def test_a_large_parquet_table_shows_its_shape_and_reads_a_column_per_batch(
    frame: pd.DataFrame, table: ParquetTable, monkeypatch: pytest.MonkeyPatch, parquet_reads: list[list[str] | None]
) -> None:
    monkeypatch.setattr(gate_batches, "COLUMN_BATCH_ROWS", 0)
    reads = parquet_reads
    split = batches(table, SPECS)
    whole, _ = next(split)
    assert reads == []  # the table-level specs see its shape: nothing read
    assert whole.shape == frame.shape
    assert list(whole.columns) == list(frame.columns)
    a, _ = next(split)
    assert reads == [["a"]]  # read when its batch comes, not before
    pd.testing.assert_frame_equal(a, frame[["a"]])
    b, _ = next(split)
    pd.testing.assert_frame_equal(b, frame[["b"]])
    assert reads == [["a"], ["b"]]


def test_a_spec_on_a_missing_column_sees_only_the_shape(table: ParquetTable, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate_batches, "COLUMN_BATCH_ROWS", 0)
    missing = ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "gone"})
    ((whole, specs),) = batches(table, [missing])
    assert specs == [missing]
    assert (whole.to_numpy() == 0).all()  # the shape's stand-in values


def test_a_check_across_columns_gets_the_real_table(
    frame: pd.DataFrame, table: ParquetTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate_batches, "COLUMN_BATCH_ROWS", 0)
    pair = ExpectationSpec("ExpectColumnPairValuesToBeEqual", {"column_A": "a", "column_B": "b"})
    ((whole, _),) = batches(table, [SPECS[1], pair])
    pd.testing.assert_frame_equal(whole, frame)
