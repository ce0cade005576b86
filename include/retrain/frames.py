"""DataFrames as Parquet artifacts in the store (zstd, via a temporary local file)."""

from __future__ import annotations

import ctypes
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from include.retrain.storage import ArtifactRef, ArtifactStore

PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"

#: pyarrow's default row group size: the rows converted to Arrow at a time when a larger frame is
#: written, and the size above which an artifact is read a column at a time.
CHUNK_ROWS = 1024 * 1024


def write_frame(store: ArtifactStore, key: str, frame: pd.DataFrame) -> ArtifactRef:
    """Write ``frame`` as Parquet at ``key`` and return its ref (with sha256).

    A frame of more than ``CHUNK_ROWS`` rows is converted to Arrow that many rows at a time (each
    a row group, the layout a single write has), under the schema of the whole frame: one write
    holds an Arrow copy of the whole frame beside it (at 10M rows, about 600 MiB of peak RSS in
    ingest). A smaller frame is one write: the schema pass would cost more than the memory saved.
    """
    if len(frame) <= CHUNK_ROWS or not all(isinstance(name, str) for name in frame.columns):
        # (the schema names columns that are not strings as strings, which the chunks would not match)
        with tempfile.TemporaryDirectory(prefix="retrain-") as tmp:
            path = Path(tmp) / "frame.parquet"
            frame.to_parquet(path, index=False, compression="zstd")
            return store.put_file(key, path, content_type=PARQUET_CONTENT_TYPE)
    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    chunks = (frame.iloc[start : start + CHUNK_ROWS] for start in range(0, len(frame), CHUNK_ROWS))
    return write_frames(store, key, chunks, schema=schema)


def write_frames(
    store: ArtifactStore, key: str, chunks: Iterable[pd.DataFrame], schema: pa.Schema | None = None
) -> ArtifactRef:
    """Write same-schema DataFrames as the row groups of one Parquet artifact at ``key``.

    One chunk is in memory at a time (a feature matrix of 8M rows need never exist whole); the
    file reads back as their concatenation. Every chunk is cast to ``schema``, by default the
    first chunk's.
    """
    with tempfile.TemporaryDirectory(prefix="retrain-") as tmp:
        path = Path(tmp) / "frame.parquet"
        writer: pq.ParquetWriter | None = None
        try:
            for chunk in chunks:
                schema = writer.schema if writer is not None else schema
                table = pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise ValueError(f"no rows to write at {key}: write_frames needs at least one chunk")
        return store.put_file(key, path, content_type=PARQUET_CONTENT_TYPE)


def read_frame(store: ArtifactStore, ref: ArtifactRef, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a Parquet artifact after checking its sha256; optionally only some columns.

    Above ``CHUNK_ROWS`` rows, a column at a time: Arrow holds one decoded column beside the
    growing frame, and the pages its allocator kept for reuse go back to the system after each
    (``self_destruct`` hands the buffers to pandas where it can). Reading the whole table first
    holds the decoded table and the frame together: at 10M rows about 550 MiB more peak RSS than
    the frame itself, while below a million rows a conversion per column costs more CPU than
    that memory is worth. Same frame as ``pq.read_table(path).to_pandas()`` either way: each
    column is converted with the file's pandas metadata (nullable and categorical dtypes).
    """
    with local_copy(store, ref) as path:
        return read_frame_file(path, columns)


def read_frame_file(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A local Parquet file as a DataFrame; above ``CHUNK_ROWS`` rows a column at a time (see :func:`read_frame`)."""
    with pq.ParquetFile(path) as parquet:
        names = parquet.schema_arrow.names if columns is None else columns
        if missing := [name for name in names if name not in parquet.schema_arrow.names]:
            raise ValueError(
                f"Parquet file {path.name} has no column {missing}; its columns: {parquet.schema_arrow.names}"
            )
        metadata = parquet.schema_arrow.pandas_metadata or {}
        stored_index = any(isinstance(index, str) for index in metadata.get("index_columns", []))
        if parquet.metadata.num_rows <= CHUNK_ROWS or not names or stored_index:
            # small, no columns, or an index stored as columns (never in a bundle artifact): as a whole
            table = parquet.read(columns=columns)
            frame = table.to_pandas(self_destruct=True, split_blocks=True)
            del table
            release_unused_memory()
            return frame
        parts = {}
        for name in names:
            table = parquet.read(columns=[name], use_pandas_metadata=False)
            parts[name] = table.to_pandas(self_destruct=True, split_blocks=True).iloc[:, 0]
            del table
            release_unused_memory()
    return pd.DataFrame(parts, copy=False)


@contextmanager
def local_copy(store: ArtifactStore, ref: ArtifactRef) -> Iterator[Path]:
    """The Parquet artifact at ``ref`` as a local file (sha256 checked), removed after the block.

    For a task that reads one artifact in several passes: it is downloaded and checked once.
    """
    with tempfile.TemporaryDirectory(prefix="retrain-") as tmp:
        yield store.download_file(ref, Path(tmp) / "frame.parquet")


def read_column(path: Path, column: str) -> np.ndarray:
    """One column of a local Parquet file as a numpy array (its own memory, not Arrow's)."""
    values = np.array(pq.read_table(path, columns=[column]).column(0).to_pandas().to_numpy(), copy=True)
    release_unused_memory()
    return values


def read_matrix_file(
    path: Path, columns: list[str], target: str, rows: np.ndarray | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """A local feature matrix file as one float64 block (a DataFrame over a single array) and its target.

    Estimators turn the frame they fit into one float64 array; a frame of mixed float64 and
    float32 columns is copied to get it, so the frame and its copy are in memory together (at
    8M rows and 11 features, 512 + 704 MiB). Read straight into that array, the frame *is* the
    array: same values, same column names, one copy. With ``rows`` (positions), only those rows
    in that order (e.g. training rows, then the rows an estimator validates on). Row-major, so
    any run of rows is itself a contiguous array: fitting on a slice of rows copies nothing.
    """
    with pq.ParquetFile(path) as parquet:
        count = parquet.metadata.num_rows if rows is None else len(rows)
        values = np.empty((count, len(columns)), dtype="float64", order="C")
        for number, column in enumerate(columns):
            # A column at a time: Arrow holds one column, not the whole table, beside the array.
            column_values = parquet.read(columns=[column]).column(0).to_numpy(zero_copy_only=False)
            values[:, number] = column_values if rows is None else column_values[rows]
            del column_values
            release_unused_memory()
    y = read_column(path, target)
    return pd.DataFrame(values, columns=columns, copy=False), y if rows is None else y[rows]


def release_unused_memory() -> None:
    """Give the pages Arrow's allocator and the C heap keep for reuse back to the system.

    Arrow's allocator holds on to freed buffers; after a task drops a large frame that is
    hundreds of MiB of RSS the next big allocation does not reuse (measured: 345 MiB after
    reading a 10M-row window). glibc's heap keeps freed chunks below its (self-raising) mmap
    threshold, such as the megabyte temporaries of a stratified split or a chunked pass:
    ``malloc_trim`` hands them back (140 MiB after splitting 8M training rows).
    """
    pa.default_memory_pool().release_unused()
    if _malloc_trim is not None:
        _malloc_trim(0)


def _libc_malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


_malloc_trim = _libc_malloc_trim()
