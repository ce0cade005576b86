"""DataFrames as Parquet artifacts in the store (zstd, via a temporary local file)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from include.retrain.storage import ArtifactRef, ArtifactStore

PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"


def write_frame(store: ArtifactStore, key: str, frame: pd.DataFrame) -> ArtifactRef:
    """Write ``frame`` as Parquet at ``key`` and return its ref (with sha256)."""
    with tempfile.TemporaryDirectory(prefix="retrain-") as tmp:
        path = Path(tmp) / "frame.parquet"
        frame.to_parquet(path, index=False, compression="zstd")
        return store.put_file(key, path, content_type=PARQUET_CONTENT_TYPE)


def read_frame(store: ArtifactStore, ref: ArtifactRef, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a Parquet artifact after checking its sha256; optionally only some columns."""
    with tempfile.TemporaryDirectory(prefix="retrain-") as tmp:
        path = store.download_file(ref, Path(tmp) / "frame.parquet")
        return pq.read_table(path, columns=columns).to_pandas()
