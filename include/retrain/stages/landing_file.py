"""One landing file read into a frame: Parquet, or CSV in the dataset's dialect (``dataset.csv``).

Pure: a local file in, a frame out. Unreadable input is a data failure naming the file's S3 URI
(``source``), never a parser traceback.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from include.retrain.config import CsvConfig
from include.retrain.errors import DataFailure


def read_landing_file(
    path: Path, fmt: str, source: str, columns: list[str] | None = None, csv: CsvConfig | None = None
) -> pd.DataFrame:
    """Read one landing file; unreadable input raises DataFailure naming ``source``.

    ``columns`` selects Parquet columns (missing ones are left out); ``csv`` is the CSV dialect
    (default: comma-separated, pandas' missing-value markers).
    """
    if fmt == "parquet":
        return _read_parquet(path, source, columns)
    return _read_csv(path, source, csv or CsvConfig())


def _read_parquet(path: Path, source: str, columns: list[str] | None) -> pd.DataFrame:
    try:
        schema = pq.read_schema(path)
        wanted = [c for c in columns if c in schema.names] if columns else None
        # split blocks: each column its own array, so assemble_window can release them one by one
        return pq.read_table(path, columns=wanted).to_pandas(split_blocks=True)
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DataFailure(f"landing file {source} is not readable Parquet (corrupt or truncated): {exc}") from exc


def _read_csv(path: Path, source: str, csv: CsvConfig) -> pd.DataFrame:
    _check_csv_complete(path, source, csv.delimiter)
    try:
        return pd.read_csv(
            path,
            sep=csv.delimiter,
            encoding="utf-8",
            dtype=str,
            keep_default_na=True,
            na_values=list(csv.missing_values),
            skipinitialspace=csv.skip_initial_space,
            engine="c",
        )
    except UnicodeDecodeError as exc:
        raise DataFailure(f"landing file {source} is not valid UTF-8 CSV: {exc.reason} at byte {exc.start}") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataFailure(f"landing file {source} is not well-formed CSV: {exc}") from exc


def _check_csv_complete(path: Path, source: str, delimiter: str) -> None:
    """A CSV whose last line lacks its newline and has fewer fields than the header was cut short."""
    size = path.stat().st_size
    if size == 0:
        raise DataFailure(f"landing file {source} is empty")
    with open(path, "rb") as handle:
        header = handle.readline()
        handle.seek(max(0, size - 65536))
        tail = handle.read()
    if tail.endswith(b"\n"):
        return
    separator = delimiter.encode()
    last_line = tail.rsplit(b"\n", 1)[-1]
    if last_line.count(separator) < header.count(separator):
        raise DataFailure(
            f"landing file {source} is truncated: its last line has {last_line.count(separator) + 1} fields "
            f"where the header has {header.count(separator) + 1}, and no final newline"
        )
