"""Unit tests for ``include.retrain.gates.unique``: duplicates found through 64-bit hashes, as pandas finds them.

The lean path must flag exactly the rows ``Series.duplicated(keep=False)`` flags, whatever the
strings, their Arrow layout (chunks, offsets, string or large_string) and hash collisions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from include.retrain.gates import unique
from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.unique import duplicated, string_hashes
from include.retrain.gates.validation import run_gate


def strings(count: int, seed: int = 0) -> list[str]:
    """Ids of varied lengths with repeats, empty strings, non-ASCII and long values."""
    rng = np.random.default_rng(seed)
    values = [f"C{int(n):07d}" for n in rng.integers(0, count * 4, count)]  # some repeat
    values[::97] = ["" for _ in values[::97]]
    values[5:9] = ["é", "é", "ü" * 300, "x" * 301]
    values[50] = values[51] = "y" * 1000
    return values


def arrow_series(values: list[str], chunk_rows: int, arrow_type: pa.DataType, dtype: str = "str") -> pd.Series:
    chunks = [pa.array(values[i : i + chunk_rows], type=arrow_type) for i in range(0, len(values), chunk_rows)]
    series = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks, type=arrow_type)))
    return series.astype(dtype)


class TestDuplicated:
    """duplicated() equals pandas' Series.duplicated(keep=False) on every kind of column."""

    @pytest.mark.parametrize("arrow_type", [pa.large_string(), pa.string()], ids=["large_string", "string"])
    @pytest.mark.parametrize("chunk_rows", [3000, 700], ids=["one-chunk", "chunks"])
    @pytest.mark.parametrize("dtype", ["str", "string[pyarrow]"])
    def test_same_flags_as_pandas(self, arrow_type: pa.DataType, chunk_rows: int, dtype: str) -> None:
        column = arrow_series(strings(3000), chunk_rows, arrow_type, dtype)
        expected = column.duplicated(keep=False).to_numpy()
        assert 0 < expected.sum() < len(column)
        np.testing.assert_array_equal(duplicated(column), expected)

    def test_slices_and_blocks_smaller_than_a_chunk(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(unique, "HASH_BLOCK_ROWS", 64)
        column = arrow_series(strings(3000), 700, pa.large_string())
        for part in (column.iloc[333:2999], column.iloc[::7], column.iloc[[5, 6, 50, 51, 9, 5]]):
            np.testing.assert_array_equal(duplicated(part), part.duplicated(keep=False).to_numpy())

    def test_hash_collisions_are_settled_by_comparing_strings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(unique, "string_hashes", lambda values: np.zeros(len(values), dtype=np.uint64))
        column = pd.Series(["a", "b", "a", "c", "", "", "d"], dtype="str")
        np.testing.assert_array_equal(duplicated(column), [True, False, True, False, True, True, False])

    @pytest.mark.parametrize(
        "column",
        [
            pd.Series(["a", None, "b", "a", None], dtype="str"),
            pd.Series([1, 2, None, 1], dtype="Int64"),
            pd.Series(["a", "b", "a"], dtype=object),
            pd.Series(pd.Categorical(["x", "y", "x"])),
            pd.Series([], dtype="str"),
            pd.Series(["", ""], dtype="str"),
            pd.Series(["a", "", "b", ""], dtype="str"),
        ],
        ids=["missing-values", "nullable-int", "object", "categorical", "empty", "empty-strings", "trailing-empty"],
    )
    def test_small_and_other_columns(self, column: pd.Series) -> None:
        np.testing.assert_array_equal(duplicated(column), column.duplicated(keep=False).to_numpy())


class TestStringHashes:
    @pytest.mark.parametrize("block_rows", [1 << 16, 16])
    def test_a_hash_depends_on_the_string_alone(self, block_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
        values = strings(500)
        alone = [string_hashes(pa.chunked_array([pa.array([value])]))[0] for value in values]
        monkeypatch.setattr(unique, "HASH_BLOCK_ROWS", block_rows)
        layouts = {
            "one chunk": pa.chunked_array([pa.array(values, type=pa.large_string())]),
            "chunks": pa.chunked_array([pa.array(values[i : i + 70]) for i in range(0, 500, 70)]),
            "sliced": pa.chunked_array([pa.array(["pad"] * 9 + values, type=pa.large_string()).slice(9)]),
        }
        for layout, array in layouts.items():
            np.testing.assert_array_equal(string_hashes(array), alone, err_msg=layout)

    def test_distinct_ids_get_distinct_hashes(self) -> None:
        ids = [f"C20260104-{n:07d}" for n in range(200_000)] + ["", "a", "a\x00", "\x00a"]
        hashes = string_hashes(pa.chunked_array([pa.array(ids)]))
        assert len(np.unique(hashes)) == len(ids)


class TestUniqueExpectation:
    """GX's ExpectColumnValuesToBeUnique now runs on duplicated(), with GX's own report."""

    def test_counts_and_samples_duplicates_ignoring_missing_values(self, monkeypatch: pytest.MonkeyPatch) -> None:
        calls = []
        monkeypatch.setattr(unique, "duplicated", lambda column: calls.append(len(column)) or duplicated(column))
        frame = pd.DataFrame({"id": pd.Series(["a", "b", "a", None, "c", "c", "d", "c"], dtype="str")})
        spec = ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": "id"}, table="t")
        (outcome,) = run_gate("validate_raw", {"t": frame}, [spec]).outcomes
        assert calls == [7]  # the registered metric is this module's, given the non-missing values
        assert (outcome.success, outcome.unexpected_count) == (False, 5)
        assert outcome.unexpected_sample == ["a", "a", "c", "c", "c"]
