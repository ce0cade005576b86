"""A Parquet file as a gate's table, read a column at a time as its batches need it.

Plain data and pyarrow (no Great Expectations import), so a task body can build one before the
gate imports GX.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from include.retrain.frames import read_frame_file


@dataclass(frozen=True)
class ParquetTable:
    """A local Parquet file a gate validates without holding it whole (``gates.batches.batches``).

    A large table is validated a column at a time; handed over as a file, only the column being
    validated is in memory (at 10M rows the raw window is about 800 MiB as a frame, one of its
    columns 40-150 MiB), and expectations that observe only the table's shape (column names, row
    count) see :meth:`shape`. A table under ``COLUMN_BATCH_ROWS`` rows is read whole.
    """

    path: Path
    columns: tuple[str, ...]
    rows: int

    @classmethod
    def open(cls, path: Path) -> ParquetTable:
        """The table in the Parquet file at ``path`` (its columns as ``read`` returns them)."""
        with pq.ParquetFile(path) as parquet:
            schema = parquet.schema_arrow
            # An index stored as a column (a name; a RangeIndex is a dict) is not one of the frame's columns.
            stored_index = {i for i in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(i, str)}
            columns = tuple(name for name in schema.names if name not in stored_index)
            return cls(path=path, columns=columns, rows=parquet.metadata.num_rows)

    def __len__(self) -> int:
        return self.rows

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Some columns (default: all) as a DataFrame, the same as reading the file whole then selecting them."""
        return read_frame_file(self.path, None if columns is None else list(columns))

    def shape(self) -> pd.DataFrame:
        """The table's column names over its row count, holding one byte: all a table-level expectation observes.

        A read-only, zero-stride view (every value 0); GX reads the names and the row count from it.
        """
        values = np.broadcast_to(np.int8(0), (self.rows, len(self.columns)))
        return pd.DataFrame(values, columns=list(self.columns), copy=False)
