"""Write synthetic days into the landing layout ``<prefix>/<dataset>/ds=YYYY-MM-DD/part-0.<ext>``."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pandas as pd

from include.retrain.config import DatasetConfig

DayGenerator = Callable[[date, int], pd.DataFrame]


def partition_key(dataset: DatasetConfig, day: date, fmt: str | None = None) -> str:
    """The key of the single data file written for ``day``."""
    extension = fmt or dataset.format
    return f"{dataset.landing_prefix}ds={day.isoformat()}/part-0.{extension}"


def encode_frame(frame: pd.DataFrame, fmt: str, delimiter: str = ",") -> bytes:
    """Serialize a frame as landing data would arrive: Parquet, or UTF-8 CSV with ISO dates."""
    buffer = io.BytesIO()
    if fmt == "parquet":
        frame.to_parquet(buffer, index=False)
    else:
        # Dates as YYYY-MM-DD; a column with a time of day keeps it (to_csv's date_format would cut
        # every datetime to its day, so a datetime column's hours never reached the landing data).
        timed = {
            name: column.dt.strftime("%Y-%m-%dT%H:%M:%S")
            for name, column in frame.items()
            if pd.api.types.is_datetime64_any_dtype(column.dtype)
            and (column.dropna() != column.dropna().dt.normalize()).any()
        }
        frame.assign(**timed).to_csv(buffer, index=False, date_format="%Y-%m-%d", sep=delimiter)
    return buffer.getvalue()


def as_landed(frame: pd.DataFrame, dataset: DatasetConfig) -> pd.DataFrame:
    """A generated day (columns under their schema names) with the headers the landing files carry."""
    headers = {name: header for header, name in dataset.landing_renames.items()}
    return frame.rename(columns=headers) if headers else frame


def landed_bytes(frame: pd.DataFrame, dataset: DatasetConfig, fmt: str | None = None) -> bytes:
    """A generated day as the dataset's landing file: its headers (``landing_name``), format and CSV dialect."""
    return encode_frame(as_landed(frame, dataset), fmt or dataset.format, dataset.csv.delimiter)


def write_days(
    client: Any,
    dataset: DatasetConfig,
    generator: DayGenerator,
    *,
    first_day: date,
    days: int,
    rows_per_day: int,
    fmt: str | None = None,
) -> list[str]:
    """Generate and upload ``days`` consecutive daily partitions; returns the keys written."""
    keys = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        key = partition_key(dataset, day, fmt)
        body = landed_bytes(generator(day, rows_per_day), dataset, fmt)
        client.put_object(Bucket=dataset.bucket, Key=key, Body=body)
        keys.append(key)
    return keys


def delete_prefix(client: Any, bucket: str, prefix: str) -> None:
    """Delete every object under ``prefix`` (the loopback server keeps objects in memory)."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
