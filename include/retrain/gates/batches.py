"""How Great Expectations sees one table: the batches a gate validates, and what each holds.

Plain pandas (no Great Expectations import). A large table is validated a column at a time, so
GX never copies it whole per expectation; a table given as a Parquet file is read a column at a
time as its batches need it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeAlias

import pandas as pd

from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.parquet_table import ParquetTable

#: Expectations that observe a table's whole column set; every other one reads only its column.
_COLUMN_SET_EXPECTATIONS = frozenset({"ExpectTableColumnsToMatchSet", "ExpectColumnToExist", "ExpectColumnDtypeToBeIn"})

#: From this many rows on, each column's expectations are validated on that column alone.
COLUMN_BATCH_ROWS = 500_000


def columns_read(frame: pd.DataFrame, specs: Sequence[ExpectationSpec], key: str | None = None) -> pd.DataFrame:
    """``frame`` restricted to the columns ``specs`` read (and the row key), same rows.

    GX copies the whole table (every column) for each column expectation it evaluates, so a
    feature matrix checked on its target alone would be copied in full: restricting it first
    keeps a gate's cost proportional to what it checks. Tables whose specs look at the column
    set, or name a column the frame lacks (GX reports that), are passed whole.
    """
    if any(spec.expectation in _COLUMN_SET_EXPECTATIONS for spec in specs):
        return frame
    wanted = {spec.kwargs["column"] for spec in specs if "column" in spec.kwargs} | ({key} if key else set())
    if not wanted <= set(frame.columns):
        return frame
    # Column order as in the frame; at least one column, so the row count stays observable.
    return frame[[c for c in frame.columns if c in wanted] or list(frame.columns[:1])]


#: Expectations that observe only a table's shape: its column names and its row count.
_SHAPE_EXPECTATIONS = frozenset(
    {
        "ExpectTableColumnsToMatchSet",
        "ExpectTableColumnsToMatchOrderedList",
        "ExpectTableColumnCountToEqual",
        "ExpectTableColumnCountToBeBetween",
        "ExpectTableRowCountToBeBetween",
        "ExpectTableRowCountToEqual",
        "ExpectColumnToExist",
    }
)

#: A gate's table: a frame, or a Parquet file read a column at a time as its batches need it.
Table: TypeAlias = pd.DataFrame | ParquetTable


def batches(
    table: Table, specs: Sequence[ExpectationSpec], key: str | None = None
) -> Iterator[tuple[pd.DataFrame, list[ExpectationSpec]]]:
    """How GX sees one table: ``(frame, specs)`` pairs whose results together are the table's.

    A table under :data:`COLUMN_BATCH_ROWS` rows is one batch of the columns its specs read. A
    larger one (the raw window) is split: each column's expectations run on that column alone
    (and the row key), and only the column-set and table-level ones see the whole table, where
    GX computes no per-row metric. GX then never copies the whole window once per column
    expectation: at 10M rows that was a third of validate_raw's time and 2 GiB of its memory.
    A :class:`ParquetTable`'s columns are read one batch at a time, and table-level specs that
    observe only its shape see :meth:`ParquetTable.shape`: the table is never in memory whole.
    """
    if len(table) < COLUMN_BATCH_ROWS:
        frame = table.read() if isinstance(table, ParquetTable) else table
        yield columns_read(frame, specs, key), list(specs)
        return
    whole: list[ExpectationSpec] = []
    by_column: dict[str, list[ExpectationSpec]] = {}
    for spec in specs:
        column = spec.kwargs.get("column")
        if column is None or column not in table.columns or spec.expectation == "ExpectTableColumnsToMatchSet":
            whole.append(spec)
        else:
            by_column.setdefault(column, []).append(spec)
    if whole:
        yield _whole(table, whole), whole
    for column, column_specs in by_column.items():
        columns = [column, *([key] if key and key != column else [])]
        yield (table.read(columns) if isinstance(table, ParquetTable) else table[columns]), column_specs


def _whole(table: Table, specs: Sequence[ExpectationSpec]) -> pd.DataFrame:
    """The frame ``specs`` see as the whole table: a Parquet table's shape when that is all they observe.

    A spec naming a column the table lacks observes only that it is missing.
    """
    if isinstance(table, pd.DataFrame):
        return table
    missing = {spec.kwargs.get("column") for spec in specs} - {None, *table.columns}
    if all(spec.expectation in _SHAPE_EXPECTATIONS or spec.kwargs.get("column") in missing for spec in specs):
        return table.shape()
    return table.read()  # e.g. a multi-column check: it reads real values
