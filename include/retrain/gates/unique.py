"""GX's ``column_values.unique`` metric for the pandas engine, lean on long string columns.

GX flags duplicates with ``column.duplicated(keep=False)``. On a pyarrow-backed string column
(what ingest makes of a ``string`` column, e.g. the id) pandas dictionary-encodes the whole column
for that: a hash table of every distinct string plus a copy of them. At 10M unique ids that is
1.4 GiB for a 240 MiB column, and it was ``validate_raw``'s peak. Here each string is first
reduced to a 64-bit hash computed with numpy from Arrow's buffers, a block at a time; only the
rows whose hash occurs more than once are then compared as strings. Same result: a row is
flagged when its value occurs more than once (a hash collision only adds rows to the exact
comparison). Other columns, and string columns with missing values, keep pandas' own method.

Imported only by ``gates.validation``, inside gate tasks.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.metrics.column_map_metrics.column_values_unique import ColumnValuesUnique
from great_expectations.expectations.metrics.map_metric_provider import column_condition_partial

_REGISTRY_LOGGER = logging.getLogger("great_expectations.expectations.registry")

#: Strings hashed at a time: their bytes, widened to 64 bits, stay a few MiB.
HASH_BLOCK_ROWS = 1 << 16


def _position_weights(count: int) -> np.ndarray:
    """An odd pseudo-random 64-bit weight per byte position (splitmix64 of the position): fixed, no state."""
    with np.errstate(over="ignore"):
        z = np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) | np.uint64(1)


def _block_hashes(block: pa.Array) -> np.ndarray:
    """Each string's weighted sum of its bytes (mod 2**64) plus its length, for one block without nulls."""
    block = block.cast(pa.large_binary())  # one layout (int64 offsets) for string and large_string
    offsets_buffer, data_buffer = block.buffers()[1:3]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[block.offset : block.offset + len(block) + 1]
    lengths = np.diff(offsets)
    first, last = int(offsets[0]), int(offsets[-1])
    hashes = lengths.astype(np.uint64)
    if last == first:  # only empty strings
        return hashes
    data = np.frombuffer(data_buffer, dtype=np.uint8)[first:last].astype(np.uint64)
    starts = offsets[:-1] - first
    position = np.arange(last - first) - np.repeat(starts, lengths)  # each byte's place in its string
    with np.errstate(over="ignore"):
        data *= _position_weights(int(lengths.max()))[position]
        filled = lengths > 0
        hashes[filled] += np.add.reduceat(data, starts[filled])
    return hashes


def string_hashes(values: pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of every string in ``values`` (no nulls); equal strings have equal hashes."""
    hashes = np.empty(len(values), dtype=np.uint64)
    done = 0
    for chunk in values.chunks:
        for start in range(0, len(chunk), HASH_BLOCK_ROWS):
            block = chunk.slice(start, HASH_BLOCK_ROWS)
            hashes[done : done + len(block)] = _block_hashes(block)
            done += len(block)
    return hashes


def _arrow_strings(column: pd.Series) -> pa.ChunkedArray | None:
    """The column's Arrow strings when it is a pyarrow-backed string column without missing values."""
    dtype = column.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return None
    values = column.array.__arrow_array__()  # the column's own buffers, no copy
    return values if values.null_count == 0 else None


def duplicated(column: pd.Series) -> np.ndarray:
    """``column.duplicated(keep=False)`` as an array: True for every row whose value occurs more than once."""
    values = _arrow_strings(column)
    if values is None:
        return column.duplicated(keep=False).to_numpy()
    candidates = np.flatnonzero(pd.Series(string_hashes(values)).duplicated(keep=False).to_numpy())
    flags = np.zeros(len(column), dtype=bool)
    if candidates.size:
        flags[candidates] = column.iloc[candidates].duplicated(keep=False).to_numpy()
    return flags


_level = _REGISTRY_LOGGER.level
_REGISTRY_LOGGER.setLevel(logging.ERROR)  # re-registering is the point: no "overwriting" warning
try:

    class LeanColumnValuesUnique(ColumnValuesUnique):
        """``column_values.unique`` for pandas: :func:`duplicated` instead of ``Series.duplicated``."""

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:  # noqa: N805  (GX passes the metric class)
            return pd.Series(~duplicated(column), index=column.index)

finally:
    _REGISTRY_LOGGER.setLevel(_level)
