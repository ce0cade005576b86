"""Unit tests for ``include.retrain.gates.parquet_table``: a Parquet file as a gate's table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from include.retrain.gates.parquet_table import ParquetTable


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "amount": pd.array([1, None, 3], dtype="Int64"),
            "plan": pd.Categorical(["x", "y", "x"]),
            "day": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
        }
    )


def test_open_names_the_columns_and_counts_the_rows(frame: pd.DataFrame, tmp_path: Path) -> None:
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    table = ParquetTable.open(tmp_path / "t.parquet")
    assert table.columns == ("id", "amount", "plan", "day")
    assert len(table) == 3


def test_an_index_stored_as_a_column_is_not_a_column(frame: pd.DataFrame, tmp_path: Path) -> None:
    frame.set_index("id").to_parquet(tmp_path / "t.parquet")
    table = ParquetTable.open(tmp_path / "t.parquet")
    assert table.columns == ("amount", "plan", "day")
    assert list(table.read().columns) == list(table.columns)


def test_read_is_the_file_read_whole_then_selected(frame: pd.DataFrame, tmp_path: Path) -> None:
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    table = ParquetTable.open(tmp_path / "t.parquet")
    whole = pd.read_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(table.read(), whole)
    pd.testing.assert_frame_equal(table.read(["plan", "amount"]), whole[["plan", "amount"]])


def test_shape_has_the_names_and_row_count_without_the_memory(tmp_path: Path) -> None:
    # Ten billion rows of three columns would be 30 GB as values: the shape holds one byte.
    table = ParquetTable(path=tmp_path / "unread.parquet", columns=("a", "b", "c"), rows=10**10)
    shape = table.shape()
    assert shape.shape == (10**10, 3)
    assert list(shape.columns) == ["a", "b", "c"]
