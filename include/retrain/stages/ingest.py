"""Ingest: choose the landing files inside the training window, read them, coerce to the schema.

Pure functions: they see an object listing and local files, never the store. Landing layout
(DESIGN.md): ``<prefix>/<dataset>/ds=YYYY-MM-DD/<files>`` in CSV or Parquet.

Coercion is deliberately forgiving: a column that cannot be converted to its declared type is
left as it is, so ``validate_raw`` can report the wrong dtype by name instead of ingest
failing with a conversion traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from include.retrain.config import ColumnSpec, DatasetConfig
from include.retrain.errors import DataFailure
from include.retrain.frames import release_unused_memory
from include.retrain.runs import TrainingWindow

_PARTITION_RE = re.compile(r"^ds=(\d{4}-\d{2}-\d{2})$")
_EXTENSIONS = {"parquet": (".parquet", ".pq"), "csv": (".csv",)}

#: pandas dtypes the ingest produces for each declared type (and ``validate_raw`` expects).
PANDAS_DTYPES: dict[str, str] = {
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "string": "str",
    "category": "category",
    "date": "datetime64[us]",
    "datetime": "datetime64[us]",
}


#: The spellings a bool column accepts (after stripping and lower-casing text), as published tables write them.
_BOOL_VALUES: dict[object, bool] = {
    True: True,
    False: False,
    **dict.fromkeys(("true", "t", "yes", "y", "1", "1.0"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0", "0.0"), False),
}


@dataclass(frozen=True)
class LandingFile:
    """One data file in the landing zone."""

    key: str
    partition: date
    size: int


def _partition_day(folder: str) -> date | None:
    """The day of a ``ds=YYYY-MM-DD`` folder name, None if the name is not one (or no such day)."""
    match = _PARTITION_RE.match(folder)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:  # ds=2026-13-40: the shape of a date, not a day
        return None


def landing_files(listing: Iterable[tuple[str, int]], dataset: DatasetConfig) -> list[LandingFile]:
    """Every data file of the dataset in a ``(key, size)`` listing, sorted by partition and key.

    Ignores markers and hidden files (``_SUCCESS``, ``.tmp``), files of another format and
    keys outside the ``ds=YYYY-MM-DD`` layout (see :func:`malformed_folders` for the latter).
    """
    base = dataset.landing_prefix
    found = []
    for key, size in listing:
        if not key.startswith(base):
            continue
        parts = key[len(base) :].split("/")
        if len(parts) != 2 or (partition := _partition_day(parts[0])) is None:
            continue
        filename = parts[1]
        if not filename or filename.startswith((".", "_")) or not filename.endswith(_EXTENSIONS[dataset.format]):
            continue
        found.append(LandingFile(key=key, partition=partition, size=size))
    return sorted(found, key=lambda f: (f.partition, f.key))


def malformed_folders(listing: Iterable[tuple[str, int]], dataset: DatasetConfig) -> list[str]:
    """Folders right under the dataset prefix that ingest skips because they are no ``ds=YYYY-MM-DD`` day.

    ``ds=2026-13-40/``, ``ds=yesterday/`` or ``2026-01-05/`` hold files nobody will train on; they
    are listed (sorted, with a trailing slash) so the ingest manifest and the raw gate report say
    so. Hidden folders (``.``, ``_``: e.g. a writer's ``_temporary/``) are not data and not listed.
    """
    base = dataset.landing_prefix
    folders = set()
    for key, _size in listing:
        if not key.startswith(base):
            continue
        parts = key[len(base) :].split("/")
        if len(parts) < 2 or not parts[0] or parts[0].startswith((".", "_")):
            continue
        if _partition_day(parts[0]) is None:
            folders.add(parts[0] + "/")
    return sorted(folders)


def select_window_files(
    listing: Iterable[tuple[str, int]], dataset: DatasetConfig, window: TrainingWindow
) -> list[LandingFile]:
    """The data files of the window's partitions; raises DataFailure for an oversized file."""
    limit = int(dataset.max_file_mb * 1024 * 1024)
    selected = [f for f in landing_files(listing, dataset) if window.contains(f.partition)]
    for landing_file in selected:
        if landing_file.size > limit:
            raise DataFailure(
                f"landing file s3://{dataset.bucket}/{landing_file.key} is {landing_file.size / 1024 / 1024:.1f} MiB, "
                f"over the dataset.max_file_mb limit of {dataset.max_file_mb:g} MiB"
            )
    return selected


def empty_window_failure(
    listing: Iterable[tuple[str, int]], dataset: DatasetConfig, window: TrainingWindow
) -> DataFailure:
    """The failure for a window without data files: the window, where ingest looked, what is there.

    Names the oldest and newest partitions that hold data (or says there are none), so the
    person who triggered the run sees at once whether to move ``window_end`` or land the data.
    """
    days = sorted({f.partition for f in landing_files(listing, dataset)})
    where = f"no landing data in the training window {window} under {dataset.landing_uri}"
    if days:
        found = (
            f"its partitions run from ds={days[0].isoformat()} (oldest) to ds={days[-1].isoformat()} (newest), "
            f"{len(days)} days with {dataset.format} files"
        )
    else:
        found = f"no ds=YYYY-MM-DD partition with {dataset.format} files exists there"
    hint = "Land the window's partitions, or trigger with the Param window_end (the window ends the day before it)."
    return DataFailure(f"{where}: {found}. {hint}")


def newest_partition(listing: Iterable[tuple[str, int]], dataset: DatasetConfig) -> date | None:
    """The latest ``ds`` partition that holds at least one data file, if any."""
    files = landing_files(listing, dataset)
    return files[-1].partition if files else None


def assemble_window(frames: list[tuple[date, pd.DataFrame]], partition_column: str) -> pd.DataFrame:
    """Concatenate per-file frames, adding the partition date as ``partition_column``.

    Consumes ``frames`` (the list is emptied and each frame's columns are taken out of it): when
    every file has the same columns, the window is concatenated a column at a time and each
    file's copy of a column is released as soon as it is in the window, so the window is never
    in memory twice (at 10M rows, about 700 MiB of peak RSS). The result is ``pd.concat``'s.
    """
    parts = []
    for partition, frame in frames:
        frame[partition_column] = np.full(len(frame), np.datetime64(partition, "us"))
        parts.append(frame)
    frames.clear()  # the window's columns are released from ``parts`` below; the caller keeps no copy
    if not parts:
        return pd.DataFrame({partition_column: pd.Series([], dtype="datetime64[us]")})
    names = list(parts[0].columns)
    if any(list(part.columns) != names for part in parts) or len(set(names)) != len(names):
        return pd.concat(parts, ignore_index=True)  # columns differ between files: pandas aligns them
    window = {}
    for name in names:
        window[name] = pd.concat([part.pop(name) for part in parts], ignore_index=True)
        release_unused_memory()  # the files' columns may be Arrow's buffers, kept by its allocator when freed
    return pd.DataFrame(window, copy=False)


def coerce_to_schema(frame: pd.DataFrame, columns: Mapping[str, ColumnSpec]) -> pd.DataFrame:
    """Convert declared columns to their pandas dtypes where the values allow it.

    Columns that cannot be converted cleanly (a string in an int column, a fraction in an int
    column) keep their original dtype for ``validate_raw`` to report. Undeclared and missing
    columns are left alone: the schema gate names them.
    """
    out = frame.copy(deep=False)
    for name, spec in columns.items():
        if name in out.columns:
            converted = _convert(out[name], spec.type)
            if converted is not None:
                out[name] = converted
    return out


def _convert(series: pd.Series, kind: str) -> pd.Series | None:
    """``series`` as the pandas dtype of column type ``kind``, or None where it does not convert cleanly."""
    target = PANDAS_DTYPES[kind]
    if str(series.dtype) == target:
        return series
    try:
        if kind in ("int", "float"):
            return _convert_numeric(series, kind, target)
        if kind == "bool":
            return _convert_bool(series, target)
        if kind in ("date", "datetime"):
            return _convert_dates(series, kind, target)
        if kind == "category":
            return series.astype("str").astype("category") if series.dtype != "category" else series
        return series.astype(target)
    except (ValueError, TypeError, OverflowError, AttributeError):
        return None


def _convert_numeric(series: pd.Series, kind: str, target: str) -> pd.Series | None:
    """An int or float column; None for an int column holding a fraction (raises on non-numbers)."""
    numeric = pd.to_numeric(series, errors="raise")
    if kind == "int":
        finite = numeric.dropna()
        if not np.all(np.equal(np.mod(finite.to_numpy(dtype="float64"), 1), 0)):
            return None
    return numeric.astype(target)


def _convert_bool(series: pd.Series, target: str) -> pd.Series | None:
    """A bool column; None when a value is not one of the accepted true/false spellings."""
    if series.dtype == bool:
        return series.astype(target)
    # Strings from CSV, or Python bools with None from Parquet written without pandas.
    normalized = series.map(lambda v: v.strip().lower() if isinstance(v, str) else v)
    mapped = normalized.map(_BOOL_VALUES)
    if mapped.isna().sum() != series.isna().sum():
        return None
    return mapped.astype(target)


def _convert_dates(series: pd.Series, kind: str, target: str) -> pd.Series:
    """A date or datetime column (a datetime is read as UTC and kept naive); raises when unparseable."""
    parsed = pd.to_datetime(series, errors="raise", utc=kind == "datetime")
    if kind == "datetime":
        parsed = parsed.dt.tz_localize(None)
    return parsed.astype(target)


def sample_rows(frame: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """A deterministic sample (the same rows on every re-run) of ``fraction`` of the rows."""
    if fraction >= 1.0:
        return frame
    return frame.sample(frac=fraction, random_state=seed).sort_index().reset_index(drop=True)
